"""Dashboard metrics against small hand-worked DuckDB files."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from dashboards import data

AS_OF = datetime(2024, 6, 1, tzinfo=UTC)


def _five_items(path: Path) -> Path:
    """1 h, 5 h, 48 h ticketed; one item open 36 h, one open 30 days at AS_OF."""
    rows = [
        ("a", "red", AS_OF - timedelta(days=60), 1.0),
        ("b", "red", AS_OF - timedelta(days=50), 5.0),
        ("c", "blue", AS_OF - timedelta(days=40), 48.0),
        ("d", "blue", AS_OF - timedelta(hours=36), None),
        ("e", None, AS_OF - timedelta(days=30), None),
    ]
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts")
    con.execute(
        "CREATE TABLE marts.time_to_ticket (action_item_id VARCHAR, postmortem_id VARCHAR,"
        " postmortem_title VARCHAR, team VARCHAR, service VARCHAR, action_text VARCHAR,"
        " owner VARCHAR, priority VARCHAR, identified_at TIMESTAMPTZ, ticket_key VARCHAR,"
        " ticket_provider VARCHAR, ticket_url VARCHAR, ticket_created_at TIMESTAMPTZ,"
        " hours_to_ticket DOUBLE, link_kind VARCHAR)"
    )
    for item_id, team, identified, hours in rows:
        ticketed = hours is not None
        con.execute(
            "INSERT INTO marts.time_to_ticket VALUES (?, 'pm', 'PM', ?, 'svc', 'do it', NULL,"
            " NULL, ?, ?, ?, ?, ?, ?, ?)",
            [
                item_id,
                team,
                identified,
                f"T-{item_id}" if ticketed else None,
                "linear" if ticketed else None,
                f"https://linear.app/x/issue/T-{item_id}" if ticketed else None,
                identified + timedelta(hours=hours) if ticketed else None,
                hours,
                "doc_key" if ticketed else None,
            ],
        )
    con.close()
    return path


@pytest.fixture
def five(tmp_path: Path):
    return data.load_time_to_ticket(_five_items(tmp_path / "five.duckdb"))


def test_headline_five_items(five) -> None:
    h = data.headline(five, benchmark_days=4.3, as_of=AS_OF)
    assert (h.total, h.ticketed, h.never_ticketed) == (5, 3, 2)
    assert h.median_hours == 5.0  # median of 1, 5, 48 — never-ticketed rows are not zeros
    assert h.median_days == pytest.approx(5 / 24)
    assert h.share_ticketed == pytest.approx(0.6)
    assert h.share_never_ticketed == pytest.approx(0.4)
    assert h.within_24h == 2 and h.share_within_24h == pytest.approx(0.4)
    # 48 h < 103.2 h; only the 30-day-old unticketed item is past the benchmark.
    assert h.beyond_benchmark == 1 and h.share_beyond_benchmark == pytest.approx(0.2)
    # Kaplan–Meier: 1 h S=4/5, 5 h S=3/5, 36 h censored, 48 h S=3/10 ≤ 0.5.
    assert h.km_median_hours == 48.0


def test_beyond_benchmark_moves_with_the_benchmark(five) -> None:
    h = data.headline(five, benchmark_days=1.0, as_of=AS_OF)
    # 48 h ticketed late, and both unticketed items (36 h and 30 d) are older than a day.
    assert h.beyond_benchmark == 3
    mask = data.beyond_benchmark_mask(five, 1.0, as_of=AS_OF)
    assert sorted(five.loc[mask, "action_item_id"]) == ["c", "d", "e"]


def test_open_age_only_for_unticketed_items(five) -> None:
    age = data.open_age_hours(five, as_of=AS_OF)
    by_id = dict(zip(five["action_item_id"], age, strict=True))
    assert by_id["d"] == pytest.approx(36.0)
    assert by_id["e"] == pytest.approx(720.0)
    assert all(math.isnan(by_id[k]) for k in "abc")


def test_ticketed_item_of_unknown_duration_is_not_never_ticketed(five) -> None:
    # hours_to_ticket is also NULL when a ticket exists but identified_at is unknown.
    df = five.copy()
    row = df.index[df["action_item_id"] == "e"][0]
    df.loc[row, ["ticket_key", "identified_at"]] = ["T-e", pd.NaT]
    h = data.headline(df, 4.3, as_of=AS_OF)
    assert (h.ticketed, h.timed, h.never_ticketed) == (4, 3, 1)
    assert h.median_hours == 5.0
    assert h.beyond_benchmark == 0  # "d" is open for 36 h only; "e" has its ticket
    never = data.filter_items(df, data.ItemFilter(status="never ticketed"), 4.3, as_of=AS_OF)
    assert list(never["action_item_id"]) == ["d"]


def test_kaplan_meier_not_reached_when_most_items_stay_open() -> None:
    durations = np.array([2.0, 500.0, 600.0, 700.0])
    observed = np.array([True, False, False, False])
    assert data.kaplan_meier_median(durations, observed) is None


def test_kaplan_meier_without_censoring_is_the_lower_median() -> None:
    durations = np.array([4.0, 1.0, 3.0, 2.0])
    assert data.kaplan_meier_median(durations, np.ones(4, dtype=bool)) == 2.0


def test_no_ticketed_items_gives_no_median(tmp_path: Path) -> None:
    df = data.load_time_to_ticket(_five_items(tmp_path / "w.duckdb"))
    df = df[df["hours_to_ticket"].isna()]
    h = data.headline(df, 4.3, as_of=AS_OF)
    assert h.median_hours is None and h.km_median_hours is None
    assert h.share_ticketed == 0.0 and h.share_never_ticketed == 1.0
    assert data.format_hours(h.median_hours) == "—"


def test_fixture_warehouse_headline(build_dashboard_warehouse, dashboard_expected, tmp_path: Path) -> None:
    df = data.load_time_to_ticket(build_dashboard_warehouse(tmp_path / "w.duckdb"))
    h = data.headline(df, 4.3)
    assert h.total == dashboard_expected["total"]
    assert h.never_ticketed == dashboard_expected["never"]
    assert h.median_hours == dashboard_expected["median_hours"]
    assert h.km_median_hours == dashboard_expected["km_median_hours"]
    assert h.within_24h == dashboard_expected["within_24h"]
    assert h.beyond_benchmark == dashboard_expected["beyond_benchmark"]


def test_by_team_keeps_items_without_team(build_dashboard_warehouse, tmp_path: Path) -> None:
    df = data.load_time_to_ticket(build_dashboard_warehouse(tmp_path / "w.duckdb"))
    teams = data.by_team(df, 4.3).set_index("team")
    assert teams["items"].sum() == 10
    assert teams.loc["payments", "median_hours"] == 36.0  # 2, 36, 120
    assert teams.loc["search", "median_hours"] == 105.0  # 10, 200
    assert teams.loc[data.NO_TEAM, "median_hours"] == 25.25  # 0.5, 50
    assert teams.loc[data.NO_TEAM, "never_ticketed"] == 1
    assert teams.loc["payments", "share_never_ticketed"] == 0.25
    assert teams.loc["search", "ticketed_late"] == 1


def test_monthly_trend(build_dashboard_warehouse, tmp_path: Path) -> None:
    df = data.load_time_to_ticket(build_dashboard_warehouse(tmp_path / "w.duckdb"))
    trend = data.monthly_trend(df, 4.3)
    assert [m.strftime("%Y-%m") for m in trend["month"]] == ["2024-01", "2024-02", "2024-03"]
    assert list(trend["median_hours"]) == [10.0, 120.0, 50.0]
    assert list(trend["never_ticketed"]) == [0, 0, 2]
    assert trend["items"].sum() == 9  # the undated item has no month


def test_distribution_counts_every_ticketed_item_once(build_dashboard_warehouse, tmp_path: Path) -> None:
    df = data.load_time_to_ticket(build_dashboard_warehouse(tmp_path / "w.duckdb"))
    bins = data.distribution(df).set_index("bin")
    assert bins["items"].sum() == 7
    assert bins.loc["< 1 h", "items"] == 1  # 0.5 h
    assert bins.loc["4 d – 7 d", "items"] == 1  # 120 h
    assert bins.loc["7 d – 14 d", "items"] == 1  # 200 h


def test_filter_items(build_dashboard_warehouse, tmp_path: Path) -> None:
    df = data.load_time_to_ticket(build_dashboard_warehouse(tmp_path / "w.duckdb"))
    f = data.filter_items
    assert len(f(df, data.ItemFilter(teams=("payments",)), 4.3)) == 4
    assert len(f(df, data.ItemFilter(teams=(data.NO_TEAM,)), 4.3)) == 3
    assert len(f(df, data.ItemFilter(services=(data.NO_SERVICE, "billing")), 4.3)) == 2
    assert len(f(df, data.ItemFilter(status="never ticketed"), 4.3)) == 3
    assert len(f(df, data.ItemFilter(status="ticketed"), 4.3)) == 7
    late = f(df, data.ItemFilter(beyond_benchmark_only=True), 4.3)
    assert sorted(late["action_item_id"]) == ["AI-3", "AI-4", "AI-6", "AI-7", "AI-9"]
    both = data.ItemFilter(teams=("search",), beyond_benchmark_only=True, status="ticketed")
    assert list(f(df, both, 4.3)["action_item_id"]) == ["AI-6"]


def test_incidents_per_month_service(build_dashboard_warehouse, tmp_path: Path) -> None:
    df = data.load_incidents(build_dashboard_warehouse(tmp_path / "w.duckdb"))
    counts = data.incidents_per_month_service(df)
    got = {(m.strftime("%Y-%m"), s): n for m, s, n in counts.itertuples(index=False)}
    assert got == {
        ("2024-01", "checkout-api"): 2,
        ("2024-01", "search-api"): 1,
        ("2024-02", "checkout-api"): 1,
        ("2024-03", data.NO_SERVICE): 1,
    }


def test_format_helpers() -> None:
    assert data.format_hours(36.0) == "36.0 h · 1.5 d"
    assert data.format_hours(float("nan")) == "—"
    assert data.format_hours(0.1) == "0.1 h · <0.1 d"
    assert data.format_hours(0.0) == "0.0 h · 0.0 d"
    assert data.format_share(0.3) == "30%"
    assert data.format_share(None) == "—"
