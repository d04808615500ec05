"""The facts a draft is written from: frozen records the warehouse fills in (`warehouse/drafts.py`)
and the renderer only reads, so the renderer stays a pure function that tests can feed by hand."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from models.logs.excerpt import ExcerptLine


@dataclass(frozen=True, slots=True)
class IncidentFacts:
    incident_id: str
    created_at: dt.datetime
    provider: str = "pagerduty"
    number: int | None = None
    title: str | None = None
    service: str | None = None
    team: str | None = None
    priority: str | None = None
    urgency: str | None = None
    status: str | None = None
    resolved_at: dt.datetime | None = None
    duration_min: float | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class RelatedRepo:
    repo: str
    reason: str  # why the repository was considered, in words
    # "service_name", "incident_details" or "deploy_timing": only the first two name the service.
    kind: str = "service_name"


@dataclass(frozen=True, slots=True)
class Recurrence:
    occurrence: int
    prior_failures: int
    first_seen: dt.datetime | None = None
    prior_ticket_keys: tuple[str, ...] = ()
    prior_postmortem_ids: tuple[str, ...] = ()
    fix_ticket_key: str | None = None
    fix_resolved_at: dt.datetime | None = None
    fix_did_not_hold: bool = False
    message: str | None = None


@dataclass(frozen=True, slots=True)
class ClusterLink:
    link_type: str  # ticket, postmortem, incident
    target_id: str
    evidence: str
    linked_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class CiFailure:
    job_id: int
    repo: str
    job_name: str
    failed_at: dt.datetime
    provider: str = "github"
    run_id: int | None = None
    workflow: str | None = None
    branch: str | None = None
    sha: str | None = None
    conclusion: str = "failure"
    failed_step: str | None = None
    url: str | None = None
    run_url: str | None = None
    fingerprint: str | None = None
    cluster_id: str | None = None
    excerpt: tuple[ExcerptLine, ...] = ()
    excerpt_notes: tuple[str, ...] = ()
    analysed: bool = False  # a models.failure_excerpts row exists for the job
    recurrence: Recurrence | None = None
    links: tuple[ClusterLink, ...] = ()


@dataclass(frozen=True, slots=True)
class CiRecovery:
    repo: str
    job_name: str
    completed_at: dt.datetime
    workflow: str | None = None
    branch: str | None = None
    sha: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class CiActivity:
    repo: str
    jobs: int
    failures: int


@dataclass(frozen=True, slots=True)
class DeploymentFacts:
    deployment_id: int
    repo: str
    created_at: dt.datetime
    provider: str = "github"
    environment: str | None = None
    production: bool = False
    sha: str | None = None
    ref: str | None = None
    final_state: str | None = None
    finished_at: dt.datetime | None = None
    failed: bool = False
    url: str | None = None
    target_url: str | None = None
    job_id: int | None = None  # the CI job that ran the deploy, when it can be matched


@dataclass(frozen=True, slots=True)
class TicketFacts:
    ticket_key: str
    created_at: dt.datetime | None
    provider: str | None = None
    url: str | None = None
    title: str | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class TicketEventFacts:
    ticket_key: str
    occurred_at: dt.datetime
    kind: str  # change or comment
    field: str | None = None
    from_value: str | None = None
    to_value: str | None = None


@dataclass(frozen=True, slots=True)
class SlackMessageFacts:
    """A message of the incident's Slack channel (core.incident_timeline), to the microsecond."""

    channel: str
    posted_at: dt.datetime
    ts: str
    user: str | None = None
    text: str | None = None  # redacted when it was fetched
    is_reply: bool = False
    subtype: str | None = None
    link_kind: str = "channel_number"


@dataclass(frozen=True, slots=True)
class PagerDutyEventFacts:
    """A PagerDuty log entry of the incident: trigger, acknowledge, escalate, annotate, resolve."""

    at: dt.datetime
    type: str
    summary: str | None = None
    agent: str | None = None


@dataclass(frozen=True, slots=True)
class DraftInput:
    incident: IncidentFacts
    window_start: dt.datetime
    window_end: dt.datetime
    window_hours: float = 24.0
    repos: tuple[RelatedRepo, ...] = ()
    ci_activity: tuple[CiActivity, ...] = ()
    failures: tuple[CiFailure, ...] = ()
    recoveries: tuple[CiRecovery, ...] = ()
    deployments: tuple[DeploymentFacts, ...] = ()
    tickets: tuple[TicketFacts, ...] = ()
    ticket_events: tuple[TicketEventFacts, ...] = ()
    slack_messages: tuple[SlackMessageFacts, ...] = ()
    pagerduty_events: tuple[PagerDutyEventFacts, ...] = ()
    slo_priority_weeks: float = 4.0
    slo_other_weeks: float = 8.0
    notes: tuple[str, ...] = ()  # what the warehouse could not provide, shown in the draft


@dataclass(frozen=True, slots=True)
class Draft:
    markdown: str
    timeline_rows: int  # table rows written in the timeline, placeholders included
    conditions: int  # bullets in the contributing conditions list, placeholders included
    candidate_conditions: int
    action_items: int  # pre-filled action item rows (what the parser counts)
    blank_action_rows: int  # all-_TBD_ rows; the parser skips them as template placeholders
    criteria: tuple[str, ...]  # verification criteria written
    omitted_timeline_rows: int = 0


__all__ = [
    "CiActivity",
    "CiFailure",
    "CiRecovery",
    "ClusterLink",
    "DeploymentFacts",
    "Draft",
    "DraftInput",
    "ExcerptLine",
    "IncidentFacts",
    "Recurrence",
    "RelatedRepo",
    "SlackMessageFacts",
    "TicketEventFacts",
    "TicketFacts",
]
