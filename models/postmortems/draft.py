"""A Markdown postmortem draft pre-populated from warehouse facts, so the review meeting is spent
on analysis rather than on collecting timestamps.

The renderer is a pure function of the frozen dataclasses below (the warehouse fills them in
`warehouse/drafts.py`). The draft is written so that `parse_postmortem` finds all five parts and
`lint` reports only what the meeting must decide: action items without owner or ticket.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .blame import find_blame
from .verification import parse_criterion

TBD = "_TBD_"
# More candidate conditions than this would push the list past the linter's 3-7 range once
# the three placeholders are added.
MAX_CANDIDATE_CONDITIONS = 4
MAX_CI_SIGNALS = 8
MAX_TIMELINE_ROWS = 80
MAX_PREFILLED_ACTIONS = 5
BLANK_ACTION_ROWS = 3
MAX_EXCERPT_LINES = 12
PASS_RATE_TARGET = "95%"
VERIFY_WINDOW_DAYS = 30
_MAX_TEXT = 240
_FAILED_CONCLUSIONS = frozenset({"failure", "timed_out", "startup_failure"})
# Excerpt lines that say a step failed without saying why; a headline should say why.
_GENERIC_LINE_RE = re.compile(
    r"process completed with exit code|exited with (?:code|status)|^error: process|"
    r"^\W*error\W*$|^make(?:\[\d+\])?: \*\*\*|command failed with exit code|^##\[error\]\s*$|"
    r"^traceback \(most recent call last\)|^[\W_]{3,}.*[\W_]{3,}$|^\W*$",
    re.IGNORECASE,
)
# Lines that name an error (preferred as the headline over any other excerpt line).
_ERRORISH_RE = re.compile(
    r"\w*(?:error|exception)\b|^E\s+\S|\bfail(?:ed|ure)?\b|\bfatal\b|\bpanic\b|timed out|"
    r"\bassert|\bcannot\b|\bunable to\b|\brefused\b|\bdenied\b|\bnot found\b|oomkilled|"
    r"crashloopbackoff",
    re.IGNORECASE,
)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_WS_RE = re.compile(r"\s+")


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
class ExcerptLine:
    n: int
    text: str
    context: bool = False


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


# ---------------------------------------------------------------------------------------------
# Text helpers


def _utc(t: dt.datetime) -> dt.datetime:
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


def _hm(t: dt.datetime) -> str:
    return _utc(t).strftime("%H:%M")


def _stamp(t: dt.datetime) -> str:
    return _utc(t).strftime("%Y-%m-%d %H:%M UTC")


def _plain(text: str | None, limit: int = _MAX_TEXT) -> str:
    """One line of untrusted text: no control characters, no line breaks, bounded length."""
    s = _WS_RE.sub(" ", _CONTROL_RE.sub(" ", text or "")).strip()
    if len(s) > limit:
        s = s[: limit - 1].rstrip() + "…"
    return s


def _md(text: str | None, limit: int = _MAX_TEXT) -> str:
    """Untrusted text made inert for Markdown: no headings, emphasis, links or table breaks."""
    s = _plain(text, limit)
    s = re.sub(r"([\\`*_\[\]<|])", r"\\\1", s)
    return s


def _code(text: str | None, limit: int = 120) -> str:
    s = _plain(text, limit).replace("`", "'")
    return f"`{s}`" if s else ""


def _cell(text: str) -> str:
    """Table cell text: a pipe that is not escaped yet (inside code spans too) would split the row."""
    return re.sub(r"(?<!\\)\|", r"\\|", text)


def _link(label: str, url: str | None) -> str:
    if not url:
        return label
    safe = _plain(url, 500).replace(" ", "%20").replace("(", "%28").replace(")", "%29")
    return f"[{label}]({safe})"


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def _sha7(sha: str | None) -> str:
    return (sha or "")[:7] or "unknown commit"


def _blameless(text: str) -> bool:
    """True when the linter would not read the text as blame (checked on data we copy in)."""
    return not find_blame([(1, text)], ())


def _safe_text(text: str | None, fallback: str, limit: int = _MAX_TEXT) -> str:
    s = _md(text, limit)
    return s if s and _blameless(s) else fallback


def _minutes(a: dt.datetime, b: dt.datetime) -> float:
    return (_utc(b) - _utc(a)).total_seconds() / 60.0


def _relative(t: dt.datetime, ref: dt.datetime) -> str:
    """'12 minutes before the incident was created' / '3 hours after ...'."""
    m = _minutes(t, ref)
    word = "before" if m >= 0 else "after"
    m = abs(m)
    if m < 1:
        return "within a minute of the incident being created"
    if m < 120:
        amount = f"{round(m)} minute{'s' if round(m) != 1 else ''}"
    else:
        h = m / 60.0
        amount = f"{h:.1f} hours" if h < 48 else f"{h / 24:.1f} days"
    return f"{amount} {word} the incident was created"


def excerpt_headline(lines: Iterable[ExcerptLine]) -> str | None:
    """The excerpt line that best says why the job failed: the first specific error line."""
    lines = list(lines)
    errors = [ln for ln in lines if not ln.context and ln.text.strip()]
    specific = [ln for ln in errors if not _GENERIC_LINE_RE.search(ln.text.strip())]
    for ln in specific:
        if _ERRORISH_RE.search(ln.text):
            return _plain(ln.text, 200)
    if specific:
        return _plain(specific[0].text, 200)
    if errors:
        return _plain(errors[0].text, 200)
    return _plain(lines[0].text, 200) if lines else None


def _job_label(f: CiFailure | CiRecovery) -> str:
    return f"{f.workflow} / {f.job_name}" if f.workflow else f.job_name


def _criterion_for_job(job_name: str, repo: str) -> str | None:
    """A CI pass-rate criterion the verification parser reads back with this job as its scope."""
    name = _plain(job_name, 80).replace("`", "'")
    text = f"CI pass rate of {name} on {_plain(repo, 120)} > {PASS_RATE_TARGET} for {VERIFY_WINDOW_DAYS} days"
    c = parse_criterion(text)
    if c.checkable and c.metric == "ci_pass_rate" and c.scope and name.lower() in c.scope.lower():
        return text
    return None


def _repeat_criterion(inc: IncidentFacts) -> str:
    scope = _plain(inc.service, 80) if inc.service else None
    plain = f"Zero repeat incidents for {VERIFY_WINDOW_DAYS} days"
    if scope:
        text = f"Zero repeat incidents on {scope} for {VERIFY_WINDOW_DAYS} days"
        c = parse_criterion(text)
        if c.checkable and c.metric == "incident_count":
            return text
    return plain


# ---------------------------------------------------------------------------------------------
# Sections


@dataclass(frozen=True, slots=True)
class _Row:
    at: dt.datetime | None
    order: int  # tie-break at the same minute: causes before effects
    text: str
    keep: int = 0  # lower is dropped first when the timeline is too long


def _incident_label(inc: IncidentFacts) -> str:
    return f"#{inc.number}" if inc.number is not None else inc.incident_id


def _header(d: DraftInput) -> list[str]:
    inc = d.incident
    title = _safe_text(inc.title, f"PagerDuty incident {_incident_label(inc)}", 160)
    ref = [inc.incident_id]
    if inc.number is not None:
        ref.append(f"PagerDuty #{inc.number}")
    if inc.url:
        ref.append(_link("open in PagerDuty", inc.url))
    severity = _md(inc.priority, 20) if inc.priority else TBD
    sev_note = "PagerDuty priority" if inc.priority else "no PagerDuty priority recorded"
    if inc.urgency:
        sev_note += f"; urgency {_md(inc.urgency, 20)}"
    return [
        f"# Postmortem: {title}",
        "",
        "**Status:** Draft",
        "",
        f"**Date:** {_utc(inc.created_at).date().isoformat()}",
        "",
        f"**Incident:** {' · '.join(ref)}",
        "",
        f"**Service:** {_md(inc.service, 80) if inc.service else TBD}",
        "",
        f"**Owning team:** {_md(inc.team, 80) if inc.team else TBD}",
        "",
        f"**Severity:** {severity} ({sev_note})",
        "",
        f"**Authors:** {TBD}",
        "",
        f"**Review meeting:** {TBD}",
        "",
        f"> Drafted by `followthrough draft` from the warehouse: CI, deployments, tickets and "
        f"PagerDuty from {_stamp(d.window_start)} to {_stamp(d.window_end)}. Everything marked "
        f"{TBD} is for the authors and the review meeting; check every pre-filled line before "
        "the meeting.",
        "",
    ]


def _summary_sections() -> list[str]:
    return [
        "## Summary",
        "",
        f"{TBD} — one or two sentences: what happened, for how long, and who was affected.",
        "",
        "## Resolution",
        "",
        f"{TBD} — what restored service, and whether a temporary fix is still in place.",
        "",
        "## Responders",
        "",
        f"- Incident commander: {TBD}",
        f"- Scribe: {TBD}",
        f"- Also involved: {TBD}",
        "",
    ]


def _impact(d: DraftInput) -> list[str]:
    inc = d.incident
    lines = ["## Impact", ""]
    lines.append(f"- Start: {_stamp(inc.created_at)} (PagerDuty incident created)")
    if inc.resolved_at is not None:
        lines.append(f"- End: {_stamp(inc.resolved_at)} (PagerDuty incident resolved)")
        minutes = inc.duration_min
        if minutes is None or not math.isfinite(minutes):
            minutes = _minutes(inc.created_at, inc.resolved_at)
        n = max(1, round(minutes))
        lines.append(f"- Duration: {n} minute{'s' if n != 1 else ''}")
    else:
        lines.append(f"- End: {TBD} (not resolved in the PagerDuty data)")
        lines.append(f"- Duration: {TBD}")
    lines.append(f"- Service: {_md(inc.service, 80) if inc.service else TBD}")
    sev = _md(inc.priority, 20) if inc.priority else TBD
    urgency = f", urgency {_md(inc.urgency, 20)}" if inc.urgency else ""
    lines.append(f"- Severity: {sev} (PagerDuty priority{urgency})")
    lines.append(f"- Users affected: {TBD}")
    lines.append(f"- Cost: {TBD} (engineering hours, credits, lost revenue)")
    lines.append("")
    return lines


def _failure_by_job(d: DraftInput) -> dict[int, CiFailure]:
    return {f.job_id: f for f in d.failures}


def _is_primary(d: DraftInput, repo: str) -> bool:
    """Named after the service or cited by the incident, rather than tied only by deploy timing."""
    return not any(r.repo == repo and r.kind == "deploy_timing" for r in d.repos)


def _timeline_rows(d: DraftInput) -> list[_Row]:
    inc = d.incident
    rows: list[_Row] = []
    deploy_jobs = {dep.job_id for dep in d.deployments if dep.job_id is not None}
    failures = _failure_by_job(d)
    for dep in d.deployments:
        if not dep.production and not _is_primary(d, dep.repo):
            continue  # the repository is here for its production deploys only
        env = _md(dep.environment or ("production" if dep.production else "an environment"), 60)
        what = f"{_sha7(dep.sha)}" + (f" ({_md(dep.ref, 60)})" if dep.ref else "")
        link = _link(f"deployment {dep.deployment_id}", dep.url)
        rows.append(
            _Row(dep.created_at, 1, f"Deploy of {what} to {env} started on {_md(dep.repo)} ({link})", 3)
        )
        if dep.finished_at is not None and dep.final_state:
            job = failures.get(dep.job_id) if dep.job_id is not None else None
            job_ref = ""
            if job is not None:
                job_ref = f"; CI job {_link(_md(_job_label(job), 80), job.url)}"
            elif dep.target_url:
                job_ref = f"; {_link('log', dep.target_url)}"
            if dep.failed:
                text = (
                    f"**Deploy of {_sha7(dep.sha)} to {env} FAILED** on {_md(dep.repo)} "
                    f"(state {_md(dep.final_state, 30)}{job_ref})"
                )
                keep = 5 if dep.production else 4
            else:
                text = (
                    f"Deploy of {_sha7(dep.sha)} to {env} finished on {_md(dep.repo)} "
                    f"(state {_md(dep.final_state, 30)}{job_ref})"
                )
                keep = 3
            rows.append(_Row(dep.finished_at, 2, text, keep))
    for f in d.failures:
        if f.job_id in deploy_jobs:
            continue  # shown as the deploy's own row
        step = f"; step {_code(f.failed_step, 60)}" if f.failed_step else ""
        branch = f"{_md(f.branch, 60)}, " if f.branch else ""
        verb = "timed out" if f.conclusion == "timed_out" else "failed"
        rows.append(
            _Row(
                f.failed_at,
                2,
                f"CI job {_code(_job_label(f))} {verb} on {_md(f.repo)} ({branch}{_sha7(f.sha)}{step}; "
                f"{_link('job', f.url or f.run_url)})",
                2,
            )
        )
    for r in d.recoveries:
        rows.append(
            _Row(
                r.completed_at,
                3,
                f"CI job {_code(_job_label(r))} passed again on {_md(r.repo)} "
                f"({_sha7(r.sha)}; {_link('job', r.url)})",
                1,
            )
        )
    label = _incident_label(inc)
    title = _safe_text(inc.title, "see PagerDuty", 160)
    detail = ", ".join(
        x
        for x in (
            _md(inc.priority, 20) if inc.priority else "",
            f"{_md(inc.urgency, 20)} urgency" if inc.urgency else "",
        )
        if x
    )
    rows.append(
        _Row(
            inc.created_at,
            5,
            f"OUTAGE BEGINS — PagerDuty incident {_link(label, inc.url)} triggered: {title}"
            + (f" ({detail})" if detail else ""),
            9,
        )
    )
    if inc.resolved_at is not None:
        rows.append(_Row(inc.resolved_at, 9, f"OUTAGE ENDS — PagerDuty incident {label} resolved", 9))
    tickets = {t.ticket_key: t for t in d.tickets}
    for t in d.tickets:
        if t.created_at is None:
            continue
        title_t = _safe_text(t.title, "see the ticket", 160)
        rows.append(
            _Row(t.created_at, 6, f"Ticket {_link(_md(t.ticket_key, 40), t.url)} created: {title_t}", 7)
        )
    for ev in d.ticket_events:
        key = _md(ev.ticket_key, 40)
        if ev.kind == "comment":
            text = f"{key}: comment added"
        else:
            field = _md(ev.field or "field", 40)
            old = _md(ev.from_value, 60) if ev.from_value else "(none)"
            new = _md(ev.to_value, 60) if ev.to_value else "(none)"
            text = f"{key} {field}: {old} → {new}"
        if ev.ticket_key in tickets:
            rows.append(_Row(ev.occurred_at, 7, text, 6))
    return rows


def _trim(rows: list[_Row], limit: int) -> tuple[list[_Row], int]:
    """Keep at most `limit` rows, dropping the least telling first (then the oldest of them)."""
    if len(rows) <= limit:
        return rows, 0
    ranked = sorted(range(len(rows)), key=lambda i: (rows[i].keep, _utc(rows[i].at or dt.datetime.min)))
    drop = set(ranked[: len(rows) - limit])
    return [r for i, r in enumerate(rows) if i not in drop], len(drop)


def _timeline(d: DraftInput) -> tuple[list[str], int, int]:
    inc = d.incident
    rows, omitted = _trim(_timeline_rows(d), MAX_TIMELINE_ROWS - 1)
    rows.sort(key=lambda r: (_utc(r.at) if r.at else _utc(inc.created_at), r.order))
    slack = (
        f"| {TBD} | {TBD} — Slack: incident channel opened, responders joined, status page "
        "updated (Slack timestamps are not in the warehouse yet; add them here) |"
    )
    out = ["## Timeline", ""]
    written = 0
    day: dt.date | None = None
    slack_done = False
    for r in rows:
        at = _utc(r.at) if r.at else _utc(inc.created_at)
        if at.date() != day:
            if day is not None:
                out.append("")
            day = at.date()
            out += [f"{day.isoformat()} (all times UTC)", "", "| Time (UTC) | Event |", "|---|---|"]
        out.append(f"| {_hm(at)} | {_cell(r.text)} |")
        written += 1
        if r.order == 5 and not slack_done:
            out.append(slack)
            written += 1
            slack_done = True
    out.append("")
    return out, written, omitted


def _ci_signals(d: DraftInput) -> tuple[list[str], list[CiFailure]]:
    inc = d.incident
    out = ["## Contributing CI signals", ""]
    if d.repos:
        considered = "; ".join(f"{_md(r.repo)} ({_md(r.reason, 120)})" for r in d.repos)
        out.append(f"Repositories considered: {considered}.")
    else:
        out.append(
            "No repository could be tied to this incident's service: no repository name "
            "contains it and no production deploy preceded the incident."
        )
    out.append("")
    for a in d.ci_activity:
        out.append(
            f"- {_md(a.repo)}: {a.jobs} CI job{'s' if a.jobs != 1 else ''} finished in the window, "
            f"{a.failures} failed"
        )
    if d.ci_activity:
        out.append("")
    for note in d.notes:
        out.append(f"> {_md(note, 300)}")
        out.append("")
    ranked = _ranked_failures(d)
    shown = ranked[:MAX_CI_SIGNALS]
    if not shown:
        out.append("No CI job of these repositories failed in the window.")
        out.append("")
    deploys = {dep.job_id: dep for dep in d.deployments if dep.job_id is not None}
    for i, f in enumerate(shown, start=1):
        out.append(f"### CI signal {i}: {_md(_job_label(f), 100)} on {_md(f.repo)}")
        out.append("")
        verb = "Timed out" if f.conclusion == "timed_out" else "Failed"
        where = f"commit {_sha7(f.sha)}" + (f" on {_md(f.branch, 60)}" if f.branch else "")
        step = f", step {_code(f.failed_step, 60)}" if f.failed_step else ""
        out.append(
            f"- {verb} at {_stamp(f.failed_at)}, {_relative(f.failed_at, inc.created_at)}; {where}{step}"
        )
        dep = deploys.get(f.job_id)
        if dep is not None:
            env = _md(dep.environment or "production", 60)
            out.append(f"- This job ran {_link(f'deployment {dep.deployment_id}', dep.url)} to {env}")
        links = [
            x
            for x in (_link("run", f.run_url) if f.run_url else "", _link("job", f.url) if f.url else "")
            if x
        ]
        if links:
            out.append(f"- Links: {' · '.join(links)}")
        if f.fingerprint:
            cluster = f", cluster {_code(f.cluster_id, 40)}" if f.cluster_id else ""
            out.append(f"- Fingerprint {_code(f.fingerprint, 64)}{cluster}")
        rec = f.recurrence
        if rec is not None and rec.occurrence > 1:
            msg = _safe_text(rec.message, f"failed {_times(rec.prior_failures)} before", 300)
            parts = [f"- This path failed before: {msg}"]
            if rec.prior_ticket_keys:
                parts.append(f"prior tickets {', '.join(_md(k, 40) for k in rec.prior_ticket_keys)}")
            if rec.prior_postmortem_ids:
                parts.append(
                    f"prior postmortems {', '.join(_code(p, 120) for p in rec.prior_postmortem_ids)}"
                )
            line = "; ".join(parts)
            if rec.fix_did_not_hold:
                line += " — **the fix did not hold**"
            out.append(line)
        elif f.cluster_id:
            out.append("- First failure of this kind in the warehouse")
        if f.links:
            shown_links = ", ".join(
                f"{_md(lk.link_type, 20)} {_code(lk.target_id, 120)} (by {_md(lk.evidence, 30)}"
                + (f", {_utc(lk.linked_at).date().isoformat()}" if lk.linked_at else "")
                + ")"
                for lk in f.links[:6]
            )
            out.append(f"- Earlier links to this failure: {shown_links}")
        if f.excerpt:
            out += ["", *_excerpt_block(f.excerpt)]
        elif f.analysed:
            note = "; ".join(_md(n, 120) for n in f.excerpt_notes) or "the log gave no excerpt"
            out.append(f"- No excerpt: {note}")
        else:
            out.append("- No excerpt: the job's log was not exported or not analysed yet")
        out.append("")
    if len(ranked) > len(shown):
        more = len(ranked) - len(shown)
        out.append(
            f"> {more} more failing job{'s' if more != 1 else ''} in the window not shown: query "
            "`core.ci_failures` for the repositories above."
        )
        out.append("")
    return out, shown


def _excerpt_block(lines: tuple[ExcerptLine, ...]) -> list[str]:
    """Excerpt lines in a fence; every line starts with its number so none can close the fence."""
    chosen = list(lines[:MAX_EXCERPT_LINES])
    width = max(len(str(ln.n)) for ln in chosen)
    body = [
        f"{'>' if not ln.context else ' '} {str(ln.n).rjust(width)}  {_plain(ln.text, 300)}" for ln in chosen
    ]
    if len(lines) > len(chosen):
        body.append(f"  ({len(lines) - len(chosen)} more excerpt lines)")
    return ["```text", *body, "```"]


def _ranked_failures(d: DraftInput) -> list[CiFailure]:
    """Failed production deploys first, then the service's own repositories, then the failures
    closest to the incident (those before it first)."""
    prod = {dep.job_id for dep in d.deployments if dep.job_id is not None and dep.production and dep.failed}
    created = _utc(d.incident.created_at)

    def key(f: CiFailure) -> tuple[int, int, int, float]:
        gap = (created - _utc(f.failed_at)).total_seconds()
        primary = _is_primary(d, f.repo)
        return (0 if f.job_id in prod else 1, 0 if primary else 1, 0 if gap >= 0 else 1, abs(gap))

    return sorted(d.failures, key=key)


def _tie_note(d: DraftInput, repo: str) -> str:
    """A caveat for repositories tied to the incident only by deploy timing."""
    for r in d.repos:
        if r.repo == repo and r.kind == "deploy_timing":
            return " (this repository is tied to the incident only by deploy timing: check it is related)"
    return ""


def _conditions(d: DraftInput, shown: list[CiFailure]) -> tuple[list[str], int]:
    inc = d.incident
    candidates: list[str] = []
    seen_jobs: set[tuple[str, str, str | None]] = set()
    failures = _failure_by_job(d)
    for dep in sorted(
        (x for x in d.deployments if x.failed and x.production),
        key=lambda x: abs(_minutes(x.finished_at or x.created_at, inc.created_at)),
    ):
        when = dep.finished_at or dep.created_at
        job = failures.get(dep.job_id) if dep.job_id is not None else None
        head = excerpt_headline(job.excerpt) if job is not None else None
        why = (
            _code(head, 160)
            if head and _blameless(head)
            else (
                f"step {_code(job.failed_step, 60)} failed"
                if job is not None and job.failed_step
                else "see the CI signals above"
            )
        )
        candidates.append(
            f"Candidate (from deploy data): deploy of {_sha7(dep.sha)} to production failed at "
            f"{_stamp(when)} on {_md(dep.repo)}, {_relative(when, inc.created_at)}: {why}"
            + _tie_note(d, dep.repo)
        )
        if job is not None:
            seen_jobs.add((job.repo, job.job_name, job.workflow))
    for f in shown:
        k = (f.repo, f.job_name, f.workflow)
        if k in seen_jobs or not _is_primary(d, f.repo):
            continue
        seen_jobs.add(k)
        head = excerpt_headline(f.excerpt)
        why = (
            _code(head, 160)
            if head and _blameless(head)
            else (f"step {_code(f.failed_step, 60)} failed" if f.failed_step else "see the CI signals above")
        )
        again = ""
        if f.recurrence is not None and f.recurrence.occurrence > 1:
            again = f"; it has failed {_times(f.recurrence.prior_failures)} before"
            if f.recurrence.fix_did_not_hold:
                again += " and an earlier fix did not hold"
        candidates.append(
            f"Candidate (from CI): {_code(_job_label(f))} on {_md(f.repo)} was failing at "
            f"{_stamp(f.failed_at)}, {_relative(f.failed_at, inc.created_at)}: {why}{again}"
        )
    candidates = candidates[:MAX_CANDIDATE_CONDITIONS]
    placeholders = [
        f"{TBD} — a condition in a system, tool or process that made this failure possible",
        f"{TBD} — a condition that delayed detection or diagnosis",
        f"{TBD} — a condition that slowed mitigation or recovery",
    ]
    out = [
        "## Contributing conditions",
        "",
        "Conditions in systems, tools and processes that together made this incident possible, "
        "not people. Keep 3 to 7. Candidates come from CI and deploy data: confirm, reword or "
        "delete them.",
        "",
    ]
    out += [f"- {c}" for c in candidates + placeholders]
    out.append("")
    return out, len(candidates)


@dataclass(frozen=True, slots=True)
class _Action:
    text: str
    ticket: str | None
    verification: str


def _due_cell(d: DraftInput) -> str:
    """A target from the follow-through SLO (4 weeks for P0-P2 incidents, 8 otherwise)."""
    inc = d.incident
    m = re.match(r"^\s*P([0-4])\b", inc.priority or "", re.IGNORECASE)
    weeks = d.slo_priority_weeks if m and int(m.group(1)) <= 2 else d.slo_other_weeks
    base = _utc(inc.resolved_at or inc.created_at).date()
    due = base + dt.timedelta(days=round(weeks * 7))
    w = f"{weeks:g}"
    return f"{due.isoformat()} ({w}-week SLO from the incident; confirm)"


def _actions(d: DraftInput, shown: list[CiFailure]) -> list[_Action]:
    inc = d.incident
    actions: list[_Action] = []
    seen_clusters: set[str] = set()
    covered_jobs: set[int] = set()
    for f in _ranked_failures(d):
        rec = f.recurrence
        if rec is None or rec.occurrence <= 1 or not _is_primary(d, f.repo):
            continue
        ckey = f.cluster_id or f"{f.repo}|{f.job_name}"
        if ckey in seen_clusters:
            continue
        seen_clusters.add(ckey)
        ticket = rec.fix_ticket_key or (rec.prior_ticket_keys[0] if rec.prior_ticket_keys else None)
        job = _code(f.job_name, 80)
        if rec.fix_did_not_hold:
            fix = f"the fix in {ticket} did not hold" if ticket else "an earlier fix did not hold"
            text = (
                f"Re-open the fix for the recurring {job} failure on {_md(f.repo)}: it failed "
                f"{_times(rec.prior_failures)} before and {fix}"
            )
        else:
            text = (
                f"Fix the recurring {job} failure on {_md(f.repo)}: it failed "
                f"{_times(rec.prior_failures)} before" + (f", tracked in {ticket}" if ticket else "")
            )
        crit = _criterion_for_job(f.job_name, f.repo) or _repeat_criterion(inc)
        actions.append(_Action(text, ticket, crit))
        covered_jobs.add(f.job_id)
    failures = _failure_by_job(d)
    for dep in d.deployments:
        if not (dep.failed and dep.production) or (dep.job_id is not None and dep.job_id in covered_jobs):
            continue
        job = failures.get(dep.job_id) if dep.job_id is not None else None
        crit = _criterion_for_job(job.job_name, job.repo) if job is not None else None
        crit = crit or _repeat_criterion(inc)
        actions.append(
            _Action(
                f"Find and fix what made the production deploy of {_sha7(dep.sha)} on {_md(dep.repo)} fail",
                None,
                crit,
            )
        )
    actions = [a for a in actions if _blameless(a.text)][: MAX_PREFILLED_ACTIONS - 1]
    actions.append(
        _Action(
            f"Prevent a repeat of incident {_incident_label(inc)}"
            + (f" on {_md(inc.service, 80)}" if inc.service else ""),
            None,
            _repeat_criterion(inc),
        )
    )
    return actions


def _action_table(d: DraftInput, actions: list[_Action]) -> list[str]:
    due = _due_cell(d)
    out = [
        "## Action items",
        "",
        "Every item needs an owner and a ticket before the meeting ends. Pre-filled rows come "
        "from recurring CI failures and failed deploys; the due dates follow the follow-through "
        "SLO and are proposals.",
        "",
        "| Action | Owner | Ticket | Priority | Due/Sprint | Status | Verification |",
        "|---|---|---|---|---|---|---|",
    ]
    for a in actions:
        ticket = _md(a.ticket, 40) if a.ticket else TBD
        out.append(
            f"| {_cell(a.text)} | {TBD} | {ticket} | {TBD} | {due} | To do | {_cell(a.verification)} |"
        )
    for _ in range(BLANK_ACTION_ROWS):
        out.append("| " + " | ".join([TBD] * 7) + " |")
    out.append("")
    return out


def _verification(criteria: list[str]) -> list[str]:
    out = [
        "## Verification",
        "",
        "Each criterion names a metric, a scope, a threshold and a window, so followthrough can "
        "check it against CI and incident history once the action items close. Replace or "
        "extend these examples; keep them measurable.",
        "",
    ]
    out += [f"- {c}" for c in criteria]
    out.append("")
    return out


def render_draft(d: DraftInput) -> Draft:
    """The draft postmortem for one incident, and the counts the parser should read back."""
    lines = _header(d)
    lines += _summary_sections()
    lines += _impact(d)
    tl, timeline_rows, omitted = _timeline(d)
    lines += tl
    ci, shown = _ci_signals(d)
    lines += ci
    cond, candidates = _conditions(d, shown)
    lines += cond
    actions = _actions(d, shown)
    lines += _action_table(d, actions)
    criteria = list(dict.fromkeys(a.verification for a in actions))
    lines += _verification(criteria)
    markdown = "\n".join(lines).rstrip("\n") + "\n"
    return Draft(
        markdown=markdown,
        timeline_rows=timeline_rows,
        conditions=candidates + 3,
        candidate_conditions=candidates,
        action_items=len(actions),
        blank_action_rows=BLANK_ACTION_ROWS,
        criteria=tuple(criteria),
        omitted_timeline_rows=omitted,
    )


__all__ = [
    "TBD",
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
    "TicketEventFacts",
    "TicketFacts",
    "excerpt_headline",
    "render_draft",
]
