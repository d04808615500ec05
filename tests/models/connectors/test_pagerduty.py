"""PagerDuty connector against a loopback REST API v2 answering with the published *List
incidents* payload: windows, offset caps, re-polled open incidents, log entries, faults."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from models.connectors import pagerduty
from models.connectors.config import PagerDutyConfig
from models.connectors.http import ApiError
from models.connectors.registry import run
from tests.models.connectors.fake_pagerduty import ACCEPT, FakePagerDuty
from tests.models.connectors.ticket_harness import context, rows, templates_dir, tree, warehouse
from tests.vendor_server import Fault, VendorServer
from warehouse.sources import PAGERDUTY

SINCE = datetime(2025, 5, 1, tzinfo=UTC)
NOW = datetime(2025, 6, 30, tzinfo=UTC)
ENV = {"PAGERDUTY_TOKEN": FakePagerDuty.token}
CORE = ("core.incidents",)


def _cfg(server: VendorServer, **kw: Any) -> PagerDutyConfig:
    base: dict[str, Any] = dict(api_url=server.url, page_size=10, timeout_s=2.0, max_attempts=4)
    base.update(kw)
    return PagerDutyConfig(**base)


def _fetch(server: VendorServer, root: Path, waits: list[float] | None = None,
           since: datetime = SINCE, now: datetime = NOW, **kw: Any) -> Any:
    return run("pagerduty", _cfg(server, **kw),
               context(root, since, now, ENV, waits if waits is not None else []))


def _parse(value: str | None) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


@pytest.fixture(params=["own", "published"])
def templates(request: pytest.FixtureRequest) -> Path:
    return templates_dir(request.param, request)


def test_lands_incidents_and_log_entries_by_month_and_loads_them_field_by_field(
        templates: Path, tmp_path: Path) -> None:
    root = tmp_path / "exports"
    with VendorServer() as server:
        FakePagerDuty(server, templates, incidents=40)
        result = _fetch(server, root)
        lists = server.requests("GET", r"/incidents")
        everything = list(server.log)

    assert not result.notes
    assert {r.headers["authorization"] for r in everything} == {"Token token=pd-read-only-key"}
    assert {r.headers["accept"] for r in everything} == {ACCEPT}
    assert len(lists) == 4  # 40 incidents, 10 a page, one window
    for r in lists:
        assert r.arg("time_zone") == "UTC" and r.arg("sort_by") == "created_at:asc"
        assert (r.arg("since"), r.arg("until")) == ("2025-05-01T00:00:00Z", "2025-06-30T00:00:00Z")
        assert "service_ids[]" not in r.query
    assert [int(r.arg("offset") or 0) for r in lists] == [0, 10, 20, 30]

    landed = tree(root)
    assert sorted(landed) == [".state/pagerduty.json",
                              "pagerduty/incidents/2025-05.json", "pagerduty/incidents/2025-06.json",
                              "pagerduty/log_entries/2025-05.json",
                              "pagerduty/log_entries/2025-06.json"]
    may = json.loads(landed["pagerduty/incidents/2025-05.json"])
    assert set(may) == {"incidents"} and len(may["incidents"]) == 27
    state = json.loads(landed[".state/pagerduty.json"])
    assert state == {"cursor": "2025-06-30T00:00:00Z",
                     "open": sorted(f"Q{i:05d}PD" for i in range(40) if i % 4 in (0, 1))}
    entries = json.loads(landed["pagerduty/log_entries/2025-05.json"])["log_entries"]
    assert [e["type"] for e in entries if e["incident"]["id"] == "Q00002PD"] == [
        "trigger_log_entry", "acknowledge_log_entry", "resolve_log_entry"]
    n_entries = sum(1 + (i % 4 != 0) + (i % 4 >= 2) for i in range(40))
    assert result.records == 40 + n_entries

    conn = warehouse(tmp_path / "w.duckdb", root, [PAGERDUTY], CORE)
    assert conn.execute("SELECT count(*) FROM raw.pagerduty_incidents").fetchone() == (40,)
    by_id = {r[0]: r for r in rows(conn, "core.incidents", "incident_id")}
    assert by_id["Q00002PD"] == (
        "Q00002PD", "pagerduty", 1002, "ledger-api error rate above 7%", "ledger-api", "Ledger",
        "P3", "high", "resolved", datetime(2025, 5, 11, 22, 0, tzinfo=UTC),
        datetime(2025, 5, 11, 22, 42, tzinfo=UTC), 42.0,
        "https://quayside.pagerduty.com/incidents/Q00002PD", None)
    # Created at 12:00+02:00; acknowledged, so not resolved; no priority set.
    assert by_id["Q00005PD"] == (
        "Q00005PD", "pagerduty", 1005, "payments-gateway error rate above 10%",
        "payments-gateway", "Payments", None, "high", "acknowledged",
        datetime(2025, 5, 14, 10, 0, tzinfo=UTC), None, None,
        "https://quayside.pagerduty.com/incidents/Q00005PD", None)
    conn.close()


def test_ranges_longer_than_six_months_are_read_in_windows(tmp_path: Path) -> None:
    with VendorServer() as server:
        FakePagerDuty(server, incidents=40, start=datetime(2024, 6, 1, tzinfo=UTC),
                      spacing=timedelta(days=9))
        result = _fetch(server, tmp_path / "exports", since=datetime(2024, 5, 1, tzinfo=UTC),
                        log_entries=False)
        lists = server.requests("GET", r"/incidents")
    assert result.records == 40
    spans = sorted({(_parse(r.arg("since")), _parse(r.arg("until"))) for r in lists})
    assert len(spans) == 3
    assert spans[0][0] == datetime(2024, 5, 1, tzinfo=UTC) and spans[-1][1] == NOW
    assert all(b - a <= timedelta(days=180) for a, b in spans)
    assert all(spans[k][1] == spans[k + 1][0] for k in range(len(spans) - 1))


@pytest.mark.parametrize("report_total", [True, False])
def test_a_window_past_the_offset_cap_is_split_in_halves(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, report_total: bool) -> None:
    monkeypatch.setattr(pagerduty, "OFFSET_CAP", 20)
    with VendorServer() as server:
        fake = FakePagerDuty(server, incidents=60, spacing=timedelta(hours=3), offset_cap=20)
        fake.report_total = report_total
        result = _fetch(server, tmp_path / "exports", page_size=5, log_entries=False)
        lists = server.requests("GET", r"/incidents")
    assert result.records >= 60 and not result.notes
    # Every request stayed within the cap (the fake answers 400 otherwise) ...
    assert all(int(r.arg("offset") or 0) + int(r.arg("limit") or 0) <= 20 for r in lists)
    # ... in windows smaller than the whole range, and every incident landed exactly once.
    assert len({(r.arg("since"), r.arg("until")) for r in lists}) > 3
    ids = [i["id"] for f in sorted((tmp_path / "exports/pagerduty/incidents").glob("*.json"))
           for i in json.loads(f.read_text())["incidents"]]
    assert sorted(ids) == [f"Q{i:05d}PD" for i in range(60)]


def test_open_incidents_are_polled_again_until_resolved(tmp_path: Path) -> None:
    root = tmp_path / "exports"
    with VendorServer() as server:
        fake = FakePagerDuty(server, incidents=40)
        _fetch(server, root)
        fake.resolve(1, datetime(2025, 7, 2, 9, 30, tzinfo=UTC))
        server.log.clear()
        _fetch(server, root, now=datetime(2025, 7, 3, tzinfo=UTC))
        polled = sorted(r.path.rsplit("/", 1)[1] for r in server.requests("GET", r"/incidents/\w+"))
        lists = server.requests("GET", r"/incidents")
    opened = sorted(f"Q{i:05d}PD" for i in range(40) if i % 4 in (0, 1))
    assert polled == opened
    # The list reads only from the cursor less the overlap: incident 1 was created long before.
    assert {(r.arg("since"), r.arg("until")) for r in lists} == {
        ("2025-06-29T23:00:00Z", "2025-07-03T00:00:00Z")}
    state = json.loads((root / ".state/pagerduty.json").read_text())
    assert state["open"] == [i for i in opened if i != "Q00001PD"]
    assert state["cursor"] == "2025-07-03T00:00:00Z"
    conn = warehouse(tmp_path / "w.duckdb", root, [PAGERDUTY], CORE)
    assert conn.execute("SELECT status, resolved_at FROM core.incidents "
                        "WHERE incident_id = 'Q00001PD'").fetchone() == (
        "resolved", datetime(2025, 7, 2, 9, 30, tzinfo=UTC))
    assert conn.execute("SELECT count(*) FROM core.incidents").fetchone() == (40,)
    conn.close()
    entries = json.loads((root / "pagerduty/log_entries/2025-05.json").read_text())["log_entries"]
    assert [e["type"] for e in entries if e["incident"]["id"] == "Q00001PD"] == [
        "trigger_log_entry", "acknowledge_log_entry", "resolve_log_entry"]


def test_service_filter_is_sent_as_service_ids(tmp_path: Path) -> None:
    with VendorServer() as server:
        FakePagerDuty(server, incidents=20)
        result = _fetch(server, tmp_path / "exports", services=("PPAYGW1",), log_entries=False)
        lists = server.requests("GET", r"/incidents")
    assert result.records == 10
    assert all(r.query["service_ids[]"] == ["PPAYGW1"] for r in lists)


def test_rate_limits_5xx_timeouts_and_truncated_json_land_the_same_files(
        tmp_path: Path) -> None:
    with VendorServer() as server:
        FakePagerDuty(server, incidents=20)
        _fetch(server, tmp_path / "clean")
    waits: list[float] = []
    with VendorServer() as server:
        FakePagerDuty(server, incidents=20)
        server.fail_next("GET", r"/incidents", Fault(429, {
            "ratelimit-limit": "960", "ratelimit-remaining": "0", "ratelimit-reset": "12"},
            b'{"error": {"message": "Rate Limit Exceeded", "code": 2020}}'))
        server.fail_next("GET", r"/incidents", Fault(500), times=3)
        server.fail_next("GET", r"/incidents", Fault(stall_s=3.0))
        server.fail_next("GET", r"/incidents/\w+/log_entries", Fault(truncate=True))
        server.fail_next("GET", r"/incidents/\w+/log_entries", Fault(503))
        result = _fetch(server, tmp_path / "faulty", waits, max_attempts=6)
    assert waits[0] == 12.0 and len(waits) == 7
    assert result.records > 20
    assert tree(tmp_path / "faulty") == tree(tmp_path / "clean")


def test_a_run_killed_mid_way_then_rerun_lands_what_an_uninterrupted_run_does(
        tmp_path: Path) -> None:
    kw: dict[str, Any] = dict(since=datetime(2024, 9, 1, tzinfo=UTC))
    with VendorServer() as server:
        FakePagerDuty(server, incidents=60, start=datetime(2024, 10, 1, tzinfo=UTC),
                      spacing=timedelta(days=4))
        _fetch(server, tmp_path / "whole", **kw)
    with VendorServer() as server:
        fake = FakePagerDuty(server, incidents=60, start=datetime(2024, 10, 1, tzinfo=UTC),
                             spacing=timedelta(days=4))
        fake.fail_after_pages = 4  # the first 180-day window (4 pages) lands, then 500s
        with pytest.raises(ApiError, match="HTTP 500"):
            _fetch(server, tmp_path / "killed", max_attempts=2, **kw)
        assert json.loads((tmp_path / "killed/.state/pagerduty.json").read_text())[
            "cursor"] == "2025-02-28T00:00:00Z"
        fake.fail_after_pages = None
        _fetch(server, tmp_path / "killed", **kw)
    assert tree(tmp_path / "killed") == tree(tmp_path / "whole")
    a = warehouse(tmp_path / "a.duckdb", tmp_path / "whole", [PAGERDUTY], CORE)
    b = warehouse(tmp_path / "b.duckdb", tmp_path / "killed", [PAGERDUTY], CORE)
    assert rows(a, "core.incidents", "incident_id") == rows(b, "core.incidents", "incident_id")
    assert rows(a, "core.incidents", "incident_id")
    a.close()
    b.close()


def test_config_keys_parse_from_toml(tmp_path: Path) -> None:
    from models.connectors.config import ConfigError, parse_config

    path = tmp_path / "followthrough.toml"
    cfg = parse_config({"sources": {"pagerduty": {"api_url": "https://api.eu.pagerduty.com",
                                                  "services": ["PLDGAPI"], "window_days": 90,
                                                  "log_entries": False}}},
                       path).sources["pagerduty"]
    assert isinstance(cfg, PagerDutyConfig)
    assert (cfg.api_url, cfg.token_env, cfg.services, cfg.window_days, cfg.log_entries) == (
        "https://api.eu.pagerduty.com", "PAGERDUTY_TOKEN", ("PLDGAPI",), 90, False)
    with pytest.raises(ConfigError, match="window_days"):
        parse_config({"sources": {"pagerduty": {"window_days": 0}}}, path)
