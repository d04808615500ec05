"""PagerDuty incident payload variants real accounts produce, loaded through the real loader."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import duckdb

from warehouse.db import connect
from warehouse.ingest import ingest
from warehouse.sources import PAGERDUTY


def _load(tmp_path: Path, payload: Any) -> duckdb.DuckDBPyConnection:
    root = tmp_path / "exports"
    (root / "pagerduty/incidents").mkdir(parents=True)
    (root / "pagerduty/incidents/2025-06.json").write_text(json.dumps(payload))
    conn = connect(tmp_path / "w.duckdb")
    ingest(conn, root, [PAGERDUTY])
    return conn


def test_resolved_incident_without_resolved_at_takes_its_last_status_change(
    vendor_payload, tmp_path: Path
) -> None:
    # The List incidents response (PagerDuty api-schema `GET /incidents` example): an incident
    # carries `last_status_change_at`; `resolved_at` is absent from some accounts' responses.
    payload = vendor_payload("pagerduty_incidents_list.json")
    resolved = payload["incidents"][0]
    del resolved["resolved_at"]
    resolved["last_status_change_at"] = "2025-06-03T16:51:42+02:00"
    acked = copy.deepcopy(resolved)
    acked.update(id="Q2ACK00", incident_number=318, status="acknowledged",
                 last_status_change_at="2025-06-03T14:20:00Z")
    payload["incidents"].append(acked)
    conn = _load(tmp_path, payload)
    assert conn.execute(
        "SELECT incident_id, status, resolved_at::VARCHAR FROM raw.pagerduty_incidents ORDER BY 1"
    ).fetchall() == [("Q1LDG7R", "resolved", "2025-06-03 14:51:42+00"),
                     ("Q2ACK00", "acknowledged", None)]
    conn.close()


def test_incident_lists_as_clients_store_them_load(vendor_payload, tmp_path: Path) -> None:
    # A paginating client (pdpyras `list_all`) stores the `incidents` of every page as one array.
    incidents = vendor_payload("pagerduty_incidents_list.json")["incidents"]
    conn = _load(tmp_path, incidents)
    assert conn.execute("SELECT list(incident_id) FROM raw.pagerduty_incidents").fetchone()[0] == [
        "Q1LDG7R"
    ]
    assert conn.execute("SELECT count(*) FROM raw.quarantine").fetchone()[0] == 0
    conn.close()
