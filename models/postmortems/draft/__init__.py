"""A Markdown postmortem draft pre-populated from warehouse facts, so the review meeting is spent
on analysis rather than on collecting timestamps.

The renderer is a pure function of the frozen records in `records` (the warehouse fills them in
`warehouse/drafts.py`). The draft is written so that `parse_postmortem` finds all five parts and
`lint` reports only what the meeting must decide: action items without owner or ticket.

Modules, in the order the draft is written: `header` (title, metadata, Impact), `timeline`,
`signals` (Contributing CI signals), `conditions`, `actions`, `criteria` (Verification); `render`
puts them together. `evidence` and `text` are the helpers they share.
"""

from .actions import BLANK_ACTION_ROWS, MAX_PREFILLED_ACTIONS
from .conditions import MAX_CANDIDATE_CONDITIONS
from .criteria import PASS_RATE_TARGET, VERIFY_WINDOW_DAYS
from .evidence import excerpt_headline
from .records import (
    CiActivity,
    CiFailure,
    CiRecovery,
    ClusterLink,
    DeploymentFacts,
    Draft,
    DraftInput,
    ExcerptLine,
    IncidentFacts,
    PagerDutyEventFacts,
    Recurrence,
    RelatedRepo,
    SlackMessageFacts,
    TicketEventFacts,
    TicketFacts,
)
from .render import render_draft
from .signals import MAX_CI_SIGNALS, MAX_EXCERPT_LINES
from .text import TBD
from .timeline import MAX_SLACK_ROWS, MAX_TIMELINE_ROWS

__all__ = [
    "BLANK_ACTION_ROWS",
    "MAX_CANDIDATE_CONDITIONS",
    "MAX_CI_SIGNALS",
    "MAX_EXCERPT_LINES",
    "MAX_PREFILLED_ACTIONS",
    "MAX_SLACK_ROWS",
    "MAX_TIMELINE_ROWS",
    "PASS_RATE_TARGET",
    "TBD",
    "VERIFY_WINDOW_DAYS",
    "CiActivity",
    "CiFailure",
    "CiRecovery",
    "ClusterLink",
    "DeploymentFacts",
    "Draft",
    "DraftInput",
    "ExcerptLine",
    "IncidentFacts",
    "PagerDutyEventFacts",
    "Recurrence",
    "RelatedRepo",
    "SlackMessageFacts",
    "TicketEventFacts",
    "TicketFacts",
    "excerpt_headline",
    "render_draft",
]
