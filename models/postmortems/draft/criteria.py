"""Verification criteria the draft proposes, and the Verification section that lists them.

Each criterion is parsed back with the linter's own parser before it is used, so a draft never
proposes a criterion that `criterion-not-checkable` would flag."""

from __future__ import annotations

from ..model import PART_LABELS
from ..verification import parse_criterion
from .records import IncidentFacts
from .text import plain

PASS_RATE_TARGET = "95%"
VERIFY_WINDOW_DAYS = 30


def criterion_for_job(job_name: str, repo: str) -> str | None:
    """A CI pass-rate criterion the verification parser reads back with this job as its scope."""
    name = plain(job_name, 80).replace("`", "'")
    text = f"CI pass rate of {name} on {plain(repo, 120)} > {PASS_RATE_TARGET} for {VERIFY_WINDOW_DAYS} days"
    c = parse_criterion(text)
    if c.checkable and c.metric == "ci_pass_rate" and c.scope and name.lower() in c.scope.lower():
        return text
    return None


def repeat_criterion(inc: IncidentFacts) -> str:
    scope = plain(inc.service, 80) if inc.service else None
    text_plain = f"Zero repeat incidents for {VERIFY_WINDOW_DAYS} days"
    if scope:
        text = f"Zero repeat incidents on {scope} for {VERIFY_WINDOW_DAYS} days"
        c = parse_criterion(text)
        if c.checkable and c.metric == "incident_count":
            return text
    return text_plain


def verification_section(criteria: list[str]) -> list[str]:
    out = [
        f"## {PART_LABELS['verification']}",
        "",
        "Each criterion names a metric, a scope, a threshold and a window, so followthrough can "
        "check it against CI and incident history once the action items close. Replace or "
        "extend these examples; keep them measurable.",
        "",
    ]
    out += [f"- {c}" for c in criteria]
    out.append("")
    return out
