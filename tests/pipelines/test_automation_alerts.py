"""The repeat-failure sensor and the weekly digest schedule, evaluated with
`dg.build_sensor_context` / `dg.build_schedule_context` on real warehouse files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from models.automation import outbox as ob
from pipelines.defs.automation_alerts import (
    DIGEST_AT_TAG,
    digest_cron,
    repeat_failure_sensor,
    weekly_digest_job,
    weekly_digest_schedule,
)
from tests.models.automation.fakes import ENV, config_toml, start_trackers
from tests.models.automation.followups import mount_followups, seed_repeats
from tests.models.automation.test_digest import MONDAY, WEEK, seed_stale
from warehouse.db import connect


def outbox(path: Path) -> list[tuple[str, str, str]]:
    conn = duckdb.connect(str(path), read_only=True)
    try:
        return conn.execute("SELECT idempotency_key, kind, status FROM automation.outbox "
                            "ORDER BY 1").fetchall()
    finally:
        conn.close()


def evaluate(path: Path) -> str:
    ctx = dg.build_sensor_context(resources={"duckdb": DuckDBResource(database=str(path))})
    result = repeat_failure_sensor(ctx)
    assert isinstance(result, dg.SkipReason)
    return result.skip_message or ""


def test_both_are_part_of_the_definitions() -> None:
    from pipelines.definitions import defs

    d = defs()
    assert "repeat_failure_sensor" in {s.name for s in d.sensors or ()}
    assert "weekly_digest_schedule" in {s.name for s in d.schedules or ()}
    d.get_job_def("weekly_digest")


def test_repeat_sensor_dry_run_enqueues_once(tmp_path: Path, dry_config: Path) -> None:
    path = tmp_path / "w.duckdb"
    conn = connect(path)
    ids = seed_repeats(conn, ob.now_utc())
    conn.close()
    message = evaluate(path)
    assert message.startswith("enqueued 2 alert(s), 1 reopen(s); sent 0, failed 0")
    assert outbox(path) == sorted([
        (f"fixfail:OPS-31:github:{ids['after_fix']}", "reopen", "dry_run"),
        (f"repeat:github:{ids['after_fix']}", "alert", "dry_run"),
        (f"repeat:github:{ids['fresh']}", "alert", "dry_run"),
    ])
    assert evaluate(path).startswith("enqueued nothing; sent 0, failed 0; outbox: dry_run 3")


def test_repeat_sensor_sends_to_live_targets(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "w.duckdb"
    conn = connect(path)
    seed_repeats(conn, ob.now_utc())
    conn.close()
    with start_trackers() as trackers:
        follow = mount_followups(trackers)
        config = config_toml(tmp_path / "ft.toml", trackers.url)
        monkeypatch.setenv("FOLLOWTHROUGH_CONFIG", str(config))
        for k, v in ENV.items():
            monkeypatch.setenv(k, v)
        message = evaluate(path)
        assert "sent 3, failed 0" in message, message
        assert len(trackers.slack) == 2 and len(follow.jira_comments["OPS-31"]) == 1
        assert trackers.invalid == []


def test_digest_schedule_requests_one_run_per_week(tmp_path: Path, dry_config: Path) -> None:
    assert weekly_digest_schedule.cron_schedule == "0 8 * * 1"
    ctx = dg.build_schedule_context(scheduled_execution_time=MONDAY)
    request = weekly_digest_schedule(ctx)
    assert isinstance(request, dg.RunRequest)
    assert request.run_key == f"digest-{WEEK}"
    assert request.tags[DIGEST_AT_TAG] == MONDAY.isoformat()

    path = tmp_path / "w.duckdb"
    conn = connect(path)
    seed_stale(conn)
    conn.close()
    result = weekly_digest_job.execute_in_process(
        resources={"duckdb": DuckDBResource(database=str(path))}, tags=request.tags)
    assert result.success
    rows = outbox(path)
    # no addresses in this config: owners and "EM of <team>" recorded as dry runs
    assert len(rows) == 6 and {(r[1], r[2]) for r in rows} == {("digest", "dry_run")}
    assert all(r[0].startswith(f"digest:{WEEK}:") for r in rows)
    again = weekly_digest_job.execute_in_process(
        resources={"duckdb": DuckDBResource(database=str(path))}, tags=request.tags)
    assert again.success and len(outbox(path)) == 6


def test_digest_cron_follows_the_config(tmp_path: Path) -> None:
    from models.automation.config import load_automation

    path = tmp_path / "ft.toml"
    path.write_text('[automation.digest]\nweekday = "sunday"\nhour = 18\n', encoding="utf-8")
    assert digest_cron(load_automation(path, env={})) == "0 18 * * 0"
    assert datetime(2026, 11, 29, tzinfo=UTC).weekday() == 6
