"""The deploy-failure sensor drains the webhook spool: a failed production deployment delivered
by webhook is landed, loaded and becomes exactly one outbox ticket (`dg.build_sensor_context`)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from models.automation.spool import Spool, extract
from pipelines.defs.automation import deploy_failure_sensor
from tests.models.automation.fakes import ENV

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "vendors" / "real" / "github" / "webhooks"


def _ts(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def deliveries(now: datetime) -> list[tuple[str, dict[str, Any]]]:
    """GitHub's published examples, moved to now: the deploy job failed, then the deployment
    status turned `failure` pointing at that job."""
    job = json.loads((REAL / "workflow_job_completed_failure.json").read_text(encoding="utf-8"))
    j = job["workflow_job"]
    job_url = "https://github.com/Codertocat/Hello-World/actions/runs/2202229078/job/289782451"
    j.update(name="deploy-production", head_sha="f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
             created_at=_ts(now - timedelta(minutes=3)),
             started_at=_ts(now - timedelta(minutes=3)), completed_at=_ts(now),
             html_url=job_url,
             run_url="https://api.github.com/repos/Codertocat/Hello-World/actions/runs/2202229078")
    dep = json.loads((REAL / "deployment_status.json").read_text(encoding="utf-8"))
    dep["deployment"].update(created_at=_ts(now - timedelta(minutes=4)), updated_at=_ts(now))
    dep["deployment_status"].update(state="failure", target_url=job_url, created_at=_ts(now),
                                    updated_at=_ts(now))
    return [("workflow_job", job), ("deployment_status", dep)]


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    config = tmp_path / "followthrough.toml"
    config.write_text('[automation]\n[automation.webhook]\nspool = "spool"\n', encoding="utf-8")
    exports = tmp_path / "exports"
    exports.mkdir()
    monkeypatch.setenv("FOLLOWTHROUGH_CONFIG", str(config))
    monkeypatch.setenv("FOLLOWTHROUGH_EXPORTS", str(exports))
    for var in ENV:
        monkeypatch.delenv(var, raising=False)
    return {"spool": tmp_path / "spool", "exports": exports,
            "warehouse": tmp_path / "w.duckdb"}


def evaluate(path: Path) -> str:
    ctx = dg.build_sensor_context(resources={"duckdb": DuckDBResource(database=str(path))})
    result = deploy_failure_sensor(ctx)
    assert isinstance(result, dg.SkipReason)
    return result.skip_message or ""


def tickets(path: Path) -> list[tuple[str, str, dict[str, Any]]]:
    conn = duckdb.connect(str(path), read_only=True)
    try:
        rows = conn.execute("SELECT idempotency_key, status, payload FROM automation.outbox "
                            "WHERE kind = 'ticket' ORDER BY 1").fetchall()
    finally:
        conn.close()
    return [(k, s, json.loads(p)) for k, s, p in rows]


def test_sensor_turns_a_spooled_failed_deploy_into_one_ticket(setup: dict[str, Path]) -> None:
    spool = Spool(setup["spool"])
    now = datetime.now(UTC).replace(microsecond=0)
    items = deliveries(now)
    for n, (event, body) in enumerate(items):
        spool.put(extract(event, body, delivery=f"d-{n}"))
    message = evaluate(setup["warehouse"])
    assert "2 delivery(ies) landed" in message and "enqueued 1 ticket(s)" in message
    assert spool.pending() == []
    ((key, status, payload),) = tickets(setup["warehouse"])
    assert (key, status) == ("github:145988746", "dry_run")
    text = json.dumps(payload)
    for expected in ("Codertocat/Hello-World", "production", "deploy-production",
                     "f95f852bd8fca8fcc58a9a2d6c842781e32a215e", "Codertocat",
                     "Run yarn run format-check"):
        assert expected in text
    # Nothing new: nothing added. A redelivery of the same status: landed again, no new ticket.
    assert "enqueued nothing" in evaluate(setup["warehouse"])
    spool.put(extract(*copy.deepcopy(items[1]), delivery="d-1"))
    message = evaluate(setup["warehouse"])
    assert "1 delivery(ies) landed" in message and "enqueued nothing" in message
    assert len(tickets(setup["warehouse"])) == 1


def test_automate_once_drains_the_spool_too(setup: dict[str, Path],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from followthrough.cli import main
    from warehouse.db import connect

    connect(setup["warehouse"]).close()  # an empty, migrated warehouse
    spool = Spool(setup["spool"])
    for n, (event, body) in enumerate(deliveries(datetime.now(UTC).replace(microsecond=0))):
        spool.put(extract(event, body, delivery=f"c-{n}"))
    assert main(["automate", "--once", "--warehouse", str(setup["warehouse"])]) == 0
    out = capsys.readouterr().out
    assert "webhook spool: 2 delivery(ies) landed" in out and "enqueued 1 ticket(s)" in out
    assert spool.pending() == [] and [k for k, _, _ in tickets(setup["warehouse"])] == \
        ["github:145988746"]
