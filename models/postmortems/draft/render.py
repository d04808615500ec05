"""`render_draft`: the draft as a list of sections, top to bottom, and the counts the parser
should read back from it (the tests and the command check the round trip)."""

from __future__ import annotations

from .actions import BLANK_ACTION_ROWS, action_table, actions
from .conditions import PLACEHOLDER_CONDITIONS, conditions_section
from .criteria import verification_section
from .header import header, impact_section, summary_sections
from .records import Draft, DraftInput
from .signals import ci_signals_section
from .timeline import timeline_section


def render_draft(d: DraftInput) -> Draft:
    """The draft postmortem for one incident, and the counts the parser should read back."""
    lines = header(d)
    lines += summary_sections()
    lines += impact_section(d)
    timeline, timeline_rows, omitted = timeline_section(d)
    lines += timeline
    signals, shown = ci_signals_section(d)
    lines += signals
    conditions, candidates = conditions_section(d, shown)
    lines += conditions
    items = actions(d)
    lines += action_table(d, items)
    criteria = list(dict.fromkeys(a.verification for a in items))
    lines += verification_section(criteria)
    markdown = "\n".join(lines).rstrip("\n") + "\n"
    return Draft(
        markdown=markdown,
        timeline_rows=timeline_rows,
        conditions=candidates + len(PLACEHOLDER_CONDITIONS),
        candidate_conditions=candidates,
        action_items=len(items),
        blank_action_rows=BLANK_ACTION_ROWS,
        criteria=tuple(criteria),
        omitted_timeline_rows=omitted,
    )
