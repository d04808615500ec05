"""Lint rules, verification criteria and the `followthrough lint` command."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from followthrough.cli import main
from models.postmortems import RULES, lint, parse_file, parse_postmortem
from models.postmortems.verification import parse_criterion

GOOD = """# Webhook timeouts — 2025-03-04

**Review meeting:** 2025-03-05 15:00 UTC

## Impact
Webhooks were delayed for 47 minutes.

## Timeline
2025-03-04 (all times UTC)
- 10:02 OUTAGE BEGINS: deploy lowers the client timeout
- 10:49 OUTAGE ENDS: timeout restored

## Contributing conditions
- Production inherited the staging timeout.
- Retries had no budget.
- The diff did not show the effective value.

## Action items
- [ ] Add retry budget (owner: @dana, PAY-412, sprint 2025-S07) — verify: webhook timeout \
rate < 0.5% for 30 days

## Verification
- CI pass rate on payment webhook handler tests > 95% for 30 days
"""


def rules(text: str) -> set[str]:
    return {f.rule for f in lint(parse_postmortem(text))}


def test_complete_document_passes() -> None:
    pm = parse_postmortem(GOOD)
    findings = lint(pm)
    assert [f for f in findings if f.severity == "error"] == []
    assert (
        pm.identified_at is not None and pm.identified_at.isoformat() == "2025-03-05T15:00:00+00:00"
    )


def test_missing_parts_are_errors() -> None:
    text = GOOD.split("## Verification")[0]
    assert "missing-verification" in rules(text)
    assert "missing-timeline" in rules(GOOD.replace("## Timeline", "## Notes"))
    assert "missing-impact" in rules(GOOD.replace("## Impact", "## Notes"))
    assert RULES["missing-verification"][0] == "error"


def test_condition_count_and_action_item_fields() -> None:
    one = GOOD.replace(
        "- Retries had no budget.\n- The diff did not show the effective value.\n", ""
    )
    assert "conditions-count" in rules(one)
    bare = GOOD.replace(
        "- [ ] Add retry budget (owner: @dana, PAY-412, sprint 2025-S07) — verify: webho"
        "ok timeout rate < 0.5% for 30 days",
        "- [ ] Better tests",
    )
    findings = [f for f in lint(parse_postmortem(bare)) if f.rule.startswith("action-item")]
    assert {f.rule for f in findings} == {
        "action-item-no-owner",
        "action-item-no-ticket",
        "action-item-no-due",
        "action-item-no-verification",
    }
    assert {f.line for f in findings} == {19}


def test_every_rule_is_documented(postmortems_doc: Path) -> None:
    doc = postmortems_doc.read_text(encoding="utf-8")
    for rule in [*RULES, "unreadable"]:
        assert f"`{rule}`" in doc, rule


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "CI pass rate on payment webhook handler tests > 95% for 30 days",
            ("ci_pass_rate", "payment webhook handler tests", ">", 0.95, 30.0),
        ),
        (
            "flaky rate of the e2e job <= 2% over 2 weeks",
            ("flaky_rate", "e2e job", "<=", 0.02, 14.0),
        ),
        (
            "error rate for checkout-api stays below 0.5% for a month",
            ("error_rate", "checkout-api", "<=", 0.005, 30.0),
        ),
        (
            "p99 latency of `payments-api` < 300ms for 14 days",
            ("latency_p99", "payments-api", "<", 300.0, 14.0),
        ),
        (
            "No repeat incidents on webhooks for 90 days",
            ("incident_count", "webhooks", "=", 0.0, 90.0),
        ),
    ],
)
def test_checkable_criteria(text: str, expected: tuple[object, ...]) -> None:
    c = parse_criterion(text)
    assert c.checkable
    assert (c.metric, c.scope, c.comparator, c.threshold, c.window_days) == expected


@pytest.mark.parametrize("text", ["better tests", "Improve monitoring", "Make deploys safer"])
def test_not_checkable_criteria(text: str) -> None:
    assert not parse_criterion(text).checkable


def test_cli_json_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.md"
    good.write_text(GOOD, encoding="utf-8")
    assert main(["lint", "--format", "json", str(good)]) == 0
    obj = json.loads(capsys.readouterr().out.strip())
    assert list(obj) == ["path", "title", "sections", "action_items", "findings", "passed"]
    assert obj["passed"] is True
    assert obj["sections"]["timeline"] == {"present": True, "heading": "Timeline", "entries": 2}
    assert obj["sections"]["impact"]["duration_minutes"] == 47
    assert obj["sections"]["contributing_conditions"]["count"] == 3
    assert obj["sections"]["verification"] == {"present": True, "heading": "Verification"}
    assert obj["action_items"] == [
        {
            "text": "Add retry budget",
            "owner": "dana",
            "ticket": "PAY-412",
            "status": "todo",
            "due": "2025-S07",
            "verification": "webhook timeout rate < 0.5% for 30 days",
        }
    ]
    for f in obj["findings"]:
        assert list(f) == ["rule", "severity", "line", "message", "suggestion"]


def test_cli_directory_exit_codes_and_text_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "good.markdown").write_text(GOOD, encoding="utf-8")
    assert main(["lint", str(tmp_path)]) == 0
    capsys.readouterr()
    (tmp_path / "bad.md").write_text(GOOD.split("## Verification")[0], encoding="utf-8")
    (tmp_path / "ignored.txt").write_text("not a postmortem", encoding="utf-8")
    assert main(["lint", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert (
        f"{tmp_path / 'bad.md'}: error: missing section: Verification [missing-verification]" in out
    )
    assert "    suggestion: " in out
    assert out.strip().splitlines()[-1].startswith("2 documents checked: 1 passed, 1 failed")
    assert "ignored.txt" not in out
    (tmp_path / "blob.md").write_bytes(b"\x00\x01\x02binary\x00" * 100)
    assert main(["lint", "--format", "json", str(tmp_path)]) == 2
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(lines) == 3  # unreadable input reported, the others still linted
    blob = next(o for o in lines if o["path"].endswith("blob.md"))
    assert blob["findings"][0]["rule"] == "unreadable" and blob["passed"] is False


def test_cli_on_fixture_folder(postmortem_fixtures: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["lint", "--format", "json", str(postmortem_fixtures)])
    objs = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert code == 1 and len(objs) == len(list(postmortem_fixtures.iterdir()))
    blame = {
        o["path"].rsplit("/", 1)[-1]: [f for f in o["findings"] if f["rule"] == "blame-language"]
        for o in objs
    }
    assert len(blame.pop("blameful-deploy.md")) == 5
    assert all(not v for v in blame.values()), blame


def test_bad_inputs(tmp_path: Path) -> None:
    empty = tmp_path / "empty.md"
    empty.write_text("", encoding="utf-8")
    assert [f.rule for f in lint(parse_file(empty))] == ["empty-document"]
    nested = "\n".join(("  " * i) + "- " + "[" * 50 + "**x" for i in range(2000))
    pm = parse_postmortem("## Action items\n" + nested + "\n> > > ```\n|a|b\n")
    assert lint(pm)
    html = (
        "<html><body><script>throw new Error('x')</script>"
        + "<div><ul><li>" * 3000
        + "<h2>Impact</h2><p>down 5 minutes</p><style>p{}</style><img src=x onerror=alert(1)>"
    )
    pm = parse_postmortem(html, path="x.html")
    assert pm.sections["impact"].present
    assert "alert" not in " ".join(t for _, t in pm.prose)


def test_huge_document_is_capped(tmp_path: Path) -> None:
    big = tmp_path / "huge.md"
    block = GOOD + ("\n".join(f"- 10:{i % 60:02d} log line {i} " + "x" * 80 for i in range(2000)))
    with big.open("w", encoding="utf-8") as fh:
        while fh.tell() < 50 * 1024 * 1024:
            fh.write(block)
    start = time.perf_counter()
    pm = parse_file(big)
    findings = lint(pm)
    elapsed = time.perf_counter() - start
    assert pm.truncated
    assert "document-truncated" in {f.rule for f in findings}
    assert elapsed < 20, elapsed


def test_cli_entry_point_runs_as_module(tmp_path: Path) -> None:
    doc = tmp_path / "good.md"
    doc.write_text(GOOD, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "followthrough.cli", "lint", str(doc)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 document checked: 1 passed, 0 failed" in proc.stdout
