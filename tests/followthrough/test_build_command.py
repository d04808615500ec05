"""`followthrough build` as a user runs it: settings errors, checks in the summary, settings stored."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from followthrough.cli import main

POSTMORTEM = (
    "# Database failover stalled\n\n**Date:** 2025-03-04\n\n## Action Items\n\n"
    "| Action | Owner | Ticket |\n|---|---|---|\n| Add failover drill | @dana | ED-1 |\n"
)


@pytest.fixture
def small_export(tmp_path: Path) -> Path:
    """One postmortem and one Jira file whose second record has no key (it is quarantined)."""
    root = tmp_path / "exports"
    (root / "postmortems").mkdir(parents=True)
    (root / "postmortems" / "db-failover.md").write_text(POSTMORTEM, encoding="utf-8")
    (root / "jira" / "issues").mkdir(parents=True)
    issue = {"id": "10001", "key": "ED-1", "fields": {
        "summary": "Add failover drill", "created": "2025-03-05T10:00:00.000+0000",
        "status": {"name": "To Do", "statusCategory": {"key": "new"}},
        "project": {"key": "ED"}, "issuetype": {"name": "Task"}}}
    (root / "jira" / "issues" / "2025-03.json").write_text(
        json.dumps({"issues": [issue, {"fields": {"summary": "no id, no key"}}]}),
        encoding="utf-8")
    return root


def test_bad_setting_is_one_line_and_exit_2(small_export: Path, tmp_path: Path) -> None:
    env = {"PATH": "", "FOLLOWTHROUGH_BENCHMARK_DAYS": "abc"}
    res = subprocess.run(
        [sys.executable, "-m", "followthrough.cli", "build", "--exports", str(small_export),
         "--warehouse", str(tmp_path / "w.duckdb")],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        "followthrough build: FOLLOWTHROUGH_BENCHMARK_DAYS='abc': expected a number >= 0 "
        "(e.g. 4.3)"]
    assert not (tmp_path / "w.duckdb").exists()  # nothing was started


def test_fractional_benchmark_is_stored_with_the_build(
        small_export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "w.duckdb"
    monkeypatch.setenv("FOLLOWTHROUGH_BENCHMARK_DAYS", "4.3")
    monkeypatch.setenv("FOLLOWTHROUGH_DONE_WITHIN_DAYS", "7.5")
    assert main(["build", "--exports", str(small_export), "--warehouse", str(path)]) == 0
    with duckdb.connect(str(path), read_only=True) as conn:
        assert conn.execute("SELECT benchmark_days, done_within_days FROM "
                            "models.follow_through_settings").fetchall() == [(4.3, 7.5)]
    # the same data with another threshold rebuilds; the same threshold does not
    monkeypatch.setenv("FOLLOWTHROUGH_BENCHMARK_DAYS", "2")
    assert main(["build", "--exports", str(small_export), "--warehouse", str(path)]) == 0
    assert main(["build", "--exports", str(small_export), "--warehouse", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.count("no new data") == 1
    with duckdb.connect(str(path), read_only=True) as conn:
        assert conn.execute("SELECT benchmark_days FROM models.follow_through_settings"
                            ).fetchall() == [(2.0,)]


def test_summary_lists_failed_checks_with_counts_and_examples(
        small_export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """raw is loaded through Dagster too, so its quarantine checks run in a CLI build."""
    assert main(["build", "--exports", str(small_export), "--warehouse",
                 str(tmp_path / "w.duckdb")]) == 0
    captured = capsys.readouterr()
    failed = [line for line in captured.out.splitlines() if line.startswith("check failed:")]
    assert len(failed) == 1, captured.out
    assert failed[0].startswith("check failed: raw/jira:nothing_quarantined (warn): "
                                "1 record(s) quarantined: jira/issues/2025-03.json record 1")
    assert "2025-03.json record 1" in failed[0]
    assert captured.err == ""  # progress stays quiet when stderr is not a terminal


def test_jobs_without_their_run_are_named_in_the_summary(
        vendor_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "exports"
    (root / "github" / "jobs").mkdir(parents=True)
    jobs = json.loads((vendor_dir / "github_workflow_run_jobs_list.json").read_text())
    (root / "github" / "jobs" / "2025-06-03.json").write_text(json.dumps(jobs))
    assert main(["build", "--exports", str(root), "--warehouse", str(tmp_path / "w.duckdb")]) == 0
    failed = [line for line in capsys.readouterr().out.splitlines()
              if line.startswith("check failed: core/ci_jobs:ci_jobs_have_runs")]
    job = jobs["jobs"][0]
    assert failed == [
        f"check failed: core/ci_jobs:ci_jobs_have_runs (warn): {len(jobs['jobs'])} job(s) whose "
        f"workflow run is not in the export: job {job['id']} (run {job['run_id']}, "
        "quayside-dev/ledger-api)"]


def test_an_empty_export_builds_every_table(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Every mart copes with no rows at all (aggregates over nothing are 0, not NULL)."""
    (tmp_path / "exports").mkdir()
    assert main(["build", "--exports", str(tmp_path / "exports"), "--warehouse",
                 str(tmp_path / "w.duckdb")]) == 0
    out = capsys.readouterr().out
    assert "check failed" not in out and "core.ci_jobs" in out
