"""Jira Cloud issue payload variants real accounts produce, loaded through the real loader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from warehouse.db import connect
from warehouse.ingest import ingest
from warehouse.sources import JIRA

DONE = {"id": "10002", "name": "Done", "statusCategory": {"key": "done", "name": "Done"}}
IN_PROGRESS = {"id": "3", "name": "In Progress", "statusCategory": {"key": "indeterminate"}}


def _load(tmp_path: Path, payload: Any) -> duckdb.DuckDBPyConnection:
    root = tmp_path / "exports"
    (root / "jira/issues").mkdir(parents=True)
    (root / "jira/issues/2025-06.json").write_text(json.dumps(payload))
    conn = connect(tmp_path / "w.duckdb")
    ingest(conn, root, [JIRA])
    return conn


def _history(hid: str | None, created: str, *items: dict[str, Any]) -> dict[str, Any]:
    # A changelog history as in the search/jql response with expand=changelog
    # (`changelog.histories[]`: id, author, created, items[field, fieldtype, from, fromString, to,
    # toString]), the shape of shared/contracts/jira_issue_changelog_response.json `values`.
    h: dict[str, Any] = {
        "author": {"displayName": "Tomás Ferreira"},
        "created": created,
        "items": list(items),
    }
    if hid is not None:
        h["id"] = hid
    return h


def _status(frm: dict[str, Any], to: dict[str, Any]) -> dict[str, Any]:
    return {"field": "status", "fieldtype": "jira", "fieldId": "status", "from": frm["id"],
            "fromString": frm["name"], "to": to["id"], "toString": to["name"]}


def _issue(vendor_payload, key: str, status: dict[str, Any], resolutiondate: str | None,
           histories: list[dict[str, Any]], comments: list[dict[str, Any]] | None = None) -> dict:
    issue = vendor_payload("jira_search_jql_response.json")["issues"][0]
    issue["key"] = key
    issue["id"] = str(20000 + int(key.split("-")[1]))
    issue["fields"]["status"] = status
    issue["fields"]["resolutiondate"] = resolutiondate
    issue["changelog"] = {"startAt": 0, "maxResults": 100, "total": len(histories),
                          "histories": histories}
    if comments is not None:
        # `fields.comment` as the issue's comment field returns it: a page of comments.
        issue["fields"]["comment"] = {"comments": comments, "maxResults": 50,
                                      "total": len(comments), "startAt": 0}
    return issue


def _quarantine(conn: duckdb.DuckDBPyConnection) -> list[tuple]:
    return conn.execute(
        "SELECT record_index, record_key, reason, snippet FROM raw.quarantine ORDER BY ALL"
    ).fetchall()


def test_a_bad_changelog_entry_is_quarantined_and_the_issue_keeps_its_other_events(
    vendor_payload, tmp_path: Path
) -> None:
    todo = {"id": "1", "name": "To Do"}
    histories = [
        _history("100", "2025-06-03T15:05:00.000+0000", _status(todo, IN_PROGRESS)),
        _history(None, "2025-06-03T16:00:00.000+0000",
                 {"field": "assignee", "fromString": None, "toString": "Amara Osei"}),
        _history("102", "2025-06-04T10:00:00.000+0000", _status(IN_PROGRESS, DONE)),
    ]
    comments = [
        {"id": "50871", "author": {"displayName": "Tomás Ferreira"}, "body": "Reproduced",
         "created": "2025-06-03T16:40:00.000+0000"},
        {"author": {"displayName": "Amara Osei"}, "body": "no id on this one",
         "created": "2025-06-03T17:00:00.000+0000"},
    ]
    other = _issue(vendor_payload, "LEDG-232", IN_PROGRESS, None, [])
    bad = _issue(vendor_payload, "LEDG-231", DONE, "2025-06-04T10:00:05.000+0000", histories,
                 comments)
    conn = _load(tmp_path, {"issues": [other, bad], "isLast": True})
    assert conn.execute(
        "SELECT key, issue_id, status FROM raw.jira_issues ORDER BY key"
    ).fetchall() == [("LEDG-231", "20231", "Done"), ("LEDG-232", "20232", "In Progress")]
    assert conn.execute(
        "SELECT event_id, kind, to_value, body FROM raw.jira_events ORDER BY ALL"
    ).fetchall() == [
        ("c50871", "comment", None, "Reproduced"),
        ("h100", "change", "In Progress", None),
        ("h102", "change", "Done", None),
    ]
    [(index, key, reason, snippet)] = _quarantine(conn)
    assert (index, key) == (1, "LEDG-231")
    assert "issue LEDG-231: changelog entry 1 left out: missing required field 'id'" in reason
    assert "issue LEDG-231: comment 1 left out: missing required field 'id'" in reason
    assert "Amara Osei" in snippet
    conn.close()


def test_resolved_at_comes_from_the_last_move_to_done_when_resolutiondate_is_null(
    vendor_payload, tmp_path: Path
) -> None:
    reopened = [
        _history("1", "2025-06-04T10:00:00.000+0000", _status(IN_PROGRESS, DONE)),
        _history("2", "2025-06-05T08:00:00.000+0000", _status(DONE, IN_PROGRESS)),
        _history("3", "2025-06-06T12:30:00.000-0200", _status(IN_PROGRESS, DONE)),
    ]
    # The status was renamed since the move: the item's `to` (status id) still matches.
    renamed = [_history("4", "2025-06-07T09:00:00.000+0000",
                        {**_status(IN_PROGRESS, DONE), "toString": "Closed"})]
    with_date = [_history("5", "2025-06-08T09:00:00.000+0000", _status(IN_PROGRESS, DONE))]
    not_done = [_history("6", "2025-06-08T09:00:00.000+0000", _status(DONE, IN_PROGRESS))]
    payload = {"issues": [
        _issue(vendor_payload, "LEDG-1", DONE, None, reopened),
        _issue(vendor_payload, "LEDG-2", DONE, None, renamed),
        _issue(vendor_payload, "LEDG-3", DONE, "2025-06-08T09:00:07.000+0000", with_date),
        _issue(vendor_payload, "LEDG-4", IN_PROGRESS, None, not_done),
        _issue(vendor_payload, "LEDG-5", DONE, None, []),
    ]}
    conn = _load(tmp_path, payload)
    assert conn.execute(
        "SELECT key, resolved_at::VARCHAR FROM raw.jira_issues ORDER BY key"
    ).fetchall() == [
        ("LEDG-1", "2025-06-06 14:30:00+00"),
        ("LEDG-2", "2025-06-07 09:00:00+00"),
        ("LEDG-3", "2025-06-08 09:00:07+00"),
        ("LEDG-4", None),
        ("LEDG-5", None),
    ]
    assert _quarantine(conn) == []
    conn.close()


def test_issue_lists_as_clients_store_them_load(vendor_payload, tmp_path: Path) -> None:
    issue = vendor_payload("jira_search_jql_response.json")["issues"][0]
    # The enhanced search response with its other keys (`names`, `schema`, `nextPageToken`),
    # and the `issues` arrays of every page concatenated into a bare array.
    variants = [
        {"issues": [issue], "names": {"summary": "Summary"}, "schema": {}, "nextPageToken": "x"},
        [issue],
    ]
    for i, payload in enumerate(variants):
        conn = _load(tmp_path / str(i), payload)
        assert _quarantine(conn) == []
        assert conn.execute("SELECT list(key) FROM raw.jira_issues").fetchone()[0] == ["LEDG-231"]
        conn.close()
