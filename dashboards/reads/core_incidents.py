"""Readers of core.incidents and core.postmortems, context around the action items."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dashboards.formatting import NO_SERVICE
from dashboards.reads.connection import TableMissing, query, table_exists


def load_incidents(path: Path) -> pd.DataFrame:
    """core.incidents, for context pages; raises TableMissing when not built."""
    df = query(
        path,
        "SELECT incident_id, incident_number, title, service, team, priority, urgency, status,"
        " created_at, resolved_at, url FROM core.incidents ORDER BY created_at",
        "core.incidents",
    )
    for col in ("created_at", "resolved_at"):
        df[col] = pd.to_datetime(df[col], utc=True)
    return df


def load_postmortem_incident_ids(path: Path) -> set[str] | None:
    """Incident ids that have a postmortem, or None when core.postmortems is absent."""
    try:
        if not table_exists(path, "core.postmortems"):
            return None
        df = query(
            path,
            "SELECT DISTINCT incident_id FROM core.postmortems WHERE incident_id IS NOT NULL",
            "core.postmortems",
        )
    except TableMissing:
        return None
    return set(df["incident_id"].astype(str))


def incidents_per_month_service(df: pd.DataFrame) -> pd.DataFrame:
    """Incident counts per month of creation and service (NULL service kept as a label)."""
    dated = df[df["created_at"].notna()]
    if dated.empty:
        return pd.DataFrame(columns=["month", "service", "incidents"])
    month = dated["created_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
    return (
        dated.assign(month=month.dt.to_timestamp(), service=dated["service"].fillna(NO_SERVICE))
        .groupby(["month", "service"], sort=True)
        .size()
        .rename("incidents")
        .reset_index()
    )
