"""Stale action items: what is dying right now, and the list a manager would act on today.

marts.stale_action_items has one row per item *and reason*; managers act per item, so
marts.stale_items folds the reasons of one item into one row, and marts.stale_summary holds
the counts and medians for every choice of team, reason and P0/P1 filter.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dashboards.formatting import NO_TEAM, team_labels
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

def reason_label(reason: str) -> str:
    return REASON_LABELS.get(reason, reason)


def load_stale(path: Path) -> pd.DataFrame:
    """Every row of marts.stale_action_items with a readable reason label."""
    df = query(
        path,
        f"SELECT {', '.join(STALE_COLUMNS)} FROM marts.stale_action_items"
        " ORDER BY days_stale DESC NULLS LAST, action_item_id, reason",
        "marts.stale_action_items",
        times=("since", "as_of"),
    )
    df["days_stale"] = pd.to_numeric(df["days_stale"], errors="coerce")
    df["team"] = df["team"].fillna(NO_TEAM)
    df["reason_label"] = df["reason"].map(reason_label)
    return df


def load_summary(path: Path) -> pd.DataFrame:
    """marts.stale_summary: counts per team/all, reason/all and P0/P1-only or every item."""
    df = query(
        path,
        "SELECT grouping_set, p1_only, team, reason, items, p1_items, without_owner,"
        " item_reasons, median_days_stale FROM marts.stale_summary"
        " ORDER BY grouping_set, p1_only, items DESC, team, reason",
        "marts.stale_summary",
    )
    return team_labels(df)


def load_items(path: Path) -> pd.DataFrame:
    """marts.stale_items: one row per stale item, reasons folded, in the order to act on them."""
    df = query(
        path,
        "SELECT act_order, action_item_id, postmortem_id, team, service, owner, priority,"
        " action_text, ticket_key, ticket_url, reasons, reason_count, days_stale, details"
        " FROM marts.stale_items ORDER BY act_order",
        "marts.stale_items",
    )
    df["reasons"] = df["reasons"].map(lambda rs: [] if rs is None else list(rs))
    return team_labels(df)


@dataclass(frozen=True)
class StaleFilter:
    """None means 'all'."""

    team: str | None = None
    reason: str | None = None  # a reason id, not its label
    p1_only: bool = False

    @property
    def grouping_set(self) -> str:
        """The marts.stale_summary rows that answer this filter."""
        if self.team is None:
            return "all" if self.reason is None else "reason"
        return "team" if self.reason is None else "team_reason"


def _priority_mask(df: pd.DataFrame, flt: StaleFilter) -> pd.Series:
    mask = pd.Series(True, index=df.index)
    if flt.team is not None:
        mask &= df["team"] == flt.team
    if flt.p1_only:
        mask &= df["priority"].isin(["P0", "P1"])
    return mask


def filter_stale(df: pd.DataFrame, flt: StaleFilter) -> pd.DataFrame:
    """Rows of marts.stale_action_items matching the filter."""
    mask = _priority_mask(df, flt)
    if flt.reason is not None:
        mask &= df["reason"] == flt.reason
    return df[mask]


def filter_items(items: pd.DataFrame, flt: StaleFilter) -> pd.DataFrame:
    """Rows of marts.stale_items matching the filter (an item matches a reason it has)."""
    mask = _priority_mask(items, flt)
    if flt.reason is not None:
        mask &= items["reasons"].map(lambda rs: flt.reason in rs)
    return items[mask].sort_values("act_order")


def headline(summary: pd.DataFrame, flt: StaleFilter) -> pd.Series | None:
    """The one marts.stale_summary row of the filter; None when nothing matches."""
    rows = summary[
        (summary["grouping_set"] == flt.grouping_set) & (summary["p1_only"] == flt.p1_only)
    ]
    if flt.team is not None:
        rows = rows[rows["team"] == flt.team]
    if flt.reason is not None:
        rows = rows[rows["reason"] == flt.reason]
    return None if rows.empty else rows.iloc[0]


def per_reason(summary: pd.DataFrame, flt: StaleFilter) -> pd.DataFrame:
    """The marts.stale_summary rows per reason under the filter, largest first."""
    grouping = "reason" if flt.team is None else "team_reason"
    rows = summary[(summary["grouping_set"] == grouping) & (summary["p1_only"] == flt.p1_only)]
    if flt.team is not None:
        rows = rows[rows["team"] == flt.team]
    if flt.reason is not None:
        rows = rows[rows["reason"] == flt.reason]
    rows = rows.assign(reason_label=rows["reason"].map(reason_label))
    return rows.sort_values(["items", "reason"], ascending=[False, True], ignore_index=True)


def per_team(summary: pd.DataFrame, flt: StaleFilter) -> pd.DataFrame:
    """The marts.stale_summary rows per team under the filter, largest first."""
    grouping = "team" if flt.reason is None else "team_reason"
    rows = summary[(summary["grouping_set"] == grouping) & (summary["p1_only"] == flt.p1_only)]
    if flt.reason is not None:
        rows = rows[rows["reason"] == flt.reason]
    if flt.team is not None:
        rows = rows[rows["team"] == flt.team]
    return rows.sort_values(["items", "team"], ascending=[False, True], ignore_index=True)[
        ["team", "items", "p1_items"]
    ]
