"""Stale action items: what is dying right now, and the list a manager would act on today.

marts.stale_action_items has one row per item *and reason*; managers act per item, so the
"act today" list folds the reasons of one item into one row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dashboards.formatting import NO_TEAM
from dashboards.reads.connection import query

STALE_COLUMNS: tuple[str, ...] = (
    "action_item_id",
    "reason",
    "postmortem_id",
    "team",
    "service",
    "owner",
    "priority",
    "action_text",
    "ticket_key",
    "ticket_url",
    "since",
    "days_stale",
    "detail",
    "as_of",
)

# Reason id -> what a manager reads. Unknown ids from a newer pipeline are shown as they are.
REASON_LABELS: dict[str, str] = {
    "no_ticket_24h": "No ticket within 24 h",
    "no_owner": "No owner",
    "no_target_sprint": "No sprint or due date",
    "open_past_sprint": "Open past its sprint / due date",
    "no_activity": "No ticket activity",
    "p1_unjustified": "P1 late, no reason given",
    "verification_missing": "No verification criterion",
    "verification_unchecked": "Closed, verification never checked",
}

PRIORITY_RANK = {"P0": 0, "P1": 1, "P2": 2, "P3": 3, "P4": 4}


def reason_label(reason: str) -> str:
    return REASON_LABELS.get(reason, reason)


def load_stale(path: Path) -> pd.DataFrame:
    """Every row of marts.stale_action_items with a readable reason label."""
    df = query(
        path,
        f"SELECT {', '.join(STALE_COLUMNS)} FROM marts.stale_action_items"
        " ORDER BY days_stale DESC NULLS LAST, action_item_id, reason",
        "marts.stale_action_items",
    )
    for col in ("since", "as_of"):
        df[col] = pd.to_datetime(df[col], utc=True)
    df["days_stale"] = pd.to_numeric(df["days_stale"], errors="coerce")
    df["team"] = df["team"].fillna(NO_TEAM)
    df["reason_label"] = df["reason"].map(reason_label)
    return df


@dataclass(frozen=True)
class StaleFilter:
    """Empty selections mean 'all'."""

    teams: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()  # reason ids, not labels
    p1_only: bool = False


def filter_stale(df: pd.DataFrame, flt: StaleFilter) -> pd.DataFrame:
    mask = pd.Series(True, index=df.index)
    if flt.teams:
        mask &= df["team"].isin(flt.teams)
    if flt.reasons:
        mask &= df["reason"].isin(flt.reasons)
    if flt.p1_only:
        mask &= df["priority"].isin(["P0", "P1"])
    return df[mask]


def counts_by_reason(df: pd.DataFrame) -> pd.DataFrame:
    """Distinct items per reason (one item has at most one row per reason), largest first."""
    if df.empty:
        return pd.DataFrame(columns=["reason", "reason_label", "items", "median_days_stale"])
    out = (
        df.groupby(["reason", "reason_label"], sort=False)
        .agg(items=("action_item_id", "nunique"), median_days_stale=("days_stale", "median"))
        .reset_index()
    )
    return out.sort_values(["items", "reason"], ascending=[False, True], ignore_index=True)


def counts_by_team(df: pd.DataFrame) -> pd.DataFrame:
    """Distinct stale items per team, and how many of them are P0/P1."""
    if df.empty:
        return pd.DataFrame(columns=["team", "items", "p1_items"])
    p1 = df[df["priority"].isin(["P0", "P1"])].groupby("team")["action_item_id"].nunique()
    out = df.groupby("team")["action_item_id"].nunique().rename("items").to_frame()
    out["p1_items"] = p1.reindex(out.index).fillna(0).astype(int)
    return out.reset_index().sort_values(["items", "team"], ascending=[False, True])


def act_today(df: pd.DataFrame) -> pd.DataFrame:
    """One row per stale item, most urgent first: P0/P1 before others, then more reasons,
    then longest stale. Reasons and their details are joined in the same order."""
    if df.empty:
        return pd.DataFrame(
            columns=[
                "action_item_id",
                "team",
                "owner",
                "priority",
                "action_text",
                "ticket_key",
                "ticket_url",
                "reasons",
                "reason_count",
                "days_stale",
                "details",
                "postmortem_id",
            ]
        )
    ordered = df.sort_values(["action_item_id", "days_stale"], ascending=[True, False])
    g = ordered.groupby("action_item_id", sort=False)
    out = g.agg(
        team=("team", "first"),
        owner=("owner", "first"),
        priority=("priority", "first"),
        action_text=("action_text", "first"),
        ticket_key=("ticket_key", "first"),
        ticket_url=("ticket_url", "first"),
        reasons=("reason_label", list),
        reason_count=("reason", "nunique"),
        days_stale=("days_stale", "max"),
        details=("detail", lambda s: " | ".join(s)),
        postmortem_id=("postmortem_id", "first"),
    ).reset_index()
    rank = out["priority"].map(PRIORITY_RANK).fillna(9)
    urgent = rank <= 1
    return (
        out.assign(_urgent=~urgent, _rank=rank)
        .sort_values(
            ["_urgent", "reason_count", "days_stale", "_rank", "action_item_id"],
            ascending=[True, False, False, True, True],
            na_position="last",
        )
        .drop(columns=["_urgent", "_rank"])
        .reset_index(drop=True)
    )


def without_owner(rows: pd.DataFrame, flt: StaleFilter, items: pd.DataFrame) -> int:
    """Shown items that have no owner anywhere (reason no_owner), even when the reason filter
    hides that reason: "who do I even ask?" matters for every stale item."""
    unowned = filter_stale(rows, StaleFilter(teams=flt.teams, p1_only=flt.p1_only))
    ids = set(unowned.loc[unowned["reason"] == "no_owner", "action_item_id"])
    return int(items["action_item_id"].isin(ids).sum())
