"""Readers of the follow-through marts and of the settings row the build used.

marts.follow_through_summary (org, team and team x month sums and shares), the Kaplan–Meier
curves marts.time_to_ticket_curves and marts.time_to_done_curves, and the per-team
marts.time_to_ticket_distribution. Plain functions, no Streamlit and no arithmetic on metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from dashboards.formatting import team_label
from dashboards.reads.connection import TableMissing, query
from models.analytics.time_to_ticket import DEFAULT_BENCHMARK_DAYS

ALL_TEAMS = "All teams"


@dataclass(frozen=True)
class Settings:
    """What the build used (models.follow_through_settings), or the documented defaults."""

    as_of: pd.Timestamp | None
    benchmark_days: float
    slo_priority_weeks: float
    slo_other_weeks: float
    done_within_days: int
    p1_within_days: int
    inactivity_days: int
    ticket_grace_hours: float
    from_warehouse: bool


DEFAULT_SETTINGS = Settings(
    as_of=None,
    benchmark_days=DEFAULT_BENCHMARK_DAYS,
    slo_priority_weeks=4.0,
    slo_other_weeks=8.0,
    done_within_days=30,
    p1_within_days=30,
    inactivity_days=30,
    ticket_grace_hours=24.0,
    from_warehouse=False,
)


def load_settings(path: Path) -> Settings:
    """The build's settings row; the defaults when the table is absent or empty.

    Raises WarehouseMissing/WarehouseBusy like every query, so pages explain those first.
    """
    try:
        df = query(
            path,
            "SELECT as_of, benchmark_days, slo_priority_weeks, slo_other_weeks,"
            " done_within_days, p1_within_days, inactivity_days, ticket_grace_hours"
            " FROM models.follow_through_settings LIMIT 1",
            "models.follow_through_settings",
        )
    except TableMissing:
        return DEFAULT_SETTINGS
    if df.empty:
        return DEFAULT_SETTINGS
    row = df.iloc[0]
    return Settings(
        as_of=pd.Timestamp(row["as_of"]).tz_convert("UTC") if pd.notna(row["as_of"]) else None,
        benchmark_days=float(row["benchmark_days"]),
        slo_priority_weeks=float(row["slo_priority_weeks"]),
        slo_other_weeks=float(row["slo_other_weeks"]),
        done_within_days=int(row["done_within_days"]),
        p1_within_days=int(row["p1_within_days"]),
        inactivity_days=int(row["inactivity_days"]),
        ticket_grace_hours=float(row["ticket_grace_hours"]),
        from_warehouse=True,
    )


def load_summary(path: Path) -> pd.DataFrame:
    """marts.follow_through_summary: the org row (team 'All teams'), team and team x month rows."""
    df = query(
        path,
        "SELECT * FROM marts.follow_through_summary ORDER BY grouping_set, team, month",
        "marts.follow_through_summary",
    )
    df["team"] = np.where(df["grouping_set"] == "org", ALL_TEAMS, team_label(df["team"]))
    df["month"] = pd.to_datetime(df["month"])
    return df


def load_curves(path: Path) -> pd.DataFrame:
    """Org and per-team time-to-ticket curves from marts.time_to_ticket_curves, in days."""
    df = query(
        path,
        "SELECT grouping_set, team, hours, at_risk, ticketed, censored, survival"
        " FROM marts.time_to_ticket_curves WHERE grouping_set IN ('org', 'team')"
        " ORDER BY grouping_set, team, hours",
        "marts.time_to_ticket_curves",
    )
    df["team"] = np.where(
        df["grouping_set"] == "org", ALL_TEAMS, team_label(df["team"])
    )
    df["days"] = df["hours"] / 24.0
    return df.drop(columns=["grouping_set"])


def load_distribution(path: Path) -> pd.DataFrame:
    """Org and per-team rows of marts.time_to_ticket_distribution (Kaplan–Meier summaries)."""
    df = query(
        path,
        "SELECT grouping_set, team, items, ticketed, never_ticketed, km_median_hours,"
        " km_p90_hours, share_within_24h, share_beyond_benchmark, benchmark_days,"
        " km_median_days_to_done, share_done_within_slo"
        " FROM marts.time_to_ticket_distribution WHERE grouping_set IN ('org', 'team')"
        " ORDER BY grouping_set, team",
        "marts.time_to_ticket_distribution",
    )
    df["team"] = np.where(
        df["grouping_set"] == "org", ALL_TEAMS, team_label(df["team"])
    )
    return df.drop(columns=["grouping_set"])


def load_done_curves(path: Path) -> pd.DataFrame:
    """Org and per-team time-to-done curves from marts.time_to_done_curves, in days."""
    df = query(
        path,
        "SELECT grouping_set, team, days, at_risk, done, censored, survival"
        " FROM marts.time_to_done_curves WHERE grouping_set IN ('org', 'team')"
        " ORDER BY grouping_set, team, days",
        "marts.time_to_done_curves",
    )
    df["team"] = np.where(df["grouping_set"] == "org", ALL_TEAMS, team_label(df["team"]))
    return df.drop(columns=["grouping_set"])
