"""GitHub Issues connector against a loopback GitHub: landed files, raw and core rows, faults."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from models.connectors import registry
from models.connectors.base import FetchContext, FetchResult, MissingSecret
from models.connectors.config import GitHubIssuesConfig, parse_config
from models.connectors.http import ApiError
from models.connectors.landing import Landing
from models.postmortems.refs import ticket_refs
from models.sources.github_issues import priority_of
from tests.models.connectors.fake_github_issues import FakeGitHubIssues
from tests.vendor_server import Fault, VendorServer
from warehouse.db import connect
from warehouse.ingest import ingest
from warehouse.sources import GITHUB_ISSUES_SOURCES
from warehouse.transform import rebuild, step

REPO = "quayside-dev/ledger-api"
ISSUES = r"/repos/quayside-dev/ledger-api/issues"
NOW = datetime(2026, 11, 29, tzinfo=UTC)
SINCE = datetime(2026, 10, 1, tzinfo=UTC)
TOKEN = "ghp_" + "T3st" * 9


def _cfg(url: str, **kw: Any) -> GitHubIssuesConfig:
    return GitHubIssuesConfig(api_url=url, repos=(REPO,), page_size=2, max_attempts=3, **kw)


def _fetch(root: Path, cfg: GitHubIssuesConfig, waits: list[float] | None = None,
           now: datetime = NOW) -> FetchResult:
    ctx = FetchContext(Landing(root), since=SINCE, now=now, env={"GITHUB_TOKEN": TOKEN},
                       sleep=(waits if waits is not None else []).append)
    return registry.run("github_issues", cfg, ctx)


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.json"))
            if ".state" not in p.parts}


def _warehouse(tmp_path: Path, root: Path, name: str = "w.duckdb") -> duckdb.DuckDBPyConnection:
    conn = connect(tmp_path / name)
    results = ingest(conn, root, GITHUB_ISSUES_SOURCES)
    assert all(not r.problems for r in results), [r.problems for r in results]
    for table in ("core.tickets", "core.ticket_events"):
        rebuild(conn, step(table))
    return conn


def _rows(conn: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return conn.execute(sql).fetchall()


def _all_rows(conn: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    return {
        t: _rows(conn, f"SELECT * EXCLUDE (source_path, payload) FROM {t} ORDER BY ALL")
        for t in ("raw.github_issues", "raw.github_issue_events")
    } | {t: _rows(conn, f"SELECT * FROM {t} ORDER BY ALL")
         for t in ("core.tickets", "core.ticket_events")}


def test_issues_and_timelines_land_and_load_field_by_field(tmp_path: Path) -> None:
    root = tmp_path / "exports"
    with VendorServer() as server:
        fake = FakeGitHubIssues(server, issues=9)
        result = _fetch(root, _cfg(server.url))
        listed = server.requests("GET", ISSUES)
        timelines = server.requests("GET", ISSUES + r"/\d+/timeline")
    # Pull requests (items 3 and 7, which keep the example's `pull_request`) are not tickets.
    numbers = sorted(i["number"] for i in fake.issues)
    assert numbers == [200, 201, 202, 204, 205, 206, 208]
    assert sorted(fake.timeline_calls) == numbers
    # 7 issues and 6 kept events each, less "closed" on the 4 open ones and "assigned" on 2
    assert result.records == 7 + 7 * 6 - 4 - 2
    # The list request as the brief and GitHub's API description have it.
    first = listed[0]
    assert first.query == {"state": ["all"], "since": ["2026-10-01T00:00:00Z"], "sort": ["updated"],
                           "direction": ["asc"], "per_page": ["2"]}
    assert first.headers["authorization"] == f"Bearer {TOKEN}"
    assert first.headers["x-github-api-version"] == "2022-11-28"
    assert len(listed) == 5  # 9 items, 2 per page, Link rel="next" followed
    assert all(r.query.get("per_page") == ["2"] for r in timelines)

    files = _files(root)
    assert sorted(files) == [
        "github_issues/events/2026-10.quayside-dev__ledger-api.json",
        "github_issues/events/2026-11.quayside-dev__ledger-api.json",
        "github_issues/issues/2026-10.quayside-dev__ledger-api.json",
        "github_issues/issues/2026-11.quayside-dev__ledger-api.json",
    ]
    october = json.loads(files["github_issues/issues/2026-10.quayside-dev__ledger-api.json"])
    assert [i["number"] for i in october] == [200, 201, 202]  # bare array, by id
    assert october[0] == next(i for i in fake.issues if i["number"] == 200)  # the whole record
    events = json.loads(files["github_issues/events/2026-10.quayside-dev__ledger-api.json"])
    assert {e["event"] for e in events} == {"labeled", "assigned", "milestoned", "commented",
                                            "renamed", "closed"}  # "subscribed" dropped
    assert events[0]["issue"]["repository_url"] == f"https://api.github.com/repos/{REPO}"
    state = json.loads((root / ".state/github_issues.json").read_text())
    newest = max(i["updated_at"] for i in fake.items)
    assert state == {"repos": {REPO: {"cursor": newest}}}

    conn = _warehouse(tmp_path, root)
    raw = _rows(conn, """
        SELECT issue_id, repo, number, ticket_key, title, body, state, state_reason, url, author,
               assignee, assignees, labels, priority, issue_type, milestone,
               milestone_due_on::VARCHAR, comments, created_at::VARCHAR, updated_at::VARCHAR,
               closed_at::VARCHAR
        FROM raw.github_issues WHERE number = 200""")
    assert raw == [(
        2718300000, REPO, 200, f"{REPO}#200", "Retry ledger writes on connection reset (200)",
        "Follow-up from the postmortem of incident #4321: ledger writes are not retried when the "
        "pool resets.",
        "open", None, f"https://github.com/{REPO}/issues/200", "amara-osei", "jonas-brandt",
        ["jonas-brandt"], ["bug", "P1"], "P1", None, "Sprint 42", "2026-11-13 08:00:00+00", 1,
        "2026-10-20 09:00:00+00", "2026-10-21 09:00:00+00", None,
    )]
    tickets = _rows(conn, """
        SELECT ticket_key, provider, ticket_id, project, status, status_category, assignee,
               priority, sprint, sprint_end::VARCHAR, due_date, resolved_at::VARCHAR
        FROM core.tickets ORDER BY ticket_key""")
    sprint_end = "2026-11-13 08:00:00+00"
    assert tickets == [
        (f"{REPO}#200", "github", "2718300000", REPO, "open", "in_progress", "jonas-brandt", "P1",
         "Sprint 42", sprint_end, date(2026, 11, 13), None),
        (f"{REPO}#201", "github", "2718300001", REPO, "open", "todo", None, "P3",
         "Sprint 42", sprint_end, date(2026, 11, 13), None),
        (f"{REPO}#202", "github", "2718300002", REPO, "closed", "done", "jonas-brandt", "P1",
         "Sprint 42", sprint_end, date(2026, 11, 13), "2026-10-31 11:19:54+00"),
        (f"{REPO}#204", "github", "2718300004", REPO, "open", "todo", None, "P1",
         "Sprint 42", sprint_end, date(2026, 11, 13), None),
        (f"{REPO}#205", "github", "2718300005", REPO, "closed", "done", "jonas-brandt", "P3",
         "Sprint 42", sprint_end, date(2026, 11, 13), "2026-11-12 11:19:54+00"),
        (f"{REPO}#206", "github", "2718300006", REPO, "open", "in_progress", "jonas-brandt", "P1",
         "Sprint 42", sprint_end, date(2026, 11, 13), None),
        (f"{REPO}#208", "github", "2718300008", REPO, "closed", "canceled", "jonas-brandt", "P1",
         "Sprint 42", sprint_end, date(2026, 11, 13), "2026-11-24 11:19:54+00"),
    ]
    events_202 = _rows(conn, f"""
        SELECT provider, event_id, occurred_at::VARCHAR, author, kind, field, from_value,
               to_value, body
        FROM core.ticket_events WHERE ticket_key = '{REPO}#202' ORDER BY occurred_at""")
    assert events_202 == [
        ("github", "event:15320013001", "2026-10-28 09:00:00+00", "amara-osei", "change",
         "labels", None, "P1", None),
        ("github", "event:15320013002", "2026-10-28 09:01:34+00", "amara-osei", "change",
         "assignee", None, "jonas-brandt", None),
        ("github", "event:15320013003", "2026-10-28 09:02:04+00", "amara-osei", "change",
         "Sprint", None, "Sprint 42", None),
        ("github", "comment:2461172433", "2026-10-29 04:54:54+00", "jonas-brandt", "comment",
         None, None, None,
         "Moving this to next sprint because the pool change is blocked on the driver upgrade."),
        ("github", "event:15320013004", "2026-10-29 04:56:24+00", "amara-osei", "change",
         "title", "Ledger writes fail on reset", "Retry ledger writes on connection reset", None),
        ("github", "event:15320013005", "2026-10-31 11:19:54+00", "amara-osei", "change",
         "status", "open", "closed (completed)", None),
    ]
    conn.close()


def test_postmortem_references_name_the_ticket_key() -> None:
    # The postmortem parser keeps `owner/repo#N` as written: that is core.tickets' key.
    assert ticket_refs(f"Retry writes ({REPO}#200)") == (f"{REPO}#200",)
    assert ticket_refs(f"see https://github.com/{REPO}/issues/200") == (
        f"https://github.com/{REPO}/issues/200",)


def test_priority_labels() -> None:
    assert priority_of(["bug", "P2"]) == "P2"
    assert priority_of(["p1: urgent"]) == "P1"
    assert priority_of(["priority:high"]) == "high"
    assert priority_of(["Priority - Low"]) == "Low"
    assert priority_of(["bug", "enhancement", "Pony"]) is None


def test_second_run_resumes_from_the_cursor_with_overlap(tmp_path: Path) -> None:
    root = tmp_path / "exports"
    with VendorServer() as server:
        fake = FakeGitHubIssues(server, issues=5)
        _fetch(root, _cfg(server.url))
        before = _files(root)
        cursor = datetime.fromisoformat(
            json.loads((root / ".state/github_issues.json").read_text())["repos"][REPO]["cursor"])
        fake.timeline_calls.clear()
        fake.touch(201, NOW - timedelta(hours=2))
        _fetch(root, _cfg(server.url, overlap_minutes=30))
        second = server.requests("GET", ISSUES)[-1]
    assert second.query["since"] == [(cursor - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")]
    # Only the changed issue and the one updated within the overlap are read again.
    assert sorted(fake.timeline_calls) == [201, 204]
    after = _files(root)
    assert after.keys() == before.keys()
    changed = [k for k in after if after[k] != before[k]]
    assert changed == ["github_issues/issues/2026-10.quayside-dev__ledger-api.json"]


def test_labels_filter_is_sent_and_honoured(tmp_path: Path) -> None:
    root = tmp_path / "exports"
    with VendorServer() as server:
        fake = FakeGitHubIssues(server, issues=6)
        _fetch(root, _cfg(server.url, labels=("bug", "P1")))
        assert server.requests("GET", ISSUES)[0].query["labels"] == ["bug,P1"]
    landed = [i["number"] for f, b in _files(root).items() if "/issues/" in f
              for i in json.loads(b)]
    assert sorted(landed) == sorted(i["number"] for i in fake.issues
                                    if "P1" in {lab["name"] for lab in i["labels"]})


def test_config_keys(tmp_path: Path) -> None:
    cfg = parse_config({"sources": {"github_issues": {
        "api_url": "https://ghe.example.com/api/v3", "repos": [REPO], "labels": "incident"}}},
        tmp_path / "followthrough.toml").sources["github_issues"]
    assert isinstance(cfg, GitHubIssuesConfig)
    assert (cfg.api_url, cfg.repos, cfg.labels, cfg.token_env) == (
        "https://ghe.example.com/api/v3", (REPO,), ("incident",), "GITHUB_TOKEN")


def test_missing_token_names_the_variable(tmp_path: Path) -> None:
    ctx = FetchContext(Landing(tmp_path), since=SINCE, now=NOW, env={})
    with pytest.raises(MissingSecret, match="GITHUB_TOKEN"):
        registry.run("github_issues", _cfg("http://127.0.0.1:9"), ctx)


def _reference(tmp_path: Path) -> tuple[dict[str, bytes], dict[str, list[tuple[Any, ...]]]]:
    root = tmp_path / "reference"
    with VendorServer() as server:
        FakeGitHubIssues(server, issues=9)
        _fetch(root, _cfg(server.url))
    conn = _warehouse(tmp_path, root, "reference.duckdb")
    rows = _all_rows(conn)
    conn.close()
    return _files(root), rows


@pytest.mark.parametrize("fault, pattern, times", [
    (Fault(status=429, headers={"retry-after": "7"}, body=b'{"message": "slow down"}'), ISSUES, 1),
    (Fault(status=403, headers={"x-ratelimit-remaining": "0", "retry-after": "11"},
           body=b'{"message": "API rate limit exceeded"}'), ISSUES + r"/\d+/timeline", 1),
    (Fault(status=502), ISSUES + r"/\d+/timeline", 2),
    (Fault(truncate=True), ISSUES, 1),
], ids=["429-retry-after", "403-rate-limit", "5xx-burst", "truncated-json"])
def test_faults_are_retried_and_change_nothing(tmp_path: Path, fault: Fault, pattern: str,
                                               times: int) -> None:
    ref_files, ref_rows = _reference(tmp_path)
    root = tmp_path / "exports"
    waits: list[float] = []
    with VendorServer() as server:
        FakeGitHubIssues(server, issues=9)
        server.fail_next("GET", pattern, fault, times=times)
        _fetch(root, _cfg(server.url), waits)
    assert len(waits) == times
    if fault.headers.get("retry-after"):
        assert waits == [float(fault.headers["retry-after"])]
    assert _files(root) == ref_files
    conn = _warehouse(tmp_path, root)
    assert _all_rows(conn) == ref_rows
    conn.close()


def test_killed_run_resumed_gives_the_rows_of_an_uninterrupted_run(tmp_path: Path) -> None:
    ref_files, ref_rows = _reference(tmp_path)
    root = tmp_path / "exports"
    with VendorServer() as server:
        FakeGitHubIssues(server, issues=9)
        # Issue 205 is on the third page: its timeline fails for good, the run dies there.
        server.fail_next("GET", ISSUES + r"/205/timeline", Fault(status=500), times=3)
        with pytest.raises(ApiError, match="HTTP 500 after 3 attempts"):
            _fetch(root, _cfg(server.url))
        partial = _files(root)
        state = json.loads((root / ".state/github_issues.json").read_text())
        # after page 2, whose last item (a pull request) was updated then
        assert state["repos"][REPO]["cursor"] == "2026-11-02T12:00:00Z"
        assert partial != ref_files
        server.log.clear()
        _fetch(root, _cfg(server.url))
        assert server.requests("GET", ISSUES)[0].query["since"] == ["2026-11-02T11:00:00Z"]
    assert _files(root) == ref_files
    conn = _warehouse(tmp_path, root)
    assert _all_rows(conn) == ref_rows
    conn.close()


def test_event_without_its_issue_is_quarantined(tmp_path: Path) -> None:
    root = tmp_path / "exports"
    (root / "github_issues/events").mkdir(parents=True)
    good = {"id": 1, "event": "reopened", "created_at": "2026-11-01T10:00:00Z",
            "actor": {"login": "amara-osei"},
            "issue": {"number": 7, "html_url": f"https://github.com/{REPO}/issues/7"}}
    bad = {"id": 2, "event": "closed", "created_at": "2026-11-01T11:00:00Z"}
    (root / "github_issues/events/2026-11.x.json").write_text(json.dumps([good, bad]))
    conn = connect(tmp_path / "w.duckdb")
    ingest(conn, root, GITHUB_ISSUES_SOURCES)
    assert _rows(conn, "SELECT ticket_key, field, from_value, to_value FROM "
                       "raw.github_issue_events") == [(f"{REPO}#7", "status", "closed", "open")]
    [(index, key, reason)] = _rows(conn, "SELECT record_index, record_key, reason FROM raw.quarantine")
    assert (index, key) == (1, "2") and "issue" in reason
    conn.close()


def test_a_stalled_answer_times_out_and_is_retried(tmp_path: Path) -> None:
    ref_files, _ = _reference(tmp_path)
    root = tmp_path / "exports"
    waits: list[float] = []
    with VendorServer() as server:
        FakeGitHubIssues(server, issues=9)
        server.fail_next("GET", ISSUES + r"/\d+/timeline", Fault(stall_s=1.5))
        _fetch(root, _cfg(server.url, timeout_s=0.5), waits)
    assert len(waits) == 1
    assert _files(root) == ref_files
