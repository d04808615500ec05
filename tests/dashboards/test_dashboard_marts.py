"""The marts the dashboard reads hold what the pages show, by hand-worked and independent sums.

marts.time_to_ticket_summary/_ages/_histogram come from models.analytics.time_to_ticket,
marts.follow_through_summary from models.analytics.follow_through_summary, and
marts.time_to_done_curves from models.analytics.distribution.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from dashboards.formatting import NO_SERVICE, NO_TEAM, format_hours, format_share
from dashboards.reads import core_incidents, follow_through_marts
from dashboards.reads.time_to_ticket import (
    ItemFilter,
    filter_items,
    load_histogram,
    load_summary,
    load_time_to_ticket,
)
from models.analytics import follow_through_summary, time_to_ticket
from models.analytics.distribution import done_curves, prepare
from models.analytics.survival import km_quantile

AS_OF = datetime(2024, 6, 1, tzinfo=UTC)


def _five() -> pl.DataFrame:
    """1 h, 5 h, 48 h ticketed; one item open 36 h, one open 30 days at AS_OF."""
    rows = [
        ("a", "red", AS_OF - timedelta(days=60), 1.0),
        ("b", "red", AS_OF - timedelta(days=50), 5.0),
        ("c", "blue", AS_OF - timedelta(days=40), 48.0),
        ("d", "blue", AS_OF - timedelta(hours=36), None),
        ("e", None, AS_OF - timedelta(days=30), None),
    ]
    return pl.DataFrame(
        {
            "action_item_id": [r[0] for r in rows],
            "team": [r[1] for r in rows],
            "identified_at": [r[2] for r in rows],
            "ticket_key": [f"T-{r[0]}" if r[3] is not None else None for r in rows],
            "hours_to_ticket": [r[3] for r in rows],
        },
        schema={"action_item_id": pl.String, "team": pl.String,
                "identified_at": pl.Datetime("us", "UTC"), "ticket_key": pl.String,
                "hours_to_ticket": pl.Float64},
    )


def _org(summary: pl.DataFrame) -> dict:
    return summary.filter(pl.col("grouping_set") == "org").row(0, named=True)


def test_summary_five_items() -> None:
    h = _org(time_to_ticket.summary(_five(), AS_OF, 4.3))
    assert (h["items"], h["ticketed"], h["never_ticketed"]) == (5, 3, 2)
    assert h["median_hours"] == 5.0  # median of 1, 5, 48 — never-ticketed rows are not zeros
    assert h["share_ticketed"] == pytest.approx(0.6)
    assert h["share_never_ticketed"] == pytest.approx(0.4)
    assert h["within_24h"] == 2 and h["share_within_24h"] == pytest.approx(0.4)
    # 48 h < 103.2 h; only the 30-day-old unticketed item is past the benchmark.
    assert h["beyond_benchmark"] == 1 and h["share_beyond_benchmark"] == pytest.approx(0.2)
    # Kaplan–Meier: 1 h S=4/5, 5 h S=3/5, 36 h censored, 48 h S=3/10 ≤ 0.5.
    assert h["km_median_hours"] == 48.0


def test_beyond_benchmark_moves_with_the_benchmark() -> None:
    assert _org(time_to_ticket.summary(_five(), AS_OF, 1.0))["beyond_benchmark"] == 3
    ages = time_to_ticket.ages(_five(), AS_OF, 1.0)
    # 48 h ticketed late, and both unticketed items (36 h and 30 d) are older than a day.
    assert sorted(ages.filter("beyond_benchmark")["action_item_id"]) == ["c", "d", "e"]


def test_open_age_only_for_unticketed_items() -> None:
    ages = dict(time_to_ticket.ages(_five(), AS_OF, 4.3).select("action_item_id", "open_hours").rows())
    assert ages["d"] == pytest.approx(36.0)
    assert ages["e"] == pytest.approx(720.0)
    assert all(ages[k] is None for k in "abc")


def test_ticketed_item_of_unknown_duration_is_not_never_ticketed() -> None:
    # hours_to_ticket is also NULL when a ticket exists but identified_at is unknown.
    df = _five().with_columns(
        ticket_key=pl.when(pl.col("action_item_id") == "e").then(pl.lit("T-e"))
        .otherwise(pl.col("ticket_key")),
        identified_at=pl.when(pl.col("action_item_id") == "e").then(None)
        .otherwise(pl.col("identified_at")),
    )
    h = _org(time_to_ticket.summary(df, AS_OF, 4.3))
    assert (h["ticketed"], h["timed"], h["never_ticketed"], h["untimed"]) == (4, 3, 1, 1)
    assert h["median_hours"] == 5.0
    assert h["beyond_benchmark"] == 0  # "d" is open for 36 h only; "e" has its ticket
    ages = time_to_ticket.ages(df, AS_OF, 4.3)
    assert list(ages.filter(~pl.col("ticketed"))["action_item_id"]) == ["d"]


def test_no_ticketed_items_gives_no_median() -> None:
    h = _org(time_to_ticket.summary(_five().filter(pl.col("hours_to_ticket").is_null()), AS_OF, 4.3))
    assert h["median_hours"] is None and h["km_median_hours"] is None
    assert h["share_ticketed"] == 0.0 and h["share_never_ticketed"] == 1.0


def test_kaplan_meier_medians() -> None:
    # Not reached when most items stay open; the lower median without censoring.
    assert km_quantile(np.array([2.0, 500.0, 600.0, 700.0]),
                       np.array([True, False, False, False]), 0.5) is None
    assert km_quantile(np.array([4.0, 1.0, 3.0, 2.0]), np.ones(4, dtype=bool), 0.5) == 2.0


def test_fixture_warehouse_summary(warehouse: Path, expected: dict[str, float]) -> None:
    summary = load_summary(warehouse)
    h = summary[summary["grouping_set"] == "org"].iloc[0]
    assert h["items"] == expected["total"]
    assert h["never_ticketed"] == expected["never"]
    assert h["median_hours"] == expected["median_hours"]
    assert h["km_median_hours"] == expected["km_median_hours"]
    assert h["within_24h"] == expected["within_24h"]
    assert h["beyond_benchmark"] == expected["beyond_benchmark"]
    assert h["undated"] == 1 and h["benchmark_days"] == 4.3


def test_by_team_keeps_items_without_team(warehouse: Path) -> None:
    summary = load_summary(warehouse)
    teams = summary[summary["grouping_set"] == "team"].set_index("team")
    assert teams["items"].sum() == 10
    assert teams.loc["payments", "median_hours"] == 36.0  # 2, 36, 120
    assert teams.loc["search", "median_hours"] == 105.0  # 10, 200
    assert teams.loc[NO_TEAM, "median_hours"] == 25.25  # 0.5, 50
    assert teams.loc[NO_TEAM, "never_ticketed"] == 1
    assert teams.loc["payments", "share_never_ticketed"] == 0.25
    assert teams.loc["search", "ticketed_late"] == 1
    assert teams.loc["payments", "median_days"] == 1.5


def test_monthly_trend(warehouse: Path) -> None:
    summary = load_summary(warehouse)
    trend = summary[summary["grouping_set"] == "month"].sort_values("month")
    assert [m.strftime("%Y-%m") for m in trend["month"]] == ["2024-01", "2024-02", "2024-03"]
    assert list(trend["median_hours"]) == [10.0, 120.0, 50.0]
    assert list(trend["never_ticketed"]) == [0, 0, 2]
    assert trend["items"].sum() == 9  # the undated item has no month


def test_histogram_counts_every_ticketed_item_once(warehouse: Path) -> None:
    bins = load_histogram(warehouse).set_index("bin")
    assert bins["items"].sum() == 7
    assert bins.loc["< 1 h", "items"] == 1  # 0.5 h
    assert bins.loc["4 d – 7 d", "items"] == 1  # 120 h
    assert bins.loc["7 d – 14 d", "items"] == 1  # 200 h
    assert math.isinf(bins["end_days"].iloc[-1])


def test_filter_items(warehouse: Path) -> None:
    df = load_time_to_ticket(warehouse)
    f = filter_items
    assert len(f(df, ItemFilter(teams=("payments",)))) == 4
    assert len(f(df, ItemFilter(teams=(NO_TEAM,)))) == 3
    assert len(f(df, ItemFilter(services=(NO_SERVICE, "billing")))) == 2
    assert len(f(df, ItemFilter(status="never ticketed"))) == 3
    assert len(f(df, ItemFilter(status="ticketed"))) == 7
    late = f(df, ItemFilter(beyond_benchmark_only=True))
    assert sorted(late["action_item_id"]) == ["AI-3", "AI-4", "AI-6", "AI-7", "AI-9"]
    both = ItemFilter(teams=("search",), beyond_benchmark_only=True, status="ticketed")
    assert list(f(df, both)["action_item_id"]) == ["AI-6"]


def test_incident_marts_count_per_month_and_service(warehouse: Path) -> None:
    monthly = core_incidents.load_incidents_monthly(warehouse)
    got = {(g, m.strftime("%Y-%m"), s if isinstance(s, str) else None): n
           for g, m, s, n in monthly.itertuples(index=False)}
    assert got == {
        ("service", "2024-01", "checkout-api"): 2,
        ("service", "2024-01", "search-api"): 1,
        ("service", "2024-02", "checkout-api"): 1,
        ("service", "2024-03", NO_SERVICE): 1,
        ("all", "2024-01", None): 3,
        ("all", "2024-02", None): 1,
        ("all", "2024-03", None): 1,
    }
    summary = core_incidents.load_incident_summary(warehouse)
    overall = core_incidents.summary_row(summary, None)
    # INC-1..5: resolved after 3, 5, 1 and 8 h (INC-4 open); postmortems cite INC-1 and INC-3
    assert (overall["incidents"], overall["services"]) == (5, 2)
    assert overall["median_hours_to_resolve"] == 4.0
    assert (overall["with_postmortem"], overall["share_with_postmortem"]) == (2, 0.4)
    checkout = core_incidents.summary_row(summary, "checkout-api")
    assert (checkout["incidents"], checkout["median_hours_to_resolve"]) == (3, 4.0)
    assert checkout["share_with_postmortem"] == pytest.approx(1 / 3)
    table = core_incidents.month_table(monthly, None)
    assert list(table["total"]) == [3, 1, 1]


def test_format_helpers() -> None:
    assert format_hours(36.0) == "36.0 h · 1.5 d"
    assert format_hours(float("nan")) == "—"
    assert format_hours(0.1) == "0.1 h · <0.1 d"
    assert format_hours(0.0) == "0.0 h · 0.0 d"
    assert format_share(0.3) == "30%"
    assert format_share(None) == "—"


# --- follow-through summary ------------------------------------------------------------------


def test_follow_through_summary_sums_counts_before_dividing() -> None:
    rows = pl.DataFrame(
        {
            "team": ["a", "a", "b"],
            "month": [datetime(2024, 1, 1).date(), datetime(2024, 2, 1).date(),
                      datetime(2024, 1, 1).date()],
            "items": [1, 40, 2],
            "done": [1, 10, 0],
            "canceled": [0, 1, 0],
            "matured": [1, 40, 0],
            "done_within": [1, 10, 0],
            "p1_matured": [0, 4, 0],
            "p1_resolved_within": [0, 1, 0],
            "p1_rescheduled_justified": [0, 1, 0],
            "slo_matured": [1, 40, 0],
            "slo_met": [1, 9, 0],
        }
    )
    out = follow_through_summary.summary(rows)
    org = out.filter(pl.col("grouping_set") == "org").row(0, named=True)
    assert org["share_done_within"] == 11 / 41  # not the mean of 100 % and 25 %
    assert org["share_p1_handled"] == 0.5 and org["too_new"] == 2
    b = out.filter((pl.col("grouping_set") == "team") & (pl.col("team") == "b")).row(0, named=True)
    assert b["share_done_within"] is None  # nothing matured: no share, not 0 %
    grid = {(r["team"], r["month"].month): r for r in
            out.filter(pl.col("grouping_set") == "team_month").iter_rows(named=True)}
    assert len(grid) == 4  # every team gets every month in range, a quiet month included
    assert grid[("b", 2)]["items"] == 0 and grid[("b", 2)]["share_done_within"] is None


def test_follow_through_summary_matches_the_monthly_mart(org: Path) -> None:
    """Org and team rows are plain sums of marts.follow_through, checked in SQL."""
    con = duckdb.connect(str(org), read_only=True)
    try:
        bad = con.execute(
            "WITH t AS (SELECT coalesce(team, '(unassigned)') AS team, sum(items) AS items,"
            " sum(done_within) AS dw, sum(matured) AS m FROM marts.follow_through GROUP BY 1)"
            " SELECT count(*) FROM t JOIN marts.follow_through_summary s"
            " ON s.grouping_set = 'team' AND s.team = t.team"
            " WHERE s.items <> t.items OR s.done_within <> t.dw OR s.matured <> t.m"
            " OR s.share_done_within IS DISTINCT FROM (CASE WHEN t.m > 0 THEN t.dw / t.m END)"
        ).fetchone()[0]
        org_items, status_items = con.execute(
            "SELECT (SELECT items FROM marts.follow_through_summary WHERE grouping_set = 'org'),"
            " (SELECT count(*) FROM models.action_item_status WHERE identified_at IS NOT NULL)"
        ).fetchone()
    finally:
        con.close()
    assert bad == 0 and org_items == status_items


# --- time to done ----------------------------------------------------------------------------


def _textbook_km_median(durations: list[float], observed: list[bool]) -> float | None:
    """Kaplan–Meier median written out the slow way, independent of models.analytics."""
    pairs = sorted(zip(durations, observed, strict=True))
    survival, at_risk, i = 1.0, len(pairs), 0
    while i < len(pairs):
        t = pairs[i][0]
        same = [o for d, o in pairs if d == t]
        events = sum(same)
        if events:
            survival *= 1 - events / at_risk
            if survival <= 0.5 + 1e-12:
                return t
        at_risk -= len(same)
        i += len(same)
    return None


def test_time_to_done_median_recomputed_from_item_status(org: Path) -> None:
    """Recompute each team's median days to done from models.action_item_status in SQL plus a
    textbook loop, and compare with the mart the page shows (and with the curves)."""
    con = duckdb.connect(str(org), read_only=True)
    try:
        rows = con.execute(
            "WITH s AS (SELECT as_of FROM models.follow_through_settings)"
            " SELECT coalesce(team, '(unassigned)'),"
            " CASE WHEN (done OR canceled) AND closed_at <= s.as_of"
            "   THEN greatest(epoch(closed_at) - epoch(identified_at), 0) / 86400.0"
            "   ELSE (epoch(s.as_of) - epoch(identified_at)) / 86400.0 END,"
            " done AND closed_at IS NOT NULL AND closed_at <= s.as_of"
            " FROM models.action_item_status, s"
            " WHERE identified_at IS NOT NULL AND identified_at <= s.as_of"
            " AND NOT (done AND closed_at IS NULL)"
        ).fetchall()
        mart = dict(con.execute(
            "SELECT coalesce(team, 'org'), km_median_days_to_done"
            " FROM marts.time_to_ticket_distribution WHERE grouping_set IN ('org', 'team')"
        ).fetchall())
        curve_at_risk = con.execute(
            "SELECT max(at_risk) FROM marts.time_to_done_curves WHERE grouping_set = 'org'"
        ).fetchone()[0]
    finally:
        con.close()
    groups: dict[str, tuple[list[float], list[bool]]] = {"org": ([], [])}
    for team, days, observed in rows:
        for key in ("org", team):
            d, o = groups.setdefault(key, ([], []))
            d.append(days)
            o.append(bool(observed))
    assert curve_at_risk == len(rows)  # the org curve starts with every usable item at risk
    assert set(groups) == set(mart)
    for key, (d, o) in groups.items():
        want = _textbook_km_median(d, o)
        if want is None:
            assert mart[key] is None, key
        else:  # the build counts whole seconds; SQL epoch() keeps the fraction
            assert mart[key] == pytest.approx(want, abs=1e-4), key


def test_done_curve_censoring_rules() -> None:
    as_of = datetime(2024, 3, 1, tzinfo=UTC)
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    items = pl.DataFrame(
        {
            "action_item_id": ["done", "open", "cancelled", "doc-only", "future"],
            "team": ["a"] * 5,
            "service": [None] * 5,
            "identified_at": [t0, t0, t0, t0, as_of + timedelta(days=1)],
            "ticket_created_at": [None] * 5,
            "hours_to_ticket": [None] * 5,
            "done": [True, False, False, True, False],
            "canceled": [False, False, True, False, False],
            "closed_at": [t0 + timedelta(days=10), None, t0 + timedelta(days=5), None, None],
            "slo_weeks": [4.0] * 5,
        },
        schema_overrides={"service": pl.String, "ticket_created_at": pl.Datetime("us", "UTC"),
                          "hours_to_ticket": pl.Float64, "closed_at": pl.Datetime("us", "UTC")},
    )
    curves = done_curves(prepare(items, as_of)).filter(pl.col("grouping_set") == "team")
    # 3 usable items (the future one and the doc-only one are left out): cancelled censored
    # at 5 days, done at 10 (2 at risk -> 0.5), open censored at 60 days.
    assert curves.select("days", "at_risk", "done", "censored", "survival").rows() == [
        (5.0, 3, 0, 1, 1.0), (10.0, 2, 1, 0, 0.5), (60.0, 1, 0, 1, 0.5),
    ]


def test_pages_read_the_done_curves_and_medians(org: Path) -> None:
    done = follow_through_marts.load_done_curves(org)
    dist = follow_through_marts.load_distribution(org)
    assert follow_through_marts.ALL_TEAMS in set(done["team"])
    assert set(done["team"]) <= set(dist["team"])
    assert (done["survival"].between(0, 1)).all()
