"""Readers of marts.time_to_ticket and the marts the build summarises it into.

`marts.time_to_ticket_summary` holds every figure the overview shows (org, team and month
rows), `marts.time_to_ticket_ages` each item's age and beyond-the-benchmark flag, and
`marts.time_to_ticket_histogram` the bins of the distribution chart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dashboards.formatting import NO_SERVICE, NO_TEAM, team_label
from dashboards.reads.connection import query

TIME_TO_TICKET_COLUMNS: tuple[str, ...] = (
    "action_item_id",
    "postmortem_id",
    "postmortem_title",
    "team",
    "service",
    "action_text",
    "owner",
    "priority",
    "identified_at",
    "ticket_key",
    "ticket_provider",
    "ticket_url",
    "ticket_created_at",
    "hours_to_ticket",
    "link_kind",
)
AGE_COLUMNS: tuple[str, ...] = ("ticketed", "open_hours", "beyond_benchmark")


def load_time_to_ticket(path: Path) -> pd.DataFrame:
    """All rows of marts.time_to_ticket with their marts.time_to_ticket_ages flags."""
    cols = ", ".join(f"t.{c}" for c in TIME_TO_TICKET_COLUMNS)
    ages = ", ".join(f"a.{c}" for c in AGE_COLUMNS)
    df = query(
        path,
        f"SELECT {cols}, {ages} FROM marts.time_to_ticket t"
        " JOIN marts.time_to_ticket_ages a USING (action_item_id)"
        " ORDER BY t.identified_at NULLS LAST, t.action_item_id",
        "marts.time_to_ticket_ages",
        times=("identified_at", "ticket_created_at"),
    )
    df["hours_to_ticket"] = pd.to_numeric(df["hours_to_ticket"], errors="coerce")
    df["open_hours"] = pd.to_numeric(df["open_hours"], errors="coerce")
    for col in ("ticketed", "beyond_benchmark"):
        df[col] = df[col].astype(bool)
    return df


def load_summary(path: Path) -> pd.DataFrame:
    """marts.time_to_ticket_summary: one org row, one per team, one per month identified."""
    df = query(
        path,
        "SELECT *, median_hours / 24.0 AS median_days FROM marts.time_to_ticket_summary"
        " ORDER BY grouping_set, month, team",
        "marts.time_to_ticket_summary",
    )
    df["team"] = team_label(df["team"]).where(df["grouping_set"] == "team")
    df["month"] = pd.to_datetime(df["month"])
    return df


def load_histogram(path: Path) -> pd.DataFrame:
    """marts.time_to_ticket_histogram in bin order, bounds in days, `bin` the label."""
    return query(
        path,
        "SELECT label AS bin, start_hours / 24.0 AS start_days, end_hours / 24.0 AS end_days,"
        " items FROM marts.time_to_ticket_histogram h ORDER BY h.bin",
        "marts.time_to_ticket_histogram",
    )


@dataclass(frozen=True)
class ItemFilter:
    """Filters of the action-item table; empty selections mean 'all'."""

    teams: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    status: str = "all"  # "all" | "ticketed" | "never ticketed"
    beyond_benchmark_only: bool = False


def filter_items(df: pd.DataFrame, flt: ItemFilter) -> pd.DataFrame:
    """Rows matching the filters; NULL team/service match their '(no …)' labels."""
    mask = pd.Series(True, index=df.index)
    if flt.teams:
        mask &= df["team"].fillna(NO_TEAM).isin(flt.teams)
    if flt.services:
        mask &= df["service"].fillna(NO_SERVICE).isin(flt.services)
    if flt.status == "ticketed":
        mask &= df["ticketed"]
    elif flt.status == "never ticketed":
        mask &= ~df["ticketed"]
    if flt.beyond_benchmark_only:
        mask &= df["beyond_benchmark"]
    return df[mask]
