"""The Contributing conditions part: candidates from failed production deploys and from the
service's own failing CI jobs, then placeholders, so the meeting confirms rather than hunts."""

from __future__ import annotations

from ..model import PART_LABELS
from .evidence import excerpt_headline, failure_by_job, is_primary, job_label, tie_note
from .records import CiFailure, DraftInput
from .text import TBD, blameless, code, md, minutes, relative, sha7, stamp, times

# More candidate conditions than this would push the list past the linter's 3-7 range once
# the three placeholders are added.
MAX_CANDIDATE_CONDITIONS = 4
PLACEHOLDER_CONDITIONS = (
    f"{TBD} — a condition in a system, tool or process that made this failure possible",
    f"{TBD} — a condition that delayed detection or diagnosis",
    f"{TBD} — a condition that slowed mitigation or recovery",
)

JobKey = tuple[str, str, str | None]


def _why(head: str | None, failed_step: str | None) -> str:
    """The excerpt's headline when it is not blame, else the failed step, else a pointer."""
    if head and blameless(head):
        return code(head, 160)
    if failed_step:
        return f"step {code(failed_step, 60)} failed"
    return "see the CI signals above"


def _deploy_candidates(d: DraftInput) -> tuple[list[str], set[JobKey]]:
    """Failed production deploys, closest to the incident first, and the jobs that ran them."""
    inc = d.incident
    candidates: list[str] = []
    seen_jobs: set[JobKey] = set()
    failures = failure_by_job(d)
    for dep in sorted(
        (x for x in d.deployments if x.failed and x.production),
        key=lambda x: abs(minutes(x.finished_at or x.created_at, inc.created_at)),
    ):
        when = dep.finished_at or dep.created_at
        job = failures.get(dep.job_id) if dep.job_id is not None else None
        head = excerpt_headline(job.excerpt) if job is not None else None
        why = _why(head, job.failed_step if job is not None else None)
        candidates.append(
            f"Candidate (from deploy data): deploy of {sha7(dep.sha)} to production failed at "
            f"{stamp(when)} on {md(dep.repo)}, {relative(when, inc.created_at)}: {why}"
            + tie_note(d, dep.repo)
        )
        if job is not None:
            seen_jobs.add((job.repo, job.job_name, job.workflow))
    return candidates, seen_jobs


def _ci_candidates(d: DraftInput, shown: list[CiFailure], seen_jobs: set[JobKey]) -> list[str]:
    """The shown failures of the service's own repositories, one per job, not already a deploy."""
    inc = d.incident
    candidates: list[str] = []
    for f in shown:
        k = (f.repo, f.job_name, f.workflow)
        if k in seen_jobs or not is_primary(d, f.repo):
            continue
        seen_jobs.add(k)
        why = _why(excerpt_headline(f.excerpt), f.failed_step)
        again = ""
        if f.recurrence is not None and f.recurrence.occurrence > 1:
            again = f"; it has failed {times(f.recurrence.prior_failures)} before"
            if f.recurrence.fix_did_not_hold:
                again += " and an earlier fix did not hold"
        candidates.append(
            f"Candidate (from CI): {code(job_label(f))} on {md(f.repo)} was failing at "
            f"{stamp(f.failed_at)}, {relative(f.failed_at, inc.created_at)}: {why}{again}"
        )
    return candidates


def conditions_section(d: DraftInput, shown: list[CiFailure]) -> tuple[list[str], int]:
    """The part's lines and the number of candidates (placeholders not counted)."""
    candidates, seen_jobs = _deploy_candidates(d)
    candidates += _ci_candidates(d, shown, seen_jobs)
    candidates = candidates[:MAX_CANDIDATE_CONDITIONS]
    out = [
        f"## {PART_LABELS['contributing_conditions']}",
        "",
        "Conditions in systems, tools and processes that together made this incident possible, "
        "not people. Keep 3 to 7. Candidates come from CI and deploy data: confirm, reword or "
        "delete them.",
        "",
    ]
    out += [f"- {c}" for c in [*candidates, *PLACEHOLDER_CONDITIONS]]
    out.append("")
    return out, len(candidates)
