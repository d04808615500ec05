"""The Action items part: items pre-filled from recurring CI failures and failed production
deploys, one to prevent a repeat, and blank rows; owners and tickets are the meeting's to set."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from ..model import PART_LABELS
from .criteria import criterion_for_job, repeat_criterion
from .evidence import failure_by_job, incident_label, is_primary, ranked_failures
from .records import DraftInput
from .text import TBD, blameless, cell, code, md, sha7, times, utc

MAX_PREFILLED_ACTIONS = 5
BLANK_ACTION_ROWS = 3


@dataclass(frozen=True, slots=True)
class Action:
    text: str
    ticket: str | None
    verification: str


def due_cell(d: DraftInput) -> str:
    """A target from the follow-through SLO (4 weeks for P0-P2 incidents, 8 otherwise)."""
    inc = d.incident
    m = re.match(r"^\s*P([0-4])\b", inc.priority or "", re.IGNORECASE)
    weeks = d.slo_priority_weeks if m and int(m.group(1)) <= 2 else d.slo_other_weeks
    base = utc(inc.resolved_at or inc.created_at).date()
    due = base + dt.timedelta(days=round(weeks * 7))
    w = f"{weeks:g}"
    return f"{due.isoformat()} ({w}-week SLO from the incident; confirm)"


def _recurring_actions(d: DraftInput) -> tuple[list[Action], set[int]]:
    """One item per recurring failure cluster of the service's repositories, and the jobs covered."""
    actions: list[Action] = []
    seen_clusters: set[str] = set()
    covered_jobs: set[int] = set()
    for f in ranked_failures(d):
        rec = f.recurrence
        if rec is None or rec.occurrence <= 1 or not is_primary(d, f.repo):
            continue
        ckey = f.cluster_id or f"{f.repo}|{f.job_name}"
        if ckey in seen_clusters:
            continue
        seen_clusters.add(ckey)
        ticket = rec.fix_ticket_key or (rec.prior_ticket_keys[0] if rec.prior_ticket_keys else None)
        job = code(f.job_name, 80)
        if rec.fix_did_not_hold:
            fix = f"the fix in {ticket} did not hold" if ticket else "an earlier fix did not hold"
            text = (
                f"Re-open the fix for the recurring {job} failure on {md(f.repo)}: it failed "
                f"{times(rec.prior_failures)} before and {fix}"
            )
        else:
            text = (
                f"Fix the recurring {job} failure on {md(f.repo)}: it failed "
                f"{times(rec.prior_failures)} before" + (f", tracked in {ticket}" if ticket else "")
            )
        crit = criterion_for_job(f.job_name, f.repo) or repeat_criterion(d.incident)
        actions.append(Action(text, ticket, crit))
        covered_jobs.add(f.job_id)
    return actions, covered_jobs


def _deploy_actions(d: DraftInput, covered_jobs: set[int]) -> list[Action]:
    """One item per failed production deploy whose job no recurring-failure item covers."""
    actions: list[Action] = []
    failures = failure_by_job(d)
    for dep in d.deployments:
        if not (dep.failed and dep.production) or (dep.job_id is not None and dep.job_id in covered_jobs):
            continue
        job = failures.get(dep.job_id) if dep.job_id is not None else None
        crit = criterion_for_job(job.job_name, job.repo) if job is not None else None
        crit = crit or repeat_criterion(d.incident)
        text = f"Find and fix what made the production deploy of {sha7(dep.sha)} on {md(dep.repo)} fail"
        actions.append(Action(text, None, crit))
    return actions


def actions(d: DraftInput) -> list[Action]:
    """The pre-filled items: evidence-based ones (blame-free, capped) and then the repeat guard."""
    inc = d.incident
    found, covered_jobs = _recurring_actions(d)
    found += _deploy_actions(d, covered_jobs)
    chosen = [a for a in found if blameless(a.text)][: MAX_PREFILLED_ACTIONS - 1]
    chosen.append(
        Action(
            f"Prevent a repeat of incident {incident_label(inc)}"
            + (f" on {md(inc.service, 80)}" if inc.service else ""),
            None,
            repeat_criterion(inc),
        )
    )
    return chosen


def action_table(d: DraftInput, items: list[Action]) -> list[str]:
    due = due_cell(d)
    out = [
        f"## {PART_LABELS['action_items']}",
        "",
        "Every item needs an owner and a ticket before the meeting ends. Pre-filled rows come "
        "from recurring CI failures and failed deploys; the due dates follow the follow-through "
        "SLO and are proposals.",
        "",
        "| Action | Owner | Ticket | Priority | Due/Sprint | Status | Verification |",
        "|---|---|---|---|---|---|---|",
    ]
    for a in items:
        ticket = md(a.ticket, 40) if a.ticket else TBD
        out.append(f"| {cell(a.text)} | {TBD} | {ticket} | {TBD} | {due} | To do | {cell(a.verification)} |")
    for _ in range(BLANK_ACTION_ROWS):
        out.append("| " + " | ".join([TBD] * 7) + " |")
    out.append("")
    return out
