"""Readers of the incident marts: context around the action items on the Incidents page."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dashboards.reads.connection import query

ALL = "all"


def load_incident_summary(path: Path) -> pd.DataFrame:
    """marts.incident_summary: the 'all' row and one row per service."""
    return query(
        path,
        "SELECT grouping_set, service, incidents, services, median_hours_to_resolve, "
        "with_postmortem, share_with_postmortem FROM marts.incident_summary "
        "ORDER BY grouping_set, service",
        "marts.incident_summary",
    )


def load_incidents_monthly(path: Path) -> pd.DataFrame:
    """marts.incidents_monthly: per month, per service and over every service."""
    df = query(
        path,
        "SELECT grouping_set, month, service, incidents FROM marts.incidents_monthly "
        "ORDER BY month, service",
        "marts.incidents_monthly",
    )
    df["month"] = pd.to_datetime(df["month"])
    return df


def summary_row(summary: pd.DataFrame, service: str | None) -> pd.Series | None:
    """The stored figures for every service (`None`) or one service."""
    rows = (summary[summary["grouping_set"] == ALL] if service is None
            else summary[(summary["grouping_set"] == "service") & (summary["service"] == service)])
    return rows.iloc[0] if len(rows) else None


def monthly_rows(monthly: pd.DataFrame, service: str | None) -> pd.DataFrame:
    """Per-service monthly rows, for every service or one."""
    rows = monthly[monthly["grouping_set"] == "service"]
    return rows if service is None else rows[rows["service"] == service]


def month_table(monthly: pd.DataFrame, service: str | None) -> pd.DataFrame:
    """Months down, services across, with the stored per-month total over every service."""
    rows = monthly_rows(monthly, service).assign(month=lambda d: d["month"].dt.strftime("%Y-%m"))
    table = rows.pivot_table(index="month", columns="service", values="incidents",
                             fill_value=0).astype(int)
    if service is None:
        totals = monthly[monthly["grouping_set"] == ALL]
        table["total"] = totals.set_index(totals["month"].dt.strftime("%Y-%m"))["incidents"]
    return table
