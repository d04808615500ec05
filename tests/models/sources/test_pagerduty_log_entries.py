"""PagerDuty log entries load beside their incidents; the trigger's details fill core.incidents."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb

from followthrough.commands.build import build
from models.settings import Settings


def test_log_entries_load_and_the_trigger_details_reach_the_incident(vendor_dir: Path,
                                                                      tmp_path: Path):
    exports = tmp_path / "exports"
    (exports / "pagerduty" / "incidents").mkdir(parents=True)
    (exports / "pagerduty" / "log_entries").mkdir(parents=True)
    incidents = json.loads((vendor_dir / "pagerduty_incidents_list.json").read_text())
    for inc in incidents["incidents"]:
        inc.pop("body", None)  # list responses carry no alert body
    (exports / "pagerduty" / "incidents" / "2025-06.json").write_text(json.dumps(incidents))
    entries = json.loads((vendor_dir / "pagerduty_incident_log_entries_list.json").read_text())
    bad = {"id": "RBAD", "type": "annotate_log_entry", "created_at": "2025-06-03T14:20:00Z"}
    entries["log_entries"].append(bad)
    (exports / "pagerduty" / "log_entries" / "2025-06.json").write_text(json.dumps(entries))
    shutil.rmtree(exports / "postmortems", ignore_errors=True)
    build(Settings(warehouse=tmp_path / "w.duckdb", exports=exports))
    conn = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    good = [e for e in entries["log_entries"] if e["id"] != "RBAD"]
    rows = conn.execute("SELECT log_entry_id, incident_id, type, summary, agent_summary "
                        "FROM raw.pagerduty_log_entries ORDER BY created_at, log_entry_id"
                        ).fetchall()
    assert sorted(r[0] for r in rows) == sorted(e["id"] for e in good)
    first = min(good, key=lambda e: e["created_at"])
    assert rows[0] == (first["id"], first["incident"]["id"], first["type"], first["summary"],
                       first["agent"]["summary"])
    quarantined = conn.execute("SELECT record_key, reason FROM raw.quarantine").fetchall()
    assert quarantined == [("RBAD", "log entry RBAD names no incident (incident.id)")]
    trigger = next(e for e in good if e["type"] == "trigger_log_entry")
    details = conn.execute("SELECT details FROM core.incidents WHERE incident_id = ?",
                           [trigger["incident"]["id"]]).fetchone()[0]
    assert json.loads(details) == trigger["channel"]["details"]
    conn.close()
