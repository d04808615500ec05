"""Fixtures of the dashboard tests: a small hand-worked warehouse and the sample org's.

The hand-worked warehouse holds marts.time_to_ticket, core.incidents and core.postmortems as
fixture rows, and the marts the build derives from them (settings row, time-to-ticket
summary, ages and histogram) computed by the same model functions the pipeline runs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from models.analytics import time_to_ticket
from warehouse.transform import step

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

# The build's as-of time: every never-ticketed item is older than the benchmark by then.
AS_OF = datetime(2024, 6, 1, tzinfo=UTC)

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


def _build_warehouse(
    path: Path,
    *,
    items: bool = True,
    incidents: bool = True,
    postmortems: bool = True,
    no_items: bool = False,
    benchmark_days: float = 4.3,
) -> Path:
    """Write the fixture tables with exactly the production column names and types.

    `items=False` leaves marts.time_to_ticket and its derived marts out; `no_items` builds
    them empty, as a build of an organisation without action items would.
    """
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
            for n, (item_id, team, service, identified, hours) in enumerate(
                [] if no_items else ITEMS, start=1
            ):
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
        if incidents and postmortems:
            _write_incident_marts(con)
        _write_settings(con, benchmark_days)
        if items:
            _write_ticket_marts(con, benchmark_days)
    finally:
        con.close()
    return path


def _write_incident_marts(con: duckdb.DuckDBPyConnection) -> None:
    """The incident marts, by the build's own SQL over the fixture's core tables."""
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    for table in ("marts.incident_summary", "marts.incidents_monthly"):
        con.execute(f"CREATE TABLE {table} AS {step(table).sql}")


def _write_settings(con: duckdb.DuckDBPyConnection, benchmark_days: float) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS models")
    con.execute(
        "CREATE TABLE models.follow_through_settings (as_of TIMESTAMPTZ, benchmark_days DOUBLE,"
        " slo_priority_weeks DOUBLE, slo_other_weeks DOUBLE, done_within_days INTEGER,"
        " p1_within_days INTEGER, inactivity_days INTEGER, ticket_grace_hours DOUBLE)"
    )
    con.execute(
        "INSERT INTO models.follow_through_settings VALUES (?, ?, 4, 8, 30, 30, 30, 24)",
        [AS_OF, benchmark_days],
    )


def _write_ticket_marts(con: duckdb.DuckDBPyConnection, benchmark_days: float) -> None:
    """The marts the build derives from marts.time_to_ticket, by the pipeline's functions."""
    rows = con.execute(
        "SELECT action_item_id, team, identified_at, ticket_key, hours_to_ticket"
        " FROM marts.time_to_ticket"
    ).pl()
    frames = {
        "time_to_ticket_summary": time_to_ticket.summary(rows, AS_OF, benchmark_days),
        "time_to_ticket_ages": time_to_ticket.ages(rows, AS_OF, benchmark_days),
        "time_to_ticket_histogram": time_to_ticket.histogram(rows),
    }
    for name, frame in frames.items():
        con.register("_frame", frame.to_arrow())
        con.execute(f"CREATE TABLE marts.{name} AS SELECT * FROM _frame")
        con.unregister("_frame")


@pytest.fixture
def build_warehouse(tmp_path: Path) -> Callable[..., Path]:
    """`build_warehouse(name="w.duckdb", **options)`: a fixture warehouse file under tmp_path."""

    def build(name: str = "warehouse.duckdb", **options: object) -> Path:
        return _build_warehouse(tmp_path / name, **options)

    return build


@pytest.fixture
def warehouse(build_warehouse: Callable[..., Path]) -> Path:
    return build_warehouse()


@pytest.fixture
def expected() -> dict[str, float]:
    """Hand-worked figures of the fixture warehouse."""
    return dict(EXPECTED)


@pytest.fixture
def fixture_items() -> list[tuple]:
    return list(ITEMS)


@pytest.fixture(scope="module")
def org(sample_org: tuple[Path, Path]) -> Path:
    """The sample organisation's warehouse, built by the real pipeline."""
    return sample_org[1]
