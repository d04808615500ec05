"""How figures read on the dashboard: units, shares and the labels of missing groups."""

from __future__ import annotations

import math

import pandas as pd

NO_TEAM = "(no team)"
NO_SERVICE = "(no service)"
PIPELINE_NO_TEAM = "(unassigned)"  # how the marts name items without a team
BENCHMARK_LABEL = "vendor-reported industry figure"


def team_label(team: pd.Series) -> pd.Series:
    """One label for "no team" on every page, whatever the table called it."""
    return team.fillna(NO_TEAM).replace(PIPELINE_NO_TEAM, NO_TEAM)


def team_labels(df: pd.DataFrame) -> pd.DataFrame:
    """A grouped mart's team column with the pages' "no team"; 'all' rows keep NULL."""
    named = df["team"].notna()
    df.loc[named, "team"] = team_label(df.loc[named, "team"])
    return df


def format_hours(hours: float | None) -> str:
    """'37.5 h · 1.6 d' — both units, since leadership thinks in days and on-call in hours."""
    if hours is None or (isinstance(hours, float) and math.isnan(hours)):
        return "—"
    days = hours / 24
    return f"{hours:.1f} h · {'<0.1' if 0 < days < 0.05 else f'{days:.1f}'} d"


def format_share(share: float | None) -> str:
    return "—" if share is None or (isinstance(share, float) and math.isnan(share)) else f"{share:.0%}"
