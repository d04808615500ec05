"""The Automation page against a real warehouse whose outbox was filled over loopback."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboards.reads import automation as reads
from dashboards.reads.connection import WAREHOUSE_ENV
from models.automation import outbox
from models.automation.config import load_automation
from models.automation.run import run_once
from tests.models.automation.fakes import ENV, config_toml, seed_warehouse, start_trackers
from tests.vendor_server import Fault
from warehouse.db import connect

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """Two tickets created, one failed by a 500 (waiting for its retry), one Slack alert."""
    path = tmp_path / "w.duckdb"
    conn = connect(path)
    seed_warehouse(conn)
    with start_trackers() as trackers:
        trackers.server.fail_next("POST", r"/rest/api/3/issue", Fault(status=500), times=1)
        cfg = load_automation(config_toml(tmp_path / "ft.toml", trackers.url))
        run_once(conn, cfg, env=ENV, sleep=lambda _: None)
    # the failures happened ten minutes before the tickets were sent
    conn.execute("UPDATE automation.outbox SET event_at = sent_at - INTERVAL 10 MINUTE "
                 "WHERE status = 'sent'")
    conn.close()
    return path


def _page(monkeypatch: pytest.MonkeyPatch, warehouse: Path) -> AppTest:
    monkeypatch.setenv(WAREHOUSE_ENV, str(warehouse))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("app_pages/automation.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_page_shows_the_outbox(monkeypatch: pytest.MonkeyPatch, warehouse: Path) -> None:
    at = _page(monkeypatch, warehouse)
    m = {x.label: (x.value, x.delta) for x in at.metric}
    assert m["Incident tickets"] == ("3", "2 created")
    assert m["Waiting or failed"] == ("1", "1 failed, retried later")
    assert m["Alerts sent"][0] == "1"  # the SEV2 alert went out (its ticket was created)
    assert m["Median failure → ticket"][0] == "10.0 min"
    status, pending, tickets = (d.value for d in at.dataframe)
    assert set(zip(status["kind"], status["status"], status["rows"], strict=True)) == {
        ("ticket", "sent", 2), ("ticket", "failed", 1), ("alert", "sent", 1)}
    assert len(pending) == 1 and "HTTP 500" in pending["last_error"][0]
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        (key,) = conn.execute("SELECT idempotency_key FROM automation.outbox "
                              "WHERE status = 'failed'").fetchone()
    finally:
        conn.close()
    assert pending["idempotency_key"][0] == key
    assert len(tickets) == 3


def test_dry_run_outbox_has_no_time_to_ticket(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    conn = connect(path)
    seed_warehouse(conn)
    run_once(conn, load_automation(None, env={}), env={})
    now = outbox.now_utc()
    assert outbox.due(conn, now + timedelta(days=1), 10) == []
    conn.close()
    head = reads.headline(reads.load_outbox(path))
    assert head.dry_run == 4 and head.tickets_sent == 0
    assert head.median_minutes_to_ticket is None
