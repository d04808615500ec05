"""Frozen data model of a parsed postmortem, shared by the parser, the linter and the warehouse."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

# The five parts every postmortem needs, in document order, with the heading each is called by
# in findings, templates and drafts. The one definition: everything else iterates over these.
PART_LABELS: dict[str, str] = {
    "timeline": "Timeline",
    "contributing_conditions": "Contributing conditions",
    "impact": "Impact",
    "action_items": "Action items",
    "verification": "Verification",
}
PARTS: tuple[str, ...] = tuple(PART_LABELS)


class PostmortemReadError(Exception):
    """A document that cannot be read at all (missing, binary, undecodable)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Section:
    present: bool
    heading: str | None = None
    line: int | None = None


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: dt.datetime | None
    text: str
    line: int
    # Clock time as written, kept when no date is known so durations can still be derived.
    clock: dt.time | None = None


@dataclass(frozen=True, slots=True)
class Impact:
    duration_minutes: float | None = None
    affected_users: int | None = None
    severity: str | None = None
    cost: str | None = None
    text: str | None = None
    # Where the duration came from: "stated", "metadata", "timeline-markers", "timeline-span".
    duration_source: str | None = None


@dataclass(frozen=True, slots=True)
class ActionItem:
    ordinal: int
    text: str
    owner: str | None = None
    ticket: str | None = None
    status: str | None = None  # "done" | "todo" | "in progress" | None (not stated)
    priority: str | None = None  # "P0".."P4" or "High"/"Medium"/"Low"/...
    due: dt.date | None = None
    sprint: str | None = None
    verification: str | None = None
    line: int = 0

    @property
    def due_label(self) -> str | None:
        """Due as one value: ISO date if known, else the sprint label (what the JSON out"
        "put shows)."""
        if self.due is not None:
            return self.due.isoformat()
        return self.sprint


@dataclass(frozen=True, slots=True)
class Criterion:
    text: str
    checkable: bool
    metric: str | None = None
    scope: str | None = None
    comparator: str | None = None  # ">", ">=", "<", "<=", "="
    threshold: float | None = None  # percentages are fractions (95% -> 0.95)
    window_days: float | None = None
    unit: str | None = None  # "fraction", "ms", "count", "minutes", ...
    line: int | None = None
    source: str = "section"  # "section" (verification part) or "action_item"


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: str  # "error" | "warning" | "info"
    line: int | None
    message: str
    suggestion: str | None = None


@dataclass(frozen=True, slots=True)
class Postmortem:
    path: str
    format: str  # "markdown" | "html"
    title: str | None = None
    date: dt.date | None = None
    meeting_at: dt.datetime | None = None
    authors: tuple[str, ...] = ()
    status: str | None = None
    incident_refs: tuple[str, ...] = ()
    ticket_refs: tuple[str, ...] = ()
    ci_refs: tuple[str, ...] = ()
    sections: dict[str, Section] = field(default_factory=dict)
    timeline: tuple[TimelineEntry, ...] = ()
    contributing_conditions: tuple[str, ...] = ()
    impact: Impact = field(default_factory=Impact)
    action_items: tuple[ActionItem, ...] = ()
    verification_criteria: tuple[Criterion, ...] = ()
    line_count: int = 0
    truncated: bool = False
    # Lines of prose (line number, text) kept for the blame rule; not part of the public model.
    prose: tuple[tuple[int, str], ...] = field(default=(), repr=False, compare=False)
    names: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @property
    def identified_at(self) -> dt.datetime | None:
        """When action items were identified: the review meeting, else the document date."""
        if self.meeting_at is not None:
            return self.meeting_at
        if self.date is not None:
            return dt.datetime(self.date.year, self.date.month, self.date.day, tzinfo=dt.UTC)
        return None
