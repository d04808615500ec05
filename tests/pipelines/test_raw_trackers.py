"""The raw/github_issues and raw/slack assets load landed connector files into the warehouse."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import duckdb

from models.settings import Settings
from pipelines.defs import raw, raw_trackers, transform
from pipelines.runtime import resources_for


def test_tracker_assets_load_and_feed_core(vendor_dir: Path, tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    for folder in ("github_issues/issues", "slack/messages", "pagerduty/incidents"):
        (exports / folder).mkdir(parents=True)
    issue = json.loads((vendor_dir / "github_issues_list.json").read_text())[0]
    del issue["pull_request"]
    (exports / "github_issues/issues/2026-11.quayside-dev__ledger-api.json").write_text(
        json.dumps([issue]))
    history = json.loads((vendor_dir / "slack_conversations_history.json").read_text())
    for m in history["messages"]:
        m["channel"] = {"id": "C07LDG0317", "name": "inc-317-ledger-latency"}
    (exports / "slack/messages/2025-06-03.inc-317-ledger-latency.json").write_text(
        json.dumps(history["messages"]))
    shutil.copyfile(vendor_dir / "pagerduty_incidents_list.json",
                    exports / "pagerduty/incidents/2025-06.json")
    warehouse = tmp_path / "w.duckdb"
    result = dg.materialize(
        [raw_trackers.raw_github_issues, raw_trackers.raw_slack, raw.raw_pagerduty,
         *raw_trackers.tracker_quarantine_checks, *transform.sql_assets],
        selection=dg.AssetSelection.assets(
            ["raw", "github_issues"], ["raw", "slack"], ["raw", "pagerduty"],
            ["core", "incidents"], ["core", "tickets"], ["core", "incident_timeline"]),
        resources=resources_for(Settings(warehouse=warehouse, exports=exports)),
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    assert all(c.passed for c in result.get_asset_check_evaluations())
    conn = duckdb.connect(str(warehouse), read_only=True)
    assert conn.execute("SELECT ticket_key, provider, priority FROM core.tickets").fetchall() == [
        ("quayside-dev/ledger-api#212", "github", "P1")]
    assert conn.execute(
        "SELECT incident_id, ts FROM core.incident_timeline ORDER BY ts").fetchall() == [
        ("Q1LDG7R", "1748959781.000216"), ("Q1LDG7R", "1748961067.014900")]
    conn.close()
