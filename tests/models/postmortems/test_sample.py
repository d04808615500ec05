"""Every postmortem of the sample organisation parses as its ground truth says it was written."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from models.postmortems import lint, parse_file


def _truth(exports: Path) -> list[dict]:
    return json.loads((exports / "groundtruth.json").read_text(encoding="utf-8"))["postmortems"]


def test_sample_postmortems_parse_with_every_part(sample_org: tuple[Path, Path]) -> None:
    exports, _ = sample_org
    docs = _truth(exports)
    assert len({d["style"] for d in docs}) >= 4, "the sample should vary its styles"
    problems = []
    for doc in docs:
        pm = parse_file(exports / doc["path"])
        where = f"{doc['path']} ({doc['style']})"
        for part, info in doc["parts"].items():
            if pm.sections[part].present != info["present"]:
                problems.append(f"{where}: {part} present={pm.sections[part].present}")
        expected_at = datetime.fromisoformat(doc["identified_at"].replace("Z", "+00:00"))
        if pm.identified_at != expected_at:
            problems.append(f"{where}: identified_at {pm.identified_at} != {expected_at}")
        if len(pm.action_items) != doc["action_items"]:
            problems.append(f"{where}: {len(pm.action_items)} action items")
        if doc["parts"]["contributing_conditions"]["present"] and (
            len(pm.contributing_conditions) != doc["contributing_conditions"]
        ):
            problems.append(f"{where}: {len(pm.contributing_conditions)} conditions")
        if doc["parts"]["timeline"]["present"] and len(pm.timeline) != doc["timeline_entries"]:
            problems.append(f"{where}: {len(pm.timeline)} timeline entries")
        want = doc["impact_duration_minutes"]
        got = pm.impact.duration_minutes if pm.impact else None
        if want is not None and (got is None or abs(got - want) > 1):
            problems.append(f"{where}: impact {got} min, expected {want}")
    assert not problems, "\n".join(problems)


def test_sample_blame_found_where_planted_and_nowhere_else(sample_org: tuple[Path, Path]) -> None:
    exports, _ = sample_org
    docs = _truth(exports)
    assert any(d["blame_sentences"] for d in docs) and any(not d["blame_sentences"] for d in docs)
    for doc in docs:
        findings = [f for f in lint(parse_file(exports / doc["path"])) if "blame" in f.rule]
        assert bool(findings) == bool(doc["blame_sentences"]), (doc["path"], findings)
