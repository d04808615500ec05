"""Linear issue payload variants real accounts produce, loaded through the real loader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from models.sources.linear import identifier_from_url
from warehouse.db import connect
from warehouse.ingest import ingest
from warehouse.sources import LINEAR


def _load(tmp_path: Path, payload: Any) -> duckdb.DuckDBPyConnection:
    root = tmp_path / "exports"
    (root / "linear/issues").mkdir(parents=True)
    (root / "linear/issues/2025-06.json").write_text(json.dumps(payload))
    conn = connect(tmp_path / "w.duckdb")
    ingest(conn, root, [LINEAR])
    return conn


def _issues(conn: duckdb.DuckDBPyConnection) -> list[tuple]:
    return conn.execute(
        "SELECT identifier, team_key, state_name, state_type, labels, completed_at::VARCHAR "
        "FROM raw.linear_issues ORDER BY identifier"
    ).fetchall()


def _quarantined(conn: duckdb.DuckDBPyConnection) -> list[tuple]:
    return conn.execute("SELECT record_index, reason FROM raw.quarantine").fetchall()


def _node(identifier: str) -> dict[str, Any]:
    # An `Issue` node with fields of Linear's SDL (packages/sdk/src/schema.graphql).
    return {
        "id": f"id-{identifier}",
        "identifier": identifier,
        "url": f"https://linear.app/quayside/issue/{identifier}/a-slug",
        "title": identifier,
        "state": {"name": "Todo", "type": "unstarted"},
        "team": {"key": identifier.split("-")[0]},
    }


def test_relay_edges_and_nodes_without_identifier_team_or_state_type_load(
    vendor_payload, tmp_path: Path
) -> None:
    # The Relay form `issues { edges { cursor node { ... } } pageInfo }` (IssueConnection.edges:
    # [IssueEdge!]!, IssueEdge.node: Issue!); the first node was queried without `identifier`,
    # `team` and `state.type`, and its labels and comments are connections in the edges form.
    conn = _load(tmp_path, vendor_payload("linear_issues_edges_response.json"))
    assert _quarantined(conn) == []
    assert _issues(conn) == [
        ("LEDG-41", "LEDG", "Done", None, ["postmortem"], "2025-06-05 09:30:00+00"),
        ("OPS-7", "OPS", "Todo", "unstarted", [], None),
    ]
    assert conn.execute(
        "SELECT identifier, kind, author, body FROM raw.linear_events"
    ).fetchall() == [("LEDG-41", "comment", "Amara Osei", "Shipped in 2025.06.4")]
    conn.close()


def test_identifier_is_read_from_the_issue_url() -> None:
    assert identifier_from_url("https://linear.app/quayside/issue/DEV-1/fix-the-thing") == "DEV-1"
    assert identifier_from_url("https://linear.app/quayside/issue/DEV-12") == "DEV-12"
    assert identifier_from_url("https://linear.app/quayside/project/x-1/overview") is None
    assert identifier_from_url(None) is None


def test_node_without_identifier_or_url_is_still_quarantined(tmp_path: Path) -> None:
    bare = _node("DEV-2")
    del bare["identifier"], bare["url"]
    conn = _load(tmp_path, {"data": {"issues": {"nodes": [_node("DEV-1"), bare]}}})
    assert [r[0] for r in _issues(conn)] == ["DEV-1"]
    [(index, reason)] = _quarantined(conn)
    assert index == 1 and "identifier" in reason
    conn.close()


def test_issue_lists_as_clients_store_them_load(tmp_path: Path) -> None:
    # The GraphQL response with extra top-level keys (`extensions`), the `issues` connection
    # stored without the `data` envelope (what the SDK returns), and a bare array of nodes
    # (a paginating client concatenating `nodes` of every page).
    variants = [
        {"data": {"issues": {"nodes": [_node("DEV-1")], "pageInfo": {}}}, "extensions": {}},
        {"issues": {"nodes": [_node("DEV-1")]}},
        {"issues": {"edges": [{"cursor": "c", "node": _node("DEV-1")}]}},
        [_node("DEV-1")],
    ]
    for i, payload in enumerate(variants):
        conn = _load(tmp_path / str(i), payload)
        assert _quarantined(conn) == [], payload
        assert [r[:2] for r in _issues(conn)] == [("DEV-1", "DEV")], payload
        conn.close()


def test_a_file_without_an_issue_list_is_refused_whole(tmp_path: Path) -> None:
    conn = _load(tmp_path, {"data": {"teams": {"nodes": []}}})
    [(index, reason)] = _quarantined(conn)
    assert index == -1 and "wrong shape" in reason
    conn.close()


def test_truncated_edges_file_keeps_the_issues_before_the_break(vendor_payload, tmp_path: Path) -> None:
    text = json.dumps(vendor_payload("linear_issues_edges_response.json"))
    cut = text.index('"identifier": "OPS-7"')  # inside the second edge
    root = tmp_path / "exports"
    (root / "linear/issues").mkdir(parents=True)
    (root / "linear/issues/2025-06.json").write_text(text[:cut])
    conn = connect(tmp_path / "w.duckdb")
    ingest(conn, root, [LINEAR])
    assert [r[0] for r in _issues(conn)] == ["LEDG-41"]
    [(index, reason)] = _quarantined(conn)
    assert index == 1 and ("truncated" in reason or "malformed" in reason)
    conn.close()


def test_history_entries_name_who_made_the_change(tmp_path: Path) -> None:
    node = _node("OPS-7")
    node["history"] = {"nodes": [
        {"createdAt": "2025-06-04T09:00:00.000Z", "actor": {"name": "Dana Ruiz"},
         "fromDueDate": "2025-06-10", "toDueDate": "2025-06-24"},
        {"createdAt": "2025-06-05T09:00:00.000Z", "fromState": {"name": "Todo"},
         "toState": {"name": "In Progress"}},
    ]}
    conn = _load(tmp_path, {"data": {"issues": {"nodes": [node]}}})
    rows = conn.execute("SELECT field, author FROM raw.linear_events ORDER BY seq").fetchall()
    assert rows == [("dueDate", "Dana Ruiz"), ("state", None)]
