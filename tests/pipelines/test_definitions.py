"""Dagster definitions: they load, and materialize raw -> core -> models -> marts on a real file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from models.settings import Settings
from pipelines.defs import raw, transform
from pipelines.run import RAW, materialize, raw_run_config
from pipelines.runtime import SettingsResource, resources_for


def _resources(warehouse: Path, exports: Path) -> dict[str, object]:
    return resources_for(Settings(warehouse=warehouse, exports=exports))


def test_definitions_load_with_current_apis() -> None:
    from pipelines.definitions import defs

    loaded = defs.load_fn()
    keys = {k.to_user_string() for k in loaded.resolve_asset_graph().get_all_asset_keys()}
    assert {"raw/github_actions", "core/ci_jobs", "core/action_items", "marts/time_to_ticket",
            "models/follow_through_settings", "marts/time_to_ticket_distribution"} <= keys
    assert {s.name for s in loaded.schedules} == {"github_actions_daily_schedule", "sources_hourly",
                                                  "weekly_digest_schedule"}
    assert loaded.resolve_asset_graph().asset_check_keys


def _two_day_export(root: Path, vendors: Path) -> Path:
    """The project's GitHub payloads filed under two days of 2025, one job per day."""
    for folder in ("github/jobs", "github/runs", "pagerduty/incidents"):
        (root / folder).mkdir(parents=True)
    jobs = json.loads((vendors / "github_workflow_run_jobs_list.json").read_text())
    for day, job_id in (("2025-06-03", 1), ("2025-06-04", 2)):
        jobs["jobs"][0]["id"] = job_id
        (root / "github/jobs" / f"{day}.json").write_text(json.dumps(jobs))
        shutil.copyfile(vendors / "github_workflow_runs_list.json",
                        root / "github/runs" / f"{day}.json")
    shutil.copyfile(vendors / "pagerduty_incidents_list.json",
                    root / "pagerduty/incidents/2025-06.json")
    return root


def test_daily_partition_loads_only_its_day(vendor_dir: Path, tmp_path: Path) -> None:
    exports = _two_day_export(tmp_path / "exports", vendor_dir)
    warehouse = tmp_path / "w.duckdb"
    result = dg.materialize(
        [raw.raw_github_actions],
        partition_key="2025-06-04",
        resources=_resources(warehouse, exports),
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    conn = duckdb.connect(str(warehouse), read_only=True)
    assert conn.execute("SELECT list(job_id) FROM raw.github_jobs").fetchone()[0] == [2]
    conn.close()


def test_materialize_ingest_to_marts(vendor_dir: Path, tmp_path: Path) -> None:
    exports = _two_day_export(tmp_path / "exports", vendor_dir)
    warehouse = tmp_path / "w.duckdb"
    instance = dg.DagsterInstance.ephemeral()
    for day in ("2025-06-03", "2025-06-04"):
        assert dg.materialize([raw.raw_github_actions], partition_key=day,
                              resources=_resources(warehouse, exports), instance=instance).success
    result = dg.materialize(
        [raw.raw_jira, raw.raw_linear, raw.raw_pagerduty, raw.raw_postmortems,
         *transform.sql_assets, transform.time_to_ticket_keeps_every_item],
        selection=dg.AssetSelection.groups("raw", "core")
        | dg.AssetSelection.assets(["marts", "time_to_ticket"],
                                   ["models", "action_item_tickets"]),
        resources=_resources(warehouse, exports),
        instance=instance,
    )
    assert result.success
    conn = duckdb.connect(str(warehouse), read_only=True)
    assert conn.execute("SELECT count(*) FROM core.ci_jobs").fetchone()[0] == 2
    assert conn.execute("SELECT incident_id FROM core.incidents").fetchall() == [("Q1LDG7R",)]
    conn.close()
    # raw assets also report `fetch_succeeded` (nothing is configured to fetch here)
    checks = {e.asset_check_key.name: e for e in result.get_asset_check_evaluations()}
    assert checks["time_to_ticket_keeps_every_item"].passed
    assert all(c.passed for c in checks.values())


def test_one_run_loads_the_whole_history(vendor_dir: Path, tmp_path: Path) -> None:
    """The command-line build's raw run: every dated file, also days before the partitions."""
    exports = _two_day_export(tmp_path / "exports", vendor_dir)
    jobs = json.loads((exports / "github/jobs/2025-06-03.json").read_text())
    jobs["jobs"][0]["id"] = 3
    (exports / "github/jobs/2019-01-02.json").write_text(json.dumps(jobs))
    settings = Settings(warehouse=tmp_path / "w.duckdb", exports=exports)
    outcome = materialize(settings, RAW, run_config=raw_run_config(False))
    assert outcome.succeeded and not outcome.failed_checks
    assert outcome.materialized["raw/github_actions"]["files_loaded"].value == 5
    conn = duckdb.connect(str(settings.warehouse), read_only=True)
    assert conn.execute("SELECT list(job_id ORDER BY job_id) FROM raw.github_jobs").fetchone()[0] \
        == [1, 2, 3]
    conn.close()


def test_settings_resource_reads_once_per_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOLLOWTHROUGH_BENCHMARK_DAYS", "3.5")
    resource = SettingsResource(values={"FOLLOWTHROUGH_DONE_WITHIN_DAYS": "7.5"})
    first = resource.get()
    monkeypatch.setenv("FOLLOWTHROUGH_BENCHMARK_DAYS", "9")
    assert resource.get() is first
    assert (first.follow_through.benchmark_days, first.follow_through.done_within_days) == (3.5, 7.5)


def test_redaction_check_fails_on_a_stored_secret(tmp_path: Path) -> None:
    from dagster_duckdb import DuckDBResource

    from pipelines.defs.failures import excerpts_are_redacted
    from warehouse.db import connect

    warehouse = tmp_path / "w.duckdb"
    conn = connect(warehouse)
    conn.execute(
        "INSERT INTO models.failure_excerpts (provider, job_id, fingerprint_version, excerpt) "
        "VALUES ('github', 1, '1', '[{\"n\": 3, \"text\": \"token [REDACTED:github_token]\"}]')"
    )
    conn.close()
    resource = DuckDBResource(database=str(warehouse))
    assert excerpts_are_redacted(duckdb=resource).passed
    conn = connect(warehouse)
    conn.execute(
        "INSERT INTO models.failure_excerpts (provider, job_id, fingerprint_version, excerpt) "
        "VALUES ('github', 2, '1', ?)",
        ['[{"n": 9, "text": "export GH_TOKEN=ghp_' + "A1b2" * 9 + '"}]'],
    )
    conn.close()
    result = excerpts_are_redacted(duckdb=resource)
    assert not result.passed and result.metadata["leaking_jobs"].value == [2]
