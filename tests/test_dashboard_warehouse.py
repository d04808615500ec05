"""Fixture warehouse for the dashboard tests, and tests of how the dashboard reads the file.

The numbers below are hand-worked; other dashboard test modules import `build_warehouse` and
the expected figures from here.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from dashboards import data

T0 = datetime(2024, 1, 1, tzinfo=UTC)

# (id, team, service, identified_at, hours_to_ticket) — None hours = never ticketed.
ITEMS: list[tuple[str, str | None, str | None, datetime | None, float | None]] = [
    ("AI-1", "payments", "checkout-api", datetime(2024, 1, 10, 9, tzinfo=UTC), 2.0),
    ("AI-2", "payments", "checkout-api", datetime(2024, 1, 20, 9, tzinfo=UTC), 36.0),
    ("AI-3", "payments", "checkout-api", datetime(2024, 2, 5, 9, tzinfo=UTC), 120.0),
    ("AI-4", "payments", "checkout-api", datetime(2024, 3, 5, 9, tzinfo=UTC), None),
    ("AI-5", "search", "search-api", datetime(2024, 1, 15, 9, tzinfo=UTC), 10.0),
    ("AI-6", "search", "search-api", datetime(2024, 2, 12, 9, tzinfo=UTC), 200.0),
    ("AI-7", "search", "search-api", datetime(2024, 3, 20, 9, tzinfo=UTC), None),
    ("AI-8", None, "checkout-api", datetime(2024, 2, 25, 9, tzinfo=UTC), 0.5),
    ("AI-9", None, None, None, None),
    ("AI-10", None, "billing", datetime(2024, 3, 1, 9, tzinfo=UTC), 50.0),
]

# Hand-worked figures for ITEMS with the default 4.3-day (103.2 h) benchmark.
EXPECTED = {
    "total": 10,
    "ticketed": 7,
    "never": 3,
    "median_hours": 36.0,  # of 0.5, 2, 10, 36, 50, 120, 200
    "km_median_hours": 50.0,  # survival 8/9·7/8·6/7·5/6·4/5 = 4/9 < 0.5 first at 50 h
    "within_24h": 3,  # 0.5, 2, 10
    "beyond_benchmark": 5,  # 120, 200 ticketed late + 3 never ticketed (2 old, 1 undated)
}

INCIDENTS: list[tuple[str, str | None, datetime, float | None]] = [
    ("INC-1", "checkout-api", datetime(2024, 1, 9, tzinfo=UTC), 3.0),
    ("INC-2", "checkout-api", datetime(2024, 1, 19, tzinfo=UTC), 5.0),
    ("INC-3", "search-api", datetime(2024, 1, 14, tzinfo=UTC), 1.0),
    ("INC-4", "checkout-api", datetime(2024, 2, 4, tzinfo=UTC), None),
    ("INC-5", None, datetime(2024, 3, 2, tzinfo=UTC), 8.0),
]


def build_warehouse(
    path: Path,
    *,
    items: bool = True,
    incidents: bool = True,
    postmortems: bool = True,
) -> Path:
    """Write the fixture tables with exactly the production column names and types."""
    con = duckdb.connect(str(path))
    try:
        con.execute("SET TimeZone = 'UTC'")
        for schema in ("marts", "core"):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        if items:
            con.execute(
                """CREATE TABLE marts.time_to_ticket (
                    action_item_id VARCHAR, postmortem_id VARCHAR, postmortem_title VARCHAR,
                    team VARCHAR, service VARCHAR, action_text VARCHAR, owner VARCHAR,
                    priority VARCHAR, identified_at TIMESTAMPTZ, ticket_key VARCHAR,
                    ticket_provider VARCHAR, ticket_url VARCHAR, ticket_created_at TIMESTAMPTZ,
                    hours_to_ticket DOUBLE, link_kind VARCHAR)"""
            )
            for n, (item_id, team, service, identified, hours) in enumerate(ITEMS, start=1):
                ticketed = hours is not None
                created = identified + timedelta(hours=hours) if ticketed and identified else None
                con.execute(
                    "INSERT INTO marts.time_to_ticket VALUES"
                    " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        item_id,
                        f"PM-{(n + 1) // 2}",
                        f"Postmortem {(n + 1) // 2}: {service or 'unknown'} outage",
                        team,
                        service,
                        f"Add alerting for failure mode {n}",
                        f"owner{n}@example.com" if n % 3 else None,
                        ["P1", "P2", None][n % 3],
                        identified,
                        f"OPS-{100 + n}" if ticketed else None,
                        "jira" if ticketed else None,
                        f"https://example.atlassian.net/browse/OPS-{100 + n}" if ticketed else None,
                        created,
                        hours,
                        (
                            ("doc_key" if n % 2 else "ticket_mentions_postmortem")
                            if ticketed
                            else None
                        ),
                    ],
                )
        if incidents:
            con.execute(
                """CREATE TABLE core.incidents (
                    incident_id VARCHAR, incident_number INTEGER, title VARCHAR, service VARCHAR,
                    team VARCHAR, priority VARCHAR, urgency VARCHAR, status VARCHAR,
                    created_at TIMESTAMPTZ, resolved_at TIMESTAMPTZ, url VARCHAR)"""
            )
            for n, (inc_id, service, created, hours) in enumerate(INCIDENTS, start=1):
                con.execute(
                    "INSERT INTO core.incidents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        inc_id,
                        n,
                        f"Incident {n}",
                        service,
                        "payments",
                        "P1",
                        "high",
                        "resolved" if hours is not None else "triggered",
                        created,
                        created + timedelta(hours=hours) if hours is not None else None,
                        f"https://example.pagerduty.com/incidents/{inc_id}",
                    ],
                )
        if postmortems:
            con.execute(
                """CREATE TABLE core.postmortems (
                    postmortem_id VARCHAR, path VARCHAR, title VARCHAR, incident_id VARCHAR,
                    team VARCHAR, service VARCHAR, identified_at TIMESTAMPTZ, doc_date DATE,
                    action_item_count INTEGER, lint_errors INTEGER, lint_warnings INTEGER)"""
            )
            for n, inc_id in enumerate(["INC-1", "INC-3", None], start=1):
                con.execute(
                    "INSERT INTO core.postmortems VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [f"PM-{n}", f"pm/{n}.md", f"PM {n}", inc_id, None, None, T0, None, 2, 0, 0],
                )
    finally:
        con.close()
    return path


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return build_warehouse(tmp_path / "warehouse.duckdb")


def test_loads_every_item_including_never_ticketed(warehouse: Path) -> None:
    df = data.load_time_to_ticket(warehouse)
    assert len(df) == len(ITEMS)
    assert int(df["hours_to_ticket"].isna().sum()) == EXPECTED["never"]
    assert str(df["identified_at"].dt.tz) == "UTC"


def test_missing_file_is_reported_as_missing(tmp_path: Path) -> None:
    with pytest.raises(data.WarehouseMissing):
        data.load_time_to_ticket(tmp_path / "nope.duckdb")
    assert not (tmp_path / "nope.duckdb").exists(), "a read must never create the file"


def test_missing_table_names_the_table(tmp_path: Path) -> None:
    path = build_warehouse(tmp_path / "w.duckdb", items=False)
    with pytest.raises(data.TableMissing) as err:
        data.load_time_to_ticket(path)
    assert err.value.table == "marts.time_to_ticket"
    assert data.load_postmortem_incident_ids(path) == {"INC-1", "INC-3"}


def test_absent_postmortems_give_no_coverage_rather_than_zero(tmp_path: Path) -> None:
    path = build_warehouse(tmp_path / "w.duckdb", postmortems=False)
    assert data.load_postmortem_incident_ids(path) is None


def test_reader_does_not_keep_the_file_locked(warehouse: Path) -> None:
    data.load_time_to_ticket(warehouse)
    # A writer must be able to open the file right after a dashboard query.
    con = duckdb.connect(str(warehouse))
    con.execute("CREATE TABLE marts.writer_was_here (x INTEGER)")
    con.close()


def test_file_locked_by_a_writer_process_is_busy(warehouse: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time\n"
            f"c = duckdb.connect({str(warehouse)!r})\n"
            "print('locked', flush=True)\n"
            "sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(data.WarehouseBusy):
            data.load_time_to_ticket(warehouse)
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_warehouse_path_and_benchmark_from_environment() -> None:
    assert data.warehouse_path({}) == Path("warehouse.duckdb")
    assert data.warehouse_path({data.WAREHOUSE_ENV: "/data/w.duckdb"}) == Path("/data/w.duckdb")
    assert data.default_benchmark_days({}) == 4.3
    assert data.default_benchmark_days({data.BENCHMARK_ENV: "7"}) == 7.0
    assert data.default_benchmark_days({data.BENCHMARK_ENV: "soon"}) == 4.3
    assert data.default_benchmark_days({data.BENCHMARK_ENV: "-1"}) == 4.3
