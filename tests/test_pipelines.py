"""Dagster definitions: they load, and materialize raw -> core -> models -> marts on a real file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from pipelines.defs import analytics, raw, transform
from pipelines.io import PolarsIOManager
from pipelines.resources import default_resources


def _resources(warehouse: Path, exports: Path) -> dict[str, object]:
    return {
        **default_resources(warehouse, exports),
        "polars_io": PolarsIOManager(database=str(warehouse)),
    }


def test_definitions_load_with_current_apis() -> None:
    from pipelines.definitions import defs

    loaded = defs.load_fn()
    keys = {k.to_user_string() for k in loaded.resolve_asset_graph().get_all_asset_keys()}
    assert {"raw/github_actions", "core/ci_jobs", "core/action_items", "marts/time_to_ticket",
            "models/action_item_delays", "marts/time_to_ticket_monthly"} <= keys
    assert {s.name for s in loaded.schedules} == {"github_actions_daily_schedule", "sources_hourly"}
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
         *transform.sql_assets, analytics.action_item_delays, analytics.time_to_ticket_monthly,
         transform.time_to_ticket_keeps_every_item],
        resources=_resources(warehouse, exports),
        instance=instance,
    )
    assert result.success
    conn = duckdb.connect(str(warehouse), read_only=True)
    assert conn.execute("SELECT count(*) FROM core.ci_jobs").fetchone()[0] == 2
    assert conn.execute("SELECT incident_id FROM core.incidents").fetchall() == [("Q1LDG7R",)]
    conn.close()
    [check] = result.get_asset_check_evaluations()
    assert check.passed


def test_polars_asset_reads_another_assets_polars_output(tmp_path: Path) -> None:
    """models.action_item_delays is stored in DuckDB and handed to the mart as a polars frame."""
    warehouse = tmp_path / "w.duckdb"
    conn = duckdb.connect(str(warehouse))
    from warehouse.db import migrate

    migrate(conn)
    conn.execute("""
        INSERT INTO marts.time_to_ticket (action_item_id, postmortem_id, team, identified_at,
                                          ticket_key, ticket_created_at, hours_to_ticket)
        VALUES
          ('pm#1', 'pm', 'payments', '2025-03-05 15:00:00+00', 'PAY-1', '2025-03-05 18:00:00+00', 3),
          ('pm#2', 'pm', 'payments', '2025-03-05 15:00:00+00', 'PAY-2', '2025-03-10 15:00:00+00', 120),
          ('pm#3', 'pm', 'payments', '2025-03-05 15:00:00+00', NULL, NULL, NULL)
    """)
    conn.close()
    result = dg.materialize(
        [analytics.action_item_delays, analytics.time_to_ticket_monthly],
        resources=_resources(warehouse, tmp_path),
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    handed = result.output_for_node("models__action_item_delays")
    assert isinstance(handed, pl.DataFrame) and handed.height == 3
    conn = duckdb.connect(str(warehouse), read_only=True)
    stored = conn.execute(
        "SELECT action_item_id, observed, duration_h FROM models.action_item_delays ORDER BY 1"
    ).fetchall()
    # the never-ticketed item is censored at the last event in the data (2025-03-10 15:00)
    assert stored == [("pm#1", True, 3.0), ("pm#2", True, 120.0), ("pm#3", False, 120.0)]
    monthly = conn.execute(
        "SELECT team, items, ticketed, never_ticketed, median_hours_ticketed, km_median_hours, "
        "share_within_24h FROM marts.time_to_ticket_monthly"
    ).fetchall()
    conn.close()
    # KM: S(3) = 2/3, S(120) = 2/3 * (1 - 1/2) = 1/3 (the censored item is still at risk at 120)
    [(team, items, ticketed, never, median_plain, km_median, within_24h)] = monthly
    assert (team, items, ticketed, never) == ("payments", 3, 2, 1)
    assert median_plain == 61.5 and km_median == 120.0
    assert abs(within_24h - 1 / 3) < 1e-9


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
