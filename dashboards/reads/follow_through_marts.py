"""Follow-through metrics: done within N days, P1s handled, and Kaplan–Meier survival curves.

Plain functions over the warehouse (no Streamlit), so the numbers can be tested against SQL.
Never-ticketed and still-open items are *censored* in every curve: they count as "still
waiting" for as long as they have waited, so a team cannot look fast by leaving items out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from dashboards import data

SLO_LABEL = "Atlassian's published SLO"
ALL_TEAMS = "All teams"
PIPELINE_NO_TEAM = "(unassigned)"  # how the pipeline's curves name items without a team

FOLLOW_THROUGH_COLUMNS: tuple[str, ...] = (
    "team",
    "month",
    "items",
    "ticketed",
    "done",
    "canceled",
    "matured",
    "done_within",
    "p1_items",
    "p1_matured",
    "p1_resolved_within",
    "p1_rescheduled_justified",
    "slo_matured",
    "slo_met",
    "done_within_days",
    "p1_within_days",
    "as_of",
)


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
    benchmark_days=data.DEFAULT_BENCHMARK_DAYS,
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
        df = data.query(
            path,
            "SELECT as_of, benchmark_days, slo_priority_weeks, slo_other_weeks,"
            " done_within_days, p1_within_days, inactivity_days, ticket_grace_hours"
            " FROM models.follow_through_settings LIMIT 1",
            "models.follow_through_settings",
        )
    except data.TableMissing:
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


def load_follow_through(path: Path) -> pd.DataFrame:
    """marts.follow_through, one row per team and month of identification."""
    df = data.query(
        path,
        f"SELECT {', '.join(FOLLOW_THROUGH_COLUMNS)} FROM marts.follow_through"
        " ORDER BY month, team",
        "marts.follow_through",
    )
    df["month"] = pd.to_datetime(df["month"])
    df["team"] = df["team"].fillna(data.NO_TEAM)
    return df


def load_curves(path: Path) -> pd.DataFrame:
    """Org and per-team time-to-ticket curves from marts.time_to_ticket_curves, in days."""
    df = data.query(
        path,
        "SELECT grouping_set, team, hours, at_risk, ticketed, censored, survival"
        " FROM marts.time_to_ticket_curves WHERE grouping_set IN ('org', 'team')"
        " ORDER BY grouping_set, team, hours",
        "marts.time_to_ticket_curves",
    )
    df["team"] = np.where(
        df["grouping_set"] == "org", ALL_TEAMS, _team_label(df["team"])
    )
    df["days"] = df["hours"] / 24.0
    return df.drop(columns=["grouping_set"])


def load_distribution(path: Path) -> pd.DataFrame:
    """Org and per-team rows of marts.time_to_ticket_distribution (Kaplan–Meier summaries)."""
    df = data.query(
        path,
        "SELECT grouping_set, team, items, ticketed, never_ticketed, km_median_hours,"
        " km_p90_hours, share_within_24h, share_beyond_benchmark, benchmark_days,"
        " km_median_days_to_done, share_done_within_slo"
        " FROM marts.time_to_ticket_distribution WHERE grouping_set IN ('org', 'team')"
        " ORDER BY grouping_set, team",
        "marts.time_to_ticket_distribution",
    )
    df["team"] = np.where(
        df["grouping_set"] == "org", ALL_TEAMS, _team_label(df["team"])
    )
    return df.drop(columns=["grouping_set"])


def load_item_status(path: Path) -> pd.DataFrame:
    """The columns of models.action_item_status the time-to-done curve needs."""
    df = data.query(
        path,
        "SELECT action_item_id, team, priority, identified_at, done, canceled, closed_at,"
        " slo_weeks, slo_status FROM models.action_item_status",
        "models.action_item_status",
    )
    for col in ("identified_at", "closed_at"):
        df[col] = pd.to_datetime(df[col], utc=True)
    df["team"] = _team_label(df["team"])
    return df


def _team_label(team: pd.Series) -> pd.Series:
    """One label for "no team" on every page, whatever the table called it."""
    return team.fillna(data.NO_TEAM).replace(PIPELINE_NO_TEAM, data.NO_TEAM)


def _share(num: float, den: float) -> float | None:
    return float(num) / float(den) if den else None


@dataclass(frozen=True)
class Totals:
    """Sums over marts.follow_through rows; each share is None when its denominator is 0."""

    items: int
    done: int
    canceled: int
    matured: int
    done_within: int
    p1_matured: int
    p1_resolved_within: int
    p1_rescheduled_justified: int
    slo_matured: int
    slo_met: int

    @property
    def share_done_within(self) -> float | None:
        return _share(self.done_within, self.matured)

    @property
    def p1_handled(self) -> int:
        return self.p1_resolved_within + self.p1_rescheduled_justified

    @property
    def share_p1_handled(self) -> float | None:
        return _share(self.p1_handled, self.p1_matured)

    @property
    def share_slo_met(self) -> float | None:
        return _share(self.slo_met, self.slo_matured)


# The counts of marts.follow_through that add up across months and teams.
COUNT_COLUMNS = [
    "items",
    "done",
    "canceled",
    "matured",
    "done_within",
    "p1_matured",
    "p1_resolved_within",
    "p1_rescheduled_justified",
    "slo_matured",
    "slo_met",
]


def totals(df: pd.DataFrame) -> Totals:
    """Sum counts first, then divide: averaging per-month shares would weight a 1-item month
    like a 40-item one."""
    s = df[COUNT_COLUMNS].sum()
    return Totals(**{k: int(v) for k, v in s.items()})


def by_team(df: pd.DataFrame) -> pd.DataFrame:
    """Per-team sums and shares, worst done-within share first."""
    sums = (
        df.groupby("team", sort=True)[COUNT_COLUMNS]
        .sum()
        .reset_index()
    )
    sums["p1_handled"] = sums["p1_resolved_within"] + sums["p1_rescheduled_justified"]
    sums["share_done_within"] = sums["done_within"] / sums["matured"].where(sums["matured"] > 0)
    sums["share_p1_handled"] = sums["p1_handled"] / sums["p1_matured"].where(
        sums["p1_matured"] > 0
    )
    sums["share_slo_met"] = sums["slo_met"] / sums["slo_matured"].where(sums["slo_matured"] > 0)
    return sums.sort_values(
        ["share_done_within", "team"], na_position="last", ignore_index=True
    )


def by_month(df: pd.DataFrame) -> pd.DataFrame:
    """Org-wide sums per month of identification, with the done-within share."""
    sums = df.groupby("month", sort=True)[["items", "matured", "done_within"]].sum().reset_index()
    sums["share_done_within"] = sums["done_within"] / sums["matured"].where(sums["matured"] > 0)
    return sums


def team_month_grid(df: pd.DataFrame) -> pd.DataFrame:
    """One cell per team and month for the heat map; unmatured cells keep a NULL share."""
    out = df[["team", "month", "items", "matured", "done_within"]].copy()
    out = out.groupby(["team", "month"], sort=True).sum().reset_index()
    if not out.empty:
        # Every month in the range gets a column, so a quiet month is a visible gap.
        months = pd.date_range(out["month"].min(), out["month"].max(), freq="MS")
        full = pd.MultiIndex.from_product([sorted(out["team"].unique()), months], names=["team", "month"])
        out = out.set_index(["team", "month"]).reindex(full, fill_value=0).reset_index()
    out["share_done_within"] = out["done_within"] / out["matured"].where(out["matured"] > 0)
    out["label"] = np.select(
        [out["matured"] > 0, out["items"] > 0],
        [out["done_within"].astype(str) + "/" + out["matured"].astype(str), "too new"],
        "",
    )
    return out


def survival_at(curve: pd.DataFrame, days: float) -> float:
    """S(t) of one Kaplan–Meier curve: the survival after the last time ≤ t (1.0 before any)."""
    upto = curve[curve["days"] <= days]
    return float(upto["survival"].iloc[-1]) if len(upto) else 1.0


def not_ticketed_within(curves: pd.DataFrame, days: float) -> pd.DataFrame:
    """Per group: estimated share still without a ticket after `days` (never-ticketed censored).

    Read off the stored curves, so it follows the sidebar benchmark rather than the build's.
    """
    rows = [
        {"team": team, "not_ticketed_within": survival_at(g.sort_values("days"), days)}
        for team, g in curves.groupby("team", sort=True)
    ]
    return pd.DataFrame(rows, columns=["team", "not_ticketed_within"])


def step_points(curves: pd.DataFrame, max_days: float) -> pd.DataFrame:
    """Curves as plottable steps: start each at (0 days, 100 %) and extend to `max_days`.

    Without the start point a group's first drawn step would begin at its first event, and
    without the end point a curve whose last event is early would stop short of the axis.
    """
    parts = []
    for team, g in curves.groupby("team", sort=False):
        g = g.sort_values("days")
        shown = g[g["days"] <= max_days]
        last = float(shown["survival"].iloc[-1]) if len(shown) else 1.0
        start = pd.DataFrame({"team": [team], "days": [0.0], "survival": [1.0]})
        end = pd.DataFrame({"team": [team], "days": [max_days], "survival": [last]})
        parts.extend([start, shown[["team", "days", "survival"]], end])
    if not parts:
        return pd.DataFrame(columns=["team", "days", "survival"])
    return pd.concat(parts, ignore_index=True)


def km_table(durations: np.ndarray, observed: np.ndarray) -> pd.DataFrame:
    """Kaplan–Meier table: each distinct time with at_risk, events, censored, survival after."""
    d = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=bool)
    keep = ~np.isnan(d)
    d, e = d[keep], e[keep]
    cols = ["days", "at_risk", "events", "censored", "survival"]
    if d.size == 0:
        return pd.DataFrame(columns=cols)
    order = np.argsort(d, kind="stable")
    d, e = d[order], e[order]
    times, first, counts = np.unique(d, return_index=True, return_counts=True)
    at_risk = d.size - first
    events = np.add.reduceat(e.astype(int), first)
    survival = np.cumprod(1.0 - events / at_risk)
    return pd.DataFrame(
        {
            "days": times,
            "at_risk": at_risk,
            "events": events,
            "censored": counts - events,
            "survival": survival,
        }
    )


def km_median(table: pd.DataFrame) -> float | None:
    """First time the survival drops to 0.5 or below; None when half are still open."""
    hit = table[(table["events"] > 0) & (table["survival"] <= 0.5 + 1e-12)]
    return float(hit["days"].iloc[0]) if len(hit) else None


def done_durations(items: pd.DataFrame, as_of: datetime | pd.Timestamp) -> pd.DataFrame:
    """Days from identification to done, with the pipeline's censoring rules.

    Done by `as_of`: observed at its close. Cancelled: censored when cancelled (it stopped being
    at risk of completion). Open: censored at `as_of`. Marked done only in the document (no
    close date): left out, since its time to done is unknown. Items identified after `as_of`
    or never dated are left out too.
    """
    stamp = pd.Timestamp(as_of)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    df = items[items["identified_at"].notna() & (items["identified_at"] <= stamp)]
    closed_days = (df["closed_at"] - df["identified_at"]).dt.total_seconds() / 86400.0
    waited = (stamp - df["identified_at"]).dt.total_seconds() / 86400.0
    closed_by = df["closed_at"].notna() & (df["closed_at"] <= stamp)
    observed = df["done"].astype(bool) & closed_by
    gone = df["canceled"].astype(bool) & closed_by
    doc_only = df["done"].astype(bool) & df["closed_at"].isna()
    days = np.where(observed | gone, closed_days.clip(lower=0.0), waited)
    days = np.where(doc_only, np.nan, days)
    return pd.DataFrame(
        {
            "action_item_id": df["action_item_id"].to_numpy(),
            "team": df["team"].to_numpy(),
            "days": days.astype(float),
            "observed": observed.to_numpy(),
        }
    )


def done_curves(durations: pd.DataFrame) -> pd.DataFrame:
    """Org ('All teams') and per-team time-to-done curves: survival = share not yet done."""
    parts = []
    groups = [(ALL_TEAMS, durations), *durations.groupby("team", sort=True)]
    for team, g in groups:
        table = km_table(g["days"].to_numpy(), g["observed"].to_numpy())
        if not table.empty:
            parts.append(table.assign(team=team))
    if not parts:
        return pd.DataFrame(columns=["team", "days", "at_risk", "events", "censored", "survival"])
    return pd.concat(parts, ignore_index=True)


def done_medians(curves: pd.DataFrame) -> dict[str, float | None]:
    return {team: km_median(g) for team, g in curves.groupby("team", sort=True)}
