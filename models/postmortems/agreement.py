"""Agreement between the parser/linter and human labels of real postmortems.

The checks are the ones the held-out benchmark scores: for each of the five parts whether it is
present, the number of action items, of items with a ticket and with an owner, the number of
timeline entries, the impact duration in minutes (within 10%) and the number of blame
sentences. A keyword-matching baseline is scored the same way so that a figure always comes
with the figure a naive reader would reach.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .lint import lint
from .model import PARTS, Postmortem
from .parser import parse_file

MINUTES_TOLERANCE = 0.10

# The checks in report order; each document contributes one of each.
CHECKS: tuple[str, ...] = (
    *(f"{part}.present" for part in PARTS),
    "action_items.count",
    "action_items.with_ticket",
    "action_items.with_owner",
    "timeline.entries",
    "impact.duration_minutes",
    "blame_sentences",
)


def observed(pm: Postmortem) -> dict[str, Any]:
    """What the parser and linter report for one document, keyed like `CHECKS`."""
    out: dict[str, Any] = {f"{p}.present": pm.sections[p].present for p in PARTS}
    out["action_items.count"] = len(pm.action_items)
    out["action_items.with_ticket"] = sum(1 for a in pm.action_items if a.ticket)
    out["action_items.with_owner"] = sum(1 for a in pm.action_items if a.owner)
    out["timeline.entries"] = len(pm.timeline)
    out["impact.duration_minutes"] = pm.impact.duration_minutes
    out["blame_sentences"] = sum(1 for f in lint(pm) if f.rule == "blame-language")
    return out


def expected(label: dict[str, Any]) -> dict[str, Any]:
    """A labels.json document entry flattened to the `CHECKS` keys."""
    out: dict[str, Any] = {f"{p}.present": bool(label[p]["present"]) for p in PARTS}
    ai = label["action_items"]
    out["action_items.count"] = int(ai["count"])
    out["action_items.with_ticket"] = int(ai["with_ticket"])
    out["action_items.with_owner"] = int(ai["with_owner"])
    out["timeline.entries"] = int(label["timeline"]["entries"])
    out["impact.duration_minutes"] = label["impact"]["duration_minutes"]
    out["blame_sentences"] = int(label["blame_sentences"])
    return out


def agrees(check: str, want: Any, got: Any) -> bool:
    """Presence and counts must be equal; minutes within 10% (both absent also agrees)."""
    if check == "impact.duration_minutes":
        if want is None or got is None:
            return want is None and got is None
        return abs(float(got) - float(want)) <= MINUTES_TOLERANCE * float(want)
    return bool(want == got)


_LIST_RE = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+")
_TIME_RE = re.compile(r"(?<![\d:])([01]?\d|2[0-3]):[0-5]\d(?![\d:])")
_MINUTES_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(?:minutes|mins?)\b", re.I)
_BLAME_WORDS_RE = re.compile(r"human error|careless|negligen|fault|to blame|sloppy", re.I)
_KEYWORDS: dict[str, re.Pattern[str]] = {
    "timeline": re.compile(r"timeline", re.I),
    "contributing_conditions": re.compile(r"root cause|contributing", re.I),
    "impact": re.compile(r"impact", re.I),
    "action_items": re.compile(r"action items?|follow[- ]ups?|remediation", re.I),
    "verification": re.compile(r"verification|success criteria", re.I),
}


def keyword_baseline(text: str) -> dict[str, Any]:
    """What a keyword-matching reader reports, keyed like `CHECKS`.

    A part is present when its keyword appears anywhere; action items are the list lines after
    the first line naming them, up to the next top-level heading; timeline entries are lines
    carrying a clock time; the duration is the first "N minutes"; blame is a line with a blame
    word.
    """
    lines = text.splitlines()
    out: dict[str, Any] = {f"{p}.present": bool(rx.search(text)) for p, rx in _KEYWORDS.items()}
    items: list[str] = []
    start = next((i for i, s in enumerate(lines) if _KEYWORDS["action_items"].search(s)), None)
    if start is not None:
        for s in lines[start + 1 :]:
            if re.match(r"^#{1,2}\s", s):
                break
            if _LIST_RE.match(s):
                items.append(s)
    out["action_items.count"] = len(items)
    out["action_items.with_ticket"] = sum(
        1 for s in items if re.search(r"#\d+|\b[A-Z][A-Z0-9]+-\d+\b|/issues/|/pull/", s)
    )
    out["action_items.with_owner"] = sum(1 for s in items if "@" in s)
    out["timeline.entries"] = sum(1 for s in lines if _TIME_RE.search(s[:40]))
    m = _MINUTES_RE.search(text)
    out["impact.duration_minutes"] = float(m.group(1)) if m else None
    out["blame_sentences"] = sum(1 for s in lines if _BLAME_WORDS_RE.search(s))
    return out


@dataclass
class Score:
    """Agreeing / total checks, overall and per check."""

    agreed: int = 0
    total: int = 0
    per_check: dict[str, list[int]] = field(default_factory=dict)
    misses: list[tuple[str, str, Any, Any]] = field(default_factory=list)

    def add(self, doc: str, want: dict[str, Any], got: dict[str, Any]) -> None:
        for check in CHECKS:
            ok = agrees(check, want[check], got[check])
            cell = self.per_check.setdefault(check, [0, 0])
            cell[0] += int(ok)
            cell[1] += 1
            self.agreed += int(ok)
            self.total += 1
            if not ok:
                self.misses.append((doc, check, want[check], got[check]))

    @property
    def rate(self) -> float:
        return self.agreed / self.total if self.total else 0.0


def load_labels(folder: Path) -> dict[str, dict[str, Any]]:
    """labels.json of a labelled folder: file name -> label."""
    data = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
    return dict(data["documents"])


def score_folder(
    folder: Path, splits: Iterable[str] | None = None
) -> tuple[dict[str, Score], dict[str, Score]]:
    """(parser scores, baseline scores) per split ("dev", "heldout", "all")."""
    labels = load_labels(folder)
    wanted = set(splits) if splits is not None else None
    parser: dict[str, Score] = {"all": Score()}
    baseline: dict[str, Score] = {"all": Score()}
    for name, label in sorted(labels.items()):
        split = str(label.get("split", "dev"))
        if wanted is not None and split not in wanted:
            continue
        path = folder / name
        want = expected(label)
        got = observed(parse_file(path))
        base = keyword_baseline(path.read_text(encoding="utf-8"))
        for key in (split, "all"):
            parser.setdefault(key, Score()).add(name, want, got)
            baseline.setdefault(key, Score()).add(name, want, base)
    return parser, baseline
