"""Linear connector against a loopback GraphQL API whose answers are built from Linear's schema
(Linear publishes no example responses): the query it sends, the files it lands, the rows they
load into, and Linear's own ways of failing (errors in HTTP 200, RATELIMITED as HTTP 400)."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from models.connectors import linear
from models.connectors.config import LinearConfig
from models.connectors.http import ApiError
from models.connectors.registry import run
from tests.models.connectors.fake_linear import FakeLinear
from tests.models.connectors.ticket_harness import context, rows, tree, warehouse
from tests.vendor_server import Fault, VendorServer
from warehouse.sources import LINEAR

SINCE = datetime(2025, 5, 1, tzinfo=UTC)
NOW = datetime(2025, 6, 30, tzinfo=UTC)
CORE = ("core.tickets", "core.ticket_events")
GRAPHQL = r"/graphql"


def _cfg(server: VendorServer, **kw: Any) -> LinearConfig:
    base: dict[str, Any] = dict(api_url=f"{server.url}/graphql", teams=("LEDG", "OPS"),
                                page_size=5, timeout_s=2.0, max_attempts=4)
    base.update(kw)
    return LinearConfig(**base)


def _fetch(server: VendorServer, root: Path, waits: list[float] | None = None,
           token: str = FakeLinear.api_key, now: datetime = NOW, **kw: Any) -> Any:
    return run("linear", _cfg(server, **kw),
               context(root, SINCE, now, {"LINEAR_API_KEY": token},
                       waits if waits is not None else []))


def _events_of(n: int) -> int:
    """Events issue i (n = i % 5) maps to: one per changed field of its history, its comments."""
    return n + (n > 0) + (n > 1) + (n > 2) + n


def _issue_pages(server: VendorServer) -> list[dict[str, Any]]:
    return [r.json() for r in server.requests("POST", GRAPHQL)
            if "query FollowthroughIssues(" in r.json()["query"]]


def test_lands_issue_pages_by_created_month_and_loads_them_field_by_field(
        tmp_path: Path) -> None:
    root = tmp_path / "exports"
    with VendorServer() as server:
        FakeLinear(server, issues=24)
        result = _fetch(server, root)
        pages = _issue_pages(server)
        headers = [r.headers["authorization"] for r in server.requests("POST", GRAPHQL)]

    assert result.records == 24 and not result.notes
    # A personal API key goes in Authorization as it is.
    assert set(headers) == {FakeLinear.api_key}
    assert len(pages) == 5
    for body in pages:
        assert body["variables"]["filter"] == {"updatedAt": {"gte": "2025-05-01T00:00:00Z"},
                                               "team": {"key": {"in": ["LEDG", "OPS"]}}}
        assert body["variables"]["orderBy"] == "updatedAt" and body["variables"]["first"] == 5
        query = body["query"]
        for selection in ("identifier", "title", "description", "url", "createdAt",
                          "updatedAt", "completedAt", "canceledAt", "dueDate", "priority",
                          "state { name type }", "assignee { name email }", "team { key name }",
                          "cycle { number startsAt endsAt }", "labels(first: $nested)",
                          "history(first: $nested)", "comments(first: $nested)",
                          "fromState { name }", "toCycle { number }", "toDueDate",
                          "user { name }", "actor { name }",
                          "pageInfo { hasNextPage endCursor }"):
            assert selection in query, selection
    assert [p["variables"]["after"] is None for p in pages] == [True] + [False] * 4

    landed = tree(root)
    assert sorted(landed) == [".state/linear.json", "linear/issues/2025-05.json",
                              "linear/issues/2025-06.json"]
    may = json.loads(landed["linear/issues/2025-05.json"])
    assert set(may) == {"data"} and set(may["data"]["issues"]) == {"nodes"}
    assert len(may["data"]["issues"]["nodes"]) == 18
    assert len(json.loads(landed["linear/issues/2025-06.json"])["data"]["issues"]["nodes"]) == 6
    assert json.loads(landed[".state/linear.json"]) == {"cursor": "2025-06-02T07:00:00Z"}

    conn = warehouse(tmp_path / "w.duckdb", root, [LINEAR], CORE)
    assert conn.execute("SELECT count(*) FROM raw.linear_issues").fetchone() == (24,)
    assert conn.execute("SELECT count(*) FROM core.ticket_events").fetchone() == (
        sum(_events_of(i % 5) for i in range(24)),)
    by_id = {r[1]: r for r in rows(conn, "raw.linear_issues", "identifier")}
    # LEDG-104 (i = 4): done, no assignee, five labels (two past the first page of three).
    assert by_id["LEDG-104"] == (
        "6a0c1f3e-0000-4000-8000-000000000004", "LEDG-104", "LEDG",
        "Follow-up 4 for the ledger incident",
        "Action item 4: make ledger writes survive a connection reset.",
        "https://linear.app/quayside/issue/LEDG-104/follow-up-4", "Done", "completed", None,
        None, 4, ["postmortem", "area-0", "area-1", "area-2", "area-3"],
        datetime(2025, 5, 29, 4, 0, tzinfo=UTC), datetime(2025, 5, 29, 5, 0, tzinfo=UTC),
        datetime(2025, 5, 30, 4, 0, tzinfo=UTC), None, date(2025, 6, 8), 11,
        datetime(2025, 5, 26, 0, 0, tzinfo=UTC), datetime(2025, 6, 9, 0, 0, tzinfo=UTC),
    )
    assert conn.execute(
        "SELECT ticket_key, provider, project, status, status_category, assignee, priority, "
        "resolved_at, sprint, sprint_end FROM core.tickets WHERE ticket_key = 'OPS-107'"
    ).fetchone() == ("OPS-107", "linear", "OPS", "Canceled", "canceled", "Kofi Mensah", "P2",
                     datetime(2025, 5, 31, 19, 0, tzinfo=UTC), "Cycle 11",
                     datetime(2025, 6, 9, 0, 0, tzinfo=UTC))
    created = datetime(2025, 5, 29, 4, 0, tzinfo=UTC)
    events = conn.execute(
        "SELECT event_id, occurred_at, author, kind, field, from_value, to_value, body "
        "FROM core.ticket_events WHERE ticket_key = 'LEDG-104' ORDER BY occurred_at, event_id"
    ).fetchall()
    h = [created + timedelta(minutes=20 * (k + 1)) for k in range(4)]
    ACTOR = "Tomás Ferreira"
    c = [created + timedelta(minutes=45 * (k + 1)) for k in range(4)]
    assert events == sorted([
        ("0:assignee", h[0], ACTOR, "change", "assignee", None, "Amara Osei", None),
        ("0:state", h[0], ACTOR, "change", "status", "Todo", "In Progress", None),
        ("1:dueDate", h[1], ACTOR, "change", "duedate", None, "2025-06-20", None),
        ("1:state", h[1], ACTOR, "change", "status", "Done", "Todo", None),
        ("2:cycle", h[2], ACTOR, "change", "Sprint", "11", "12", None),
        ("2:state", h[2], ACTOR, "change", "status", "In Progress", "Done", None),
        ("3:state", h[3], ACTOR, "change", "status", "Todo", "In Progress", None),
        ("4:comment", c[0], "Amara Osei", "comment", None, None, None, "Note 0 on LEDG-104"),
        ("5:comment", c[1], "Tomás Ferreira", "comment", None, None, None, "Note 1 on LEDG-104"),
        ("6:comment", c[2], "Lena Vogt", "comment", None, None, None, "Note 2 on LEDG-104"),
        ("7:comment", c[3], "Kofi Mensah", "comment", None, None, None, "Note 3 on LEDG-104"),
    ], key=lambda e: (e[1], e[0]))
    conn.close()


def test_team_filter_and_the_next_run_from_the_cursor_less_the_overlap(tmp_path: Path) -> None:
    root = tmp_path / "exports"
    with VendorServer() as server:
        fake = FakeLinear(server, issues=24)
        first = _fetch(server, root, teams=("OPS",))
        assert first.records == 12
        fake.updated_override[3] = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)
        server.log.clear()
        second = _fetch(server, root, teams=("OPS",))
        body = _issue_pages(server)[0]
    # OPS issues are the odd ones; the newest update among them is OPS-123's, 2025-06-02 07:00.
    assert body["variables"]["filter"]["updatedAt"] == {"gte": "2025-06-02T06:00:00Z"}
    assert body["variables"]["filter"]["team"] == {"key": {"in": ["OPS"]}}
    assert second.records == 2  # OPS-123 again (the overlap) and the edited OPS-103
    assert json.loads((root / ".state/linear.json").read_text()) == {
        "cursor": "2025-06-10T12:00:00Z"}
    conn = warehouse(tmp_path / "w.duckdb", root, [LINEAR], CORE)
    assert conn.execute("SELECT count(*), count(DISTINCT project) FROM core.tickets"
                        ).fetchone() == (12, 1)
    assert conn.execute("SELECT updated_at FROM core.tickets WHERE ticket_key = 'OPS-103'"
                        ).fetchone() == (datetime(2025, 6, 10, 12, 0, tzinfo=UTC),)
    conn.close()


def test_an_oauth_token_is_sent_as_bearer_and_an_api_key_never_is(tmp_path: Path) -> None:
    oauth = "lin_oauth_4f2d9c0b7a6e5d4c3b2a19080706050403020100"
    assert linear.authorization(FakeLinear.api_key) == FakeLinear.api_key
    assert linear.authorization(oauth) == f"Bearer {oauth}"
    assert linear.authorization("opaque-token", "oauth") == "Bearer opaque-token"
    with pytest.raises(ValueError, match=r"sources\.linear\.auth"):
        linear.authorization("x", "bearer")
    with VendorServer() as server:
        FakeLinear(server, issues=4, token=oauth)
        assert _fetch(server, tmp_path / "a", token=oauth).records == 4
        assert {r.headers["authorization"] for r in server.log} == {f"Bearer {oauth}"}
    with VendorServer() as server:
        FakeLinear(server, issues=4)
        with pytest.raises(ApiError, match="Remove the Bearer prefix"):
            _fetch(server, tmp_path / "b", auth="oauth")


def test_ratelimited_as_http_400_waits_for_the_reset_then_goes_on(tmp_path: Path) -> None:
    waits: list[float] = []
    limited = json.dumps({"errors": [{"message": "Rate limit exceeded",
                                      "extensions": {"code": "RATELIMITED"}}]}).encode()
    with VendorServer() as server:
        FakeLinear(server, issues=12)
        reset_ms = int((time.time() + 30) * 1000)
        server.fail_next("POST", GRAPHQL, Fault(400, {
            "X-RateLimit-Requests-Limit": "1500", "X-RateLimit-Requests-Remaining": "0",
            "X-RateLimit-Requests-Reset": str(reset_ms)}, limited))
        server.fail_next("POST", GRAPHQL, Fault(400, {}, limited))
        result = _fetch(server, tmp_path / "exports", waits)
    assert result.records == 12
    assert 28 <= waits[0] <= 32  # until the reset the header named (epoch milliseconds)
    assert waits[1] == 4.0  # no header: backoff
    # Any other HTTP 400 is a real error, not a rate limit.
    with VendorServer() as server:
        FakeLinear(server, issues=2)
        server.fail_next("POST", GRAPHQL, Fault(400, {}, json.dumps(
            {"errors": [{"message": "Variable \"$first\" got invalid value",
                         "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}]}).encode()))
        with pytest.raises(ApiError, match="HTTP 400"):
            _fetch(server, tmp_path / "b")


def test_errors_inside_http_200_fail_the_run_naming_the_message(tmp_path: Path) -> None:
    root = tmp_path / "exports"
    with VendorServer() as server:
        FakeLinear(server, issues=12)
        server.fail_next("POST", GRAPHQL, Fault(200, {"content-type": "application/json"},
                                                json.dumps({"data": None, "errors": [{
                                                    "message": "Query too complex",
                                                    "extensions": {"code": "INVALID_INPUT"}}]}
                                                ).encode()))
        with pytest.raises(ApiError, match="GraphQL error: Query too complex"):
            _fetch(server, root)
    assert not (root / ".state" / "linear.json").exists()


def test_5xx_timeouts_and_truncated_json_land_the_same_files(tmp_path: Path) -> None:
    with VendorServer() as server:
        FakeLinear(server, issues=12)
        _fetch(server, tmp_path / "clean")
    waits: list[float] = []
    with VendorServer() as server:
        FakeLinear(server, issues=12)
        server.fail_next("POST", GRAPHQL, Fault(502), times=2)
        server.fail_next("POST", GRAPHQL, Fault(stall_s=3.0))
        server.fail_next("POST", GRAPHQL, Fault(truncate=True))
        server.fail_next("POST", GRAPHQL, Fault(429, {"Retry-After": "3"}))
        result = _fetch(server, tmp_path / "faulty", waits)
    assert result.records == 12 and 3.0 in waits and len(waits) == 5
    assert tree(tmp_path / "faulty") == tree(tmp_path / "clean")


def test_a_run_killed_mid_way_then_rerun_lands_what_an_uninterrupted_run_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(linear, "FLUSH_EVERY", 5)
    with VendorServer() as server:
        FakeLinear(server, issues=24)
        _fetch(server, tmp_path / "whole")
    with VendorServer() as server:
        fake = FakeLinear(server, issues=24)
        fake.fail_after_pages = 3
        with pytest.raises(ApiError, match="HTTP 503"):
            _fetch(server, tmp_path / "killed", max_attempts=2)
        partial = tree(tmp_path / "killed")
        assert partial and ".state/linear.json" not in partial  # pages landed, no cursor yet
        fake.fail_after_pages = None
        _fetch(server, tmp_path / "killed")
    assert tree(tmp_path / "killed") == tree(tmp_path / "whole")
    a = warehouse(tmp_path / "a.duckdb", tmp_path / "whole", [LINEAR], CORE)
    b = warehouse(tmp_path / "b.duckdb", tmp_path / "killed", [LINEAR], CORE)
    for table, order in (("raw.linear_issues", "id"), ("raw.linear_events", "identifier, seq, field"),
                         ("core.tickets", "ticket_key")):
        assert rows(a, table, order) == rows(b, table, order) != []
    a.close()
    b.close()


@pytest.mark.requires_shared("contracts/linear_graphql_schema_excerpt.json")
def test_the_query_uses_only_arguments_and_types_linear_s_schema_declares(
        shared_dir: Path) -> None:
    doc = json.loads((shared_dir / "contracts/linear_graphql_schema_excerpt.json").read_text())
    sdl = doc["sdl"]
    args = set(re.findall(r"^\s*(\w+):", sdl["Query.issues"], re.M))
    assert {"filter", "first", "after", "orderBy"} <= args
    assert "IssueConnection!" in sdl["Query.issues"]
    assert re.search(r"\bupdatedAt\b", sdl["PaginationOrderBy"])
    assert re.search(r"\bgte: DateTimeOrDuration\b", sdl["DateComparator"])
    assert re.search(r"hasNextPage: Boolean!", sdl["PageInfo"])
    assert re.search(r"endCursor: String\b", sdl["PageInfo"])
    assert "nodes: [Issue!]!" in sdl["IssueConnection"]
    # Our operation passes exactly those arguments, with the schema's types.
    header = linear.ISSUES_QUERY.split("{", 1)[0]
    assert "$filter: IssueFilter" in header and "$orderBy: PaginationOrderBy" in header
    assert "$first: Int" in header and "$after: String" in header


def test_config_keys_parse_from_toml(tmp_path: Path) -> None:
    from models.connectors.config import parse_config

    cfg = parse_config({"sources": {"linear": {"teams": ["LEDG"], "auth": "oauth"}}},
                       tmp_path / "followthrough.toml").sources["linear"]
    assert isinstance(cfg, LinearConfig)
    assert (cfg.api_url, cfg.token_env, cfg.teams, cfg.auth, cfg.page_size) == (
        "https://api.linear.app/graphql", "LINEAR_API_KEY", ("LEDG",), "oauth", 50)
