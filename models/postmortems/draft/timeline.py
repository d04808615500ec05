"""The Timeline part: deploys, CI failures and recoveries, the PagerDuty incident, ticket
activity and the incident's Slack messages as one table per day, written so the parser reads
every time back exactly (Slack messages to the second)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..model import PART_LABELS
from .evidence import failure_by_job, incident_label, is_primary, job_label
from .records import CiFailure, DeploymentFacts, DraftInput, SlackMessageFacts
from .text import TBD, blameless, cell, code, hm, hms, link, md, safe_text, sha7, slack_plain, utc

MAX_TIMELINE_ROWS = 80
# A busy incident channel must not push deploys and failures out of the table.
MAX_SLACK_ROWS = 40
# `order` of the incident's own row: the Slack placeholder row follows the first such row.
_OUTAGE_BEGINS = 5


@dataclass(frozen=True, slots=True)
class Row:
    at: dt.datetime | None
    order: int  # tie-break at the same minute: causes before effects
    text: str
    keep: int = 0  # lower is dropped first when the timeline is too long
    seconds: bool = False  # the time is exact to the second (Slack), so it is written so


def _deploy_finished_row(
    dep: DeploymentFacts, at: dt.datetime, env: str, failures: dict[int, CiFailure]
) -> Row:
    """The deploy's outcome, linked to the CI job that ran it (else to its log)."""
    job = failures.get(dep.job_id) if dep.job_id is not None else None
    job_ref = ""
    if job is not None:
        job_ref = f"; CI job {link(md(job_label(job), 80), job.url)}"
    elif dep.target_url:
        job_ref = f"; {link('log', dep.target_url)}"
    if dep.failed:
        text = (
            f"**Deploy of {sha7(dep.sha)} to {env} FAILED** on {md(dep.repo)} "
            f"(state {md(dep.final_state, 30)}{job_ref})"
        )
        keep = 5 if dep.production else 4
    else:
        text = (
            f"Deploy of {sha7(dep.sha)} to {env} finished on {md(dep.repo)} "
            f"(state {md(dep.final_state, 30)}{job_ref})"
        )
        keep = 3
    return Row(at, 2, text, keep)


def _deploy_rows(d: DraftInput) -> list[Row]:
    rows: list[Row] = []
    failures = failure_by_job(d)
    for dep in d.deployments:
        if not dep.production and not is_primary(d, dep.repo):
            continue  # the repository is here for its production deploys only
        env = md(dep.environment or ("production" if dep.production else "an environment"), 60)
        what = f"{sha7(dep.sha)}" + (f" ({md(dep.ref, 60)})" if dep.ref else "")
        dep_link = link(f"deployment {dep.deployment_id}", dep.url)
        started = f"Deploy of {what} to {env} started on {md(dep.repo)} ({dep_link})"
        rows.append(Row(dep.created_at, 1, started, 3))
        if dep.finished_at is not None and dep.final_state:
            rows.append(_deploy_finished_row(dep, dep.finished_at, env, failures))
    return rows


def _failure_rows(d: DraftInput) -> list[Row]:
    deploy_jobs = {dep.job_id for dep in d.deployments if dep.job_id is not None}
    rows: list[Row] = []
    for f in d.failures:
        if f.job_id in deploy_jobs:
            continue  # shown as the deploy's own row
        step = f"; step {code(f.failed_step, 60)}" if f.failed_step else ""
        branch = f"{md(f.branch, 60)}, " if f.branch else ""
        verb = "timed out" if f.conclusion == "timed_out" else "failed"
        text = (
            f"CI job {code(job_label(f))} {verb} on {md(f.repo)} ({branch}{sha7(f.sha)}{step}; "
            f"{link('job', f.url or f.run_url)})"
        )
        rows.append(Row(f.failed_at, 2, text, 2))
    return rows


def _recovery_rows(d: DraftInput) -> list[Row]:
    return [
        Row(
            r.completed_at,
            3,
            f"CI job {code(job_label(r))} passed again on {md(r.repo)} ({sha7(r.sha)}; {link('job', r.url)})",
            1,
        )
        for r in d.recoveries
    ]


def _incident_rows(d: DraftInput) -> list[Row]:
    inc = d.incident
    label = incident_label(inc)
    title = safe_text(inc.title, "see PagerDuty", 160)
    detail = ", ".join(
        x
        for x in (
            md(inc.priority, 20) if inc.priority else "",
            f"{md(inc.urgency, 20)} urgency" if inc.urgency else "",
        )
        if x
    )
    begins = f"OUTAGE BEGINS — PagerDuty incident {link(label, inc.url)} triggered: {title}" + (
        f" ({detail})" if detail else ""
    )
    if inc.provider != "pagerduty":  # an incident ticket opened for a failed production deploy
        begins = f"INCIDENT OPENED — {link(label, inc.url)}: {title}"
    rows = [Row(inc.created_at, _OUTAGE_BEGINS, begins, 9)]
    if inc.resolved_at is not None:
        rows.append(Row(inc.resolved_at, 9, f"OUTAGE ENDS — PagerDuty incident {label} resolved", 9))
    return rows


def _ticket_rows(d: DraftInput) -> list[Row]:
    """Tickets created in the window, then the changes and comments on those tickets."""
    rows: list[Row] = []
    tickets = {t.ticket_key for t in d.tickets}
    for t in d.tickets:
        if t.created_at is None:
            continue
        title_t = safe_text(t.title, "see the ticket", 160)
        rows.append(Row(t.created_at, 6, f"Ticket {link(md(t.ticket_key, 40), t.url)} created: {title_t}", 7))
    for ev in d.ticket_events:
        key = md(ev.ticket_key, 40)
        if ev.kind == "comment":
            text = f"{key}: comment added"
        else:
            field = md(ev.field or "field", 40)
            old = md(ev.from_value, 60) if ev.from_value else "(none)"
            new = md(ev.to_value, 60) if ev.to_value else "(none)"
            text = f"{key} {field}: {old} → {new}"
        if ev.ticket_key in tickets:
            rows.append(Row(ev.occurred_at, 7, text, 6))
    return rows


def _slack_text(m: SlackMessageFacts) -> str:
    channel = md(f"#{m.channel}", 60)
    who = md(m.user, 40) if m.user else "someone"
    if m.subtype in ("channel_join", "group_join"):
        return f"Slack {channel}: {who} joined the channel"
    if m.subtype in ("channel_leave", "group_leave"):
        return f"Slack {channel}: {who} left the channel"
    body = md(slack_plain(m.text), 160)
    if not body or not blameless(body):
        body = "message posted (see Slack)"
    where = f"{channel} (thread reply)" if m.is_reply else channel
    return f"Slack {where} — {who}: {body}"


def _slack_rows(d: DraftInput) -> tuple[list[Row], int]:
    """The incident channel's messages, exact to the second; replies and joins give way first."""
    rows = []
    for m in d.slack_messages:
        keep = 1 if m.subtype in ("channel_join", "group_join", "channel_leave", "group_leave") \
            else 3 if m.is_reply else 4
        rows.append(Row(m.posted_at, 8, _slack_text(m), keep, seconds=True))
    return trim(rows, MAX_SLACK_ROWS)


# PagerDuty log entry types worth a timeline row, and how much each is worth keeping.
_PAGERDUTY_KEEP = {"acknowledge_log_entry": 5, "escalate_log_entry": 4, "assign_log_entry": 4,
                   "annotate_log_entry": 4, "reach_trigger_limit_log_entry": 3,
                   "notify_log_entry": 2}


def _pagerduty_rows(d: DraftInput) -> list[Row]:
    """The on-call side: who acknowledged, escalations and notes, to the second. The trigger
    and the resolution are the incident's own rows already."""
    rows = []
    for e in d.pagerduty_events:
        keep = _PAGERDUTY_KEEP.get(e.type)
        if keep is None:
            continue
        summary = md(e.summary or e.type.removesuffix("_log_entry").replace("_", " "), 160)
        if not blameless(summary):
            summary = md(e.type.removesuffix("_log_entry").replace("_", " "), 40)
        rows.append(Row(e.at, 6, f"PagerDuty: {summary}", keep, seconds=True))
    return rows


def timeline_rows(d: DraftInput) -> list[Row]:
    """Every candidate row, unsorted; the order here only breaks ties when trimming."""
    slack, _ = _slack_rows(d)
    return [*_deploy_rows(d), *_failure_rows(d), *_recovery_rows(d), *_incident_rows(d),
            *_pagerduty_rows(d), *_ticket_rows(d), *slack]


def trim(rows: list[Row], limit: int) -> tuple[list[Row], int]:
    """Keep at most `limit` rows, dropping the least telling first (then the oldest of them)."""
    if len(rows) <= limit:
        return rows, 0
    ranked = sorted(range(len(rows)), key=lambda i: (rows[i].keep, utc(rows[i].at or dt.datetime.min)))
    drop = set(ranked[: len(rows) - limit])
    return [r for i, r in enumerate(rows) if i not in drop], len(drop)


def _sort_key(r: Row, default: dt.datetime) -> tuple[dt.datetime, dt.datetime, int]:
    """By the time as written (minute, or second for Slack), so the table reads in order."""
    at = utc(r.at) if r.at else utc(default)
    shown = at.replace(microsecond=0) if r.seconds else at.replace(second=0, microsecond=0)
    return shown, at, r.order


def timeline_section(d: DraftInput) -> tuple[list[str], int, int]:
    """The Timeline lines, the table rows written (placeholder included) and the rows omitted."""
    inc = d.incident
    _, slack_omitted = _slack_rows(d)
    # Without Slack data one row is left for the placeholder asking for it.
    has_slack = bool(d.slack_messages)
    rows, omitted = trim(timeline_rows(d), MAX_TIMELINE_ROWS - (0 if has_slack else 1))
    omitted += slack_omitted
    rows.sort(key=lambda r: _sort_key(r, inc.created_at))
    slack = (
        f"| {TBD} | {TBD} — Slack: incident channel opened, responders joined, status page "
        "updated (Slack timestamps are not in the warehouse yet; add them here) |"
    )
    out = [f"## {PART_LABELS['timeline']}", ""]
    written = 0
    day: dt.date | None = None
    slack_done = has_slack
    for r in rows:
        at = utc(r.at) if r.at else utc(inc.created_at)
        if at.date() != day:
            if day is not None:
                out.append("")
            day = at.date()
            out += [f"{day.isoformat()} (all times UTC)", "", "| Time (UTC) | Event |", "|---|---|"]
        out.append(f"| {hms(at) if r.seconds else hm(at)} | {cell(r.text)} |")
        written += 1
        if r.order == _OUTAGE_BEGINS and not slack_done:
            out.append(slack)
            written += 1
            slack_done = True
    out.append("")
    return out, written, omitted
