"""Jira Cloud connector against a loopback Jira answering with the published search/jql payloads:
what it asks for, what it lands, the rows those files load into, and how it survives faults."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from models.connectors import jira
from models.connectors.config import JiraConfig
from models.connectors.http import ApiError
from models.connectors.registry import run
from tests.models.connectors.fake_jira import FakeJira
from tests.models.connectors.ticket_harness import context, rows, templates_dir, tree, warehouse
from tests.vendor_server import Fault, VendorServer
from warehouse.sources import JIRA

SINCE = datetime(2025, 5, 1, tzinfo=UTC)
NOW = datetime(2025, 6, 30, tzinfo=UTC)
ENV = {"JIRA_EMAIL": FakeJira.email, "JIRA_API_TOKEN": FakeJira.token}
CORE = ("core.tickets", "core.ticket_events")


def _cfg(server: VendorServer, **kw: Any) -> JiraConfig:
    base: dict[str, Any] = dict(site_url=server.url, jql="project = LEDG", page_size=7,
                                timeout_s=2.0, max_attempts=4)
    base.update(kw)
    return JiraConfig(**base)


def _fetch(server: VendorServer, root: Path, waits: list[float] | None = None,
           now: datetime = NOW, **kw: Any) -> Any:
    return run("jira", _cfg(server, **kw), context(root, SINCE, now, ENV,
                                                  waits if waits is not None else []))


@pytest.fixture(params=["own", "published"])
def templates(request: pytest.FixtureRequest) -> Path:
    return templates_dir(request.param, request)


def test_lands_search_pages_as_monthly_files_that_load_field_by_field(
        templates: Path, tmp_path: Path) -> None:
    with VendorServer() as server:
        fake = FakeJira(server, templates, issues=30)
        result = _fetch(server, tmp_path / "exports")
        searches = server.requests("POST", r"/rest/api/3/search/jql")

    assert result.records == 30 and not result.notes
    landed = tree(tmp_path / "exports")
    assert sorted(landed) == [".state/jira.json", "jira/issues/2025-05.json",
                              "jira/issues/2025-06.json"]
    may = json.loads(landed["jira/issues/2025-05.json"])
    assert may["isLast"] is True and set(may) == {"issues", "isLast"}
    # Created from 2025-05-25 09:00, 7 h apart: LEDG-1..23 in May, LEDG-24..30 in June, each
    # file sorted by issue id.
    assert [i["key"] for i in may["issues"]] == [f"LEDG-{n}" for n in range(1, 24)]
    june = json.loads(landed["jira/issues/2025-06.json"])["issues"]
    assert [i["key"] for i in june] == [f"LEDG-{n}" for n in range(24, 31)]
    # The cursor is the newest `updated` seen: LEDG-30's, 2025-06-03 03:00.
    assert json.loads(landed[".state/jira.json"]) == {"cursor": "2025-06-03T03:00:00Z"}

    # Every search: bounded JQL in the account's time zone, explicit fields, the changelog.
    assert len(searches) == 5  # 30 issues, 7 a page
    start_local = SINCE.astimezone(ZoneInfo("Australia/Sydney"))
    for req in searches:
        body = req.json()
        assert body["jql"] == (f'(project = LEDG) AND updated >= "{start_local:%Y-%m-%d %H:%M}" '
                               "ORDER BY updated ASC")
        assert body["fields"] == list(jira.FIELDS) and "*all" not in body["fields"]
        assert body["expand"] == "changelog" and body["maxResults"] == 7
    assert [r.json().get("nextPageToken") is None for r in searches] == [True] + [False] * 4
    assert not server.requests(None, r"/rest/api/3/search")
    # Issues with more history than the search returns (i % 6 > 3) were completed in bulk.
    bulk = server.requests("POST", r"/rest/api/3/changelog/bulkfetch")
    asked = {k for r in bulk for k in r.json()["issueIdsOrKeys"]}
    assert asked == {fake.issue_id(i) for i in range(30) if i % 6 > 3}

    conn = warehouse(tmp_path / "w.duckdb", tmp_path / "exports", [JIRA], CORE)
    assert conn.execute("SELECT count(*) FROM raw.jira_issues").fetchone() == (30,)
    n_events = sum(i % 6 + i % 4 for i in range(30))
    assert conn.execute("SELECT count(*) FROM core.ticket_events").fetchone() == (n_events,)
    utc = UTC
    by_key = {r[0]: r for r in rows(conn, "raw.jira_issues", "key")}
    assert by_key["LEDG-4"] == (
        "LEDG-4", "30003", "LEDG", "Ledger follow-up 4", "Action item 4 from the ledger incident",
        "Task", "Done", "done", "Tomás Ferreira", "tomas@quayside.example", "Low",
        ["postmortem", "svc-3"],
        datetime(2025, 5, 26, 6, 0, tzinfo=utc), datetime(2025, 5, 26, 12, 0, tzinfo=utc),
        datetime(2025, 5, 28, 6, 0, tzinfo=utc), date(2025, 6, 9), "LEDG Sprint 40",
        datetime(2025, 5, 19, 8, 0, tzinfo=utc), datetime(2025, 6, 2, 8, 0, tzinfo=utc),
        "https://quayside.atlassian.net/browse/LEDG-4",
    )
    ticket = conn.execute(
        "SELECT ticket_key, provider, ticket_id, project, status, status_category, assignee, "
        "priority, labels, created_at, resolved_at, due_date, sprint, sprint_end "
        "FROM core.tickets WHERE ticket_key = 'LEDG-11'").fetchone()
    # LEDG-11 (i = 10): In Progress, Medium, Amara Osei, created 2025-05-28 07:00.
    assert ticket == ("LEDG-11", "jira", "30010", "LEDG", "In Progress", "in_progress",
                      "Amara Osei", "P3", ["postmortem", "svc-2"],
                      datetime(2025, 5, 28, 7, 0, tzinfo=utc), None, date(2025, 6, 11),
                      "LEDG Sprint 41", datetime(2025, 6, 2, 8, 0, tzinfo=utc))
    # LEDG-6 (i = 5): five changelog entries (the search returned three: bulk fetch filled in
    # the rest, `created` as epoch milliseconds) and one comment.
    events = conn.execute(
        "SELECT event_id, occurred_at, author, kind, field, from_value, to_value, body "
        "FROM core.ticket_events WHERE ticket_key = 'LEDG-6' ORDER BY occurred_at, event_id"
    ).fetchall()
    history_author = fake.history_t["author"]["displayName"]
    comment_author = fake.comment_t["author"]["displayName"]
    created = datetime(2025, 5, 26, 20, 0, tzinfo=utc)
    names = ["Done", "In Progress", "To Do"]
    expected = [("c500050:0", created + timedelta(minutes=30), comment_author, "comment", None,
                 None, None, "Comment 0 on LEDG-6")]
    expected += [(f"h{1_000_050 + k}:0", created + timedelta(hours=1, minutes=10 * k),
                  history_author, "change", "status", names[(k + 2) % 3], names[(k + 1) % 3],
                  None) for k in range(5)]
    assert events == expected
    # LEDG-4 (i = 3): three comments, two in the search page, the third read from the issue.
    assert conn.execute("SELECT list(body ORDER BY occurred_at) FROM core.ticket_events "
                        "WHERE ticket_key = 'LEDG-4' AND kind = 'comment'").fetchone()[0] == [
        f"Comment {k} on LEDG-4" for k in range(3)]
    assert server.requests("GET", r"/rest/api/3/issue/30003/comment")
    conn.close()


def test_next_run_reads_from_the_cursor_less_the_overlap_and_replaces_edited_issues(
        tmp_path: Path) -> None:
    root = tmp_path / "exports"
    with VendorServer() as server:
        fake = FakeJira(server, issues=30)
        _fetch(server, root)
        cursor = datetime(2025, 6, 3, 3, 0, tzinfo=UTC)
        fake.touch(2, datetime(2025, 6, 3, 10, 17, 42, tzinfo=UTC), status=0)
        server.log.clear()
        second = _fetch(server, root, now=datetime(2025, 6, 4, tzinfo=UTC))
        bodies = [r.json() for r in server.requests("POST", r"/rest/api/3/search/jql")]

    bound = (cursor - timedelta(minutes=60)).astimezone(ZoneInfo("Australia/Sydney"))
    assert bodies[0]["jql"] == (f'(project = LEDG) AND updated >= "{bound:%Y-%m-%d %H:%M}" '
                                "ORDER BY updated ASC")
    # Only issues updated since the bound come back: LEDG-30 and the edited LEDG-3.
    assert second.records == len(fake.matching(bound)) == 2
    assert json.loads((root / ".state/jira.json").read_text()) == {
        "cursor": "2025-06-03T10:17:42Z"}
    conn = warehouse(tmp_path / "w.duckdb", root, [JIRA], CORE)
    assert conn.execute("SELECT status, updated_at, resolved_at FROM core.tickets "
                        "WHERE ticket_key = 'LEDG-3'").fetchone() == (
        "Done", datetime(2025, 6, 3, 10, 17, 42, tzinfo=UTC),
        datetime(2025, 5, 27, 23, 0, tzinfo=UTC))
    assert conn.execute("SELECT count(*) FROM core.tickets").fetchone() == (30,)
    conn.close()


def test_retries_rate_limits_5xx_timeouts_and_truncated_json_to_the_same_files(
        tmp_path: Path) -> None:
    with VendorServer() as server:
        FakeJira(server, issues=30)
        _fetch(server, tmp_path / "clean")
        clean = tree(tmp_path / "clean")

    waits: list[float] = []
    with VendorServer() as server:
        FakeJira(server, issues=30)
        search = r"/rest/api/3/search/jql"
        server.fail_next("POST", search, Fault(429, {"Retry-After": "7"},
                                               b'{"errorMessages": ["Rate limit exceeded"]}'))
        server.fail_next("POST", search, Fault(503), times=3)
        server.fail_next("POST", search, Fault(stall_s=3.0))
        server.fail_next("POST", search, Fault(truncate=True))
        server.fail_next("POST", r"/rest/api/3/changelog/bulkfetch", Fault(truncate=True))
        server.fail_next("GET", r"/rest/api/3/issue/\d+/comment", Fault(502), times=2)
        result = _fetch(server, tmp_path / "faulty", waits, max_attempts=6)
    # 429, three 503s, the time-out, the truncated search page, two 502s; the truncated bulk
    # answer is asked for again at once.
    assert waits[0] == 7.0 and len(waits) == 8
    assert result.records == 30
    assert tree(tmp_path / "faulty") == clean


def test_without_the_bulk_endpoint_changelogs_are_paged_issue_by_issue(
        tmp_path: Path) -> None:
    with VendorServer() as server:
        FakeJira(server, issues=30)
        _fetch(server, tmp_path / "bulk")
    with VendorServer() as server:
        fake = FakeJira(server, issues=30)
        fake.bulk_available = False
        result = _fetch(server, tmp_path / "paged")
        pages = server.requests("GET", r"/rest/api/3/issue/\d+/changelog")
        assert len(server.requests("POST", r"/rest/api/3/changelog/bulkfetch")) == 1
    assert any("issue by issue" in n for n in result.notes)
    truncated = [i for i in range(30) if i % 6 > 3]
    assert {r.path.split("/")[-2] for r in pages} == {fake.issue_id(i) for i in truncated}
    assert len(pages) == sum((i % 6 + 1) // 2 for i in truncated)  # two entries a page
    a = warehouse(tmp_path / "a.duckdb", tmp_path / "bulk", [JIRA], CORE)
    b = warehouse(tmp_path / "b.duckdb", tmp_path / "paged", [JIRA], CORE)
    # The same events, whether `created` came as epoch milliseconds or as a timestamp string.
    assert rows(a, "core.ticket_events", "ticket_key, event_id") == rows(
        b, "core.ticket_events", "ticket_key, event_id")
    a.close()
    b.close()


def test_a_repeated_next_page_token_stops_paging_with_a_note(tmp_path: Path) -> None:
    with VendorServer() as server:
        fake = FakeJira(server, issues=30)
        fake.repeat_token_at = 2
        result = _fetch(server, tmp_path / "exports")
        searches = server.requests("POST", r"/rest/api/3/search/jql")
    assert len(searches) == 2  # page 2 handed back the token that asked for it: stop
    assert result.records == 14
    assert any("repeated a nextPageToken" in n for n in result.notes)


def test_empty_pages_with_is_last_false_are_followed_a_little_then_abandoned(
        tmp_path: Path) -> None:
    with VendorServer() as server:
        fake = FakeJira(server, issues=30)
        fake.empty_pages = 2
        result = _fetch(server, tmp_path / "a")
        assert result.records == 30 and not result.notes
        fake.empty_pages = 50
        server.log.clear()
        stuck = _fetch(server, tmp_path / "b")
        assert len(server.requests("POST", r"/rest/api/3/search/jql")) == 3
    assert stuck.records == 0
    assert any("empty pages" in n for n in stuck.notes)
    assert not (tmp_path / "b" / ".state" / "jira.json").exists()


def test_a_run_killed_mid_way_then_rerun_lands_what_an_uninterrupted_run_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jira, "FLUSH_EVERY", 10)
    with VendorServer() as server:
        FakeJira(server, issues=45)
        _fetch(server, tmp_path / "whole")

    with VendorServer() as server:
        fake = FakeJira(server, issues=45)
        fake.fail_after_pages = 4
        with pytest.raises(ApiError, match="HTTP 500"):
            _fetch(server, tmp_path / "killed", max_attempts=2)
        partial = tree(tmp_path / "killed")
        assert ".state/jira.json" in partial  # four pages (28 issues) landed, then the 500s
        fake.fail_after_pages = None
        _fetch(server, tmp_path / "killed")
    assert tree(tmp_path / "killed") == tree(tmp_path / "whole")
    a = warehouse(tmp_path / "a.duckdb", tmp_path / "whole", [JIRA], CORE)
    b = warehouse(tmp_path / "b.duckdb", tmp_path / "killed", [JIRA], CORE)
    for table, order in (("raw.jira_issues", "key"), ("raw.jira_events", "key, event_id, seq"),
                         ("core.ticket_events", "ticket_key, event_id")):
        assert rows(a, table, order) == rows(b, table, order)
        assert rows(a, table, order)
    a.close()
    b.close()


def test_the_removed_search_endpoint_is_never_called_and_secrets_are_required(
        tmp_path: Path) -> None:
    from models.connectors.base import MissingSecret

    with VendorServer() as server:
        FakeJira(server, issues=3)
        with pytest.raises(MissingSecret, match="JIRA_API_TOKEN"):
            run("jira", _cfg(server), context(tmp_path, SINCE, NOW,
                                              {"JIRA_EMAIL": "x@example.com"}, []))
        _fetch(server, tmp_path / "exports", time_zone="UTC")
        paths = {r.path for r in server.log}
        body = server.requests("POST", r"/rest/api/3/search/jql")[0].json()
    assert "/rest/api/3/search" not in paths and "/rest/api/3/myself" not in paths
    assert '"2025-05-01 00:00"' in body["jql"]


def test_an_unknown_account_time_zone_starts_twelve_hours_earlier(tmp_path: Path) -> None:
    with VendorServer() as server:
        fake = FakeJira(server, issues=3)
        server.routes.insert(0, ("GET", re.compile(r"/rest/api/3/myself$"),
                                 lambda req: (200, {}, {"accountId": "bot"})))
        result = _fetch(server, tmp_path / "exports")
        body = server.requests("POST", r"/rest/api/3/search/jql")[0].json()
    assert '"2025-04-30 12:00"' in body["jql"]
    assert result.records == fake.count
    assert any("time zone is unknown" in n for n in result.notes)


def test_jql_bound_floors_to_the_minute_in_the_account_time_zone() -> None:
    at = datetime(2025, 6, 3, 14, 5, 59, tzinfo=UTC)
    assert jira.jql_bound("", at, ZoneInfo("UTC")) == (
        'updated >= "2025-06-03 14:05" ORDER BY updated ASC')
    assert jira.jql_bound("project = OPS ORDER BY created DESC", at,
                          ZoneInfo("America/New_York")) == (
        '(project = OPS) AND updated >= "2025-06-03 10:05" ORDER BY updated ASC')


def test_config_keys_parse_from_toml(tmp_path: Path) -> None:
    from models.connectors.config import parse_config

    cfg = parse_config({"sources": {"jira": {"site_url": "https://quayside.atlassian.net",
                                             "jql": "project = LEDG",
                                             "time_zone": "Europe/Lisbon"}}},
                       tmp_path / "followthrough.toml").sources["jira"]
    assert isinstance(cfg, JiraConfig)
    assert (cfg.site_url, cfg.jql, cfg.time_zone, cfg.email_env, cfg.token_env) == (
        "https://quayside.atlassian.net", "project = LEDG", "Europe/Lisbon", "JIRA_EMAIL",
        "JIRA_API_TOKEN")
