"""The deploy-failure sensor, evaluated with `dg.build_sensor_context` on a real warehouse file."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from pipelines.defs.automation import deploy_failure_sensor
from tests.models.automation.fakes import ENV, config_toml, seed_warehouse, start_trackers
from warehouse.db import connect


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    conn = connect(path)
    seed_warehouse(conn)
    conn.close()
    return path


def evaluate(path: Path) -> str:
    ctx = dg.build_sensor_context(resources={"duckdb": DuckDBResource(database=str(path))})
    result = deploy_failure_sensor(ctx)
    assert isinstance(result, dg.SkipReason)
    return result.skip_message or ""


def outbox(path: Path) -> list[tuple[str, str, str]]:
    conn = duckdb.connect(str(path), read_only=True)
    try:
        return conn.execute("SELECT idempotency_key, kind, status FROM automation.outbox "
                            "ORDER BY 1").fetchall()
    finally:
        conn.close()


def test_sensor_is_part_of_the_definitions() -> None:
    from pipelines.definitions import defs

    assert "deploy_failure_sensor" in {s.name for s in defs().sensors or ()}


def test_sensor_dry_run_enqueues_once(warehouse: Path, dry_config: Path) -> None:
    assert "enqueued 1 alert(s), 3 ticket(s)" in evaluate(warehouse)
    assert outbox(warehouse) == [
        ("alert:github:502", "alert", "dry_run"), ("github:501", "ticket", "dry_run"),
        ("github:502", "ticket", "dry_run"), ("gitlab:77", "ticket", "dry_run")]
    assert "enqueued nothing" in evaluate(warehouse)
    assert len(outbox(warehouse)) == 4


def test_sensor_sends_live_tickets(warehouse: Path, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    with start_trackers() as trackers:
        config = config_toml(tmp_path / "followthrough.toml", trackers.url)
        monkeypatch.setenv("FOLLOWTHROUGH_CONFIG", str(config))
        for var, value in ENV.items():
            monkeypatch.setenv(var, value)
        evaluate(warehouse)
        assert trackers.invalid == [] and len(trackers.jira) == 3 and len(trackers.slack) == 1
        assert {s for _, _, s in outbox(warehouse)} == {"sent"}
        evaluate(warehouse)
        assert len(trackers.jira) == 3
