"""Reading the facts: which failures matter most, which repositories name the service, and which
excerpt line says why a job failed. Shared by the timeline, CI signals, conditions and actions."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .records import CiFailure, CiRecovery, DraftInput, ExcerptLine, IncidentFacts
from .text import plain, utc

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


def excerpt_headline(lines: Iterable[ExcerptLine]) -> str | None:
    """The excerpt line that best says why the job failed: the first specific error line."""
    lines = list(lines)
    errors = [ln for ln in lines if not ln.context and ln.text.strip()]
    specific = [ln for ln in errors if not _GENERIC_LINE_RE.search(ln.text.strip())]
    for ln in specific:
        if _ERRORISH_RE.search(ln.text):
            return plain(ln.text, 200)
    if specific:
        return plain(specific[0].text, 200)
    if errors:
        return plain(errors[0].text, 200)
    return plain(lines[0].text, 200) if lines else None


def job_label(f: CiFailure | CiRecovery) -> str:
    return f"{f.workflow} / {f.job_name}" if f.workflow else f.job_name


def incident_label(inc: IncidentFacts) -> str:
    return f"#{inc.number}" if inc.number is not None else inc.incident_id


def failure_by_job(d: DraftInput) -> dict[int, CiFailure]:
    return {f.job_id: f for f in d.failures}


def is_primary(d: DraftInput, repo: str) -> bool:
    """Named after the service or cited by the incident, rather than tied only by deploy timing."""
    return not any(r.repo == repo and r.kind == "deploy_timing" for r in d.repos)


def tie_note(d: DraftInput, repo: str) -> str:
    """A caveat for repositories tied to the incident only by deploy timing."""
    for r in d.repos:
        if r.repo == repo and r.kind == "deploy_timing":
            return " (this repository is tied to the incident only by deploy timing: check it is related)"
    return ""


def ranked_failures(d: DraftInput) -> list[CiFailure]:
    """Failed production deploys first, then the service's own repositories, then the failures
    closest to the incident (those before it first)."""
    prod = {dep.job_id for dep in d.deployments if dep.job_id is not None and dep.production and dep.failed}
    created = utc(d.incident.created_at)

    def key(f: CiFailure) -> tuple[int, int, int, float]:
        gap = (created - utc(f.failed_at)).total_seconds()
        primary = is_primary(d, f.repo)
        return (0 if f.job_id in prod else 1, 0 if primary else 1, 0 if gap >= 0 else 1, abs(gap))

    return sorted(d.failures, key=key)
