"""Postmortem intelligence: parse Markdown/HTML postmortems into one model and lint them."""

from .lint import RULES, lint
from .model import (
    PART_LABELS,
    PARTS,
    ActionItem,
    Criterion,
    Finding,
    Impact,
    Postmortem,
    PostmortemReadError,
    Section,
    TimelineEntry,
)
from .parser import MAX_BYTES, MAX_LINES, parse_file, parse_postmortem

__all__ = [
    "MAX_BYTES",
    "MAX_LINES",
    "PARTS",
    "PART_LABELS",
    "RULES",
    "ActionItem",
    "Criterion",
    "Finding",
    "Impact",
    "Postmortem",
    "PostmortemReadError",
    "Section",
    "TimelineEntry",
    "lint",
    "parse_file",
    "parse_postmortem",
]
