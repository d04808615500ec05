"""Stale action items: what is dying right now, one line per item, worst first."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import charts, ui
from dashboards.reads import stale_action_items as stale

st.title("Stale action items")
st.caption(
    "Open action items that are slipping — no ticket, no owner, no sprint, past their sprint, "
    "no activity — and closed ones whose verification was never checked."
)

rows = ui.table("marts.stale_action_items", "no stale action items — nothing is slipping")
if rows is None:
    st.stop()

summary = ui.table("marts.stale_summary", "no stale action items — nothing is slipping")
all_items = ui.table("marts.stale_items", "no stale action items — nothing is slipping")
if summary is None or all_items is None:
    st.stop()

cfg = ui.settings()
teams = sorted(summary.loc[summary["grouping_set"] == "team", "team"].unique())
reasons = list(stale.per_reason(summary, stale.StaleFilter())["reason"])

f1, f2, f3 = st.columns([2, 3, 1])
flt = stale.StaleFilter(
    team=f1.selectbox(
        "Team", [None, *teams], format_func=lambda t: "All teams" if t is None else t,
        key="stale_team",
    ),
    reason=f2.selectbox(
        "Reason",
        [None, *reasons],
        format_func=lambda r: "All reasons" if r is None else stale.reason_label(r),
        key="stale_reason",
    ),
    p1_only=f3.checkbox("P0/P1 only", key="stale_p1"),
)
shown = stale.filter_stale(rows, flt)
items = stale.filter_items(all_items, flt)
head = stale.headline(summary, flt)


def _figure(col: str) -> int:
    return 0 if head is None else int(head[col])


quiet = {"delta_color": "off", "delta_arrow": "off"}
c1, c2, c3, c4 = st.columns(4, border=True)
c1.metric(
    "Stale items",
    f"{_figure('items'):,}",
    delta=f"{_figure('item_reasons'):,} item × reason rows",
    help="Distinct action items with the selected reason (any reason when none is chosen).",
    **quiet,
)
c2.metric("P0/P1 among them", f"{_figure('p1_items'):,}", **quiet)
c3.metric(
    "Without an owner",
    f"{_figure('without_owner'):,}",
    help="No owner in the document and no assignee on the ticket.",
    **quiet,
)
median_days = None if head is None else head["median_days_stale"]
c4.metric(
    "Median days stale",
    "—" if median_days is None or pd.isna(median_days) else f"{median_days:.0f}",
    help="Per item, the longest-running of its reasons (of the selected one, when chosen); "
    "days from when the condition began to the data's as-of time.",
    **quiet,
)
if cfg.as_of is not None:
    st.caption(f"As of {cfg.as_of:%Y-%m-%d %H:%M} UTC (the latest event in the warehouse).")

if shown.empty:
    st.info("No stale action items match these filters.", icon=":material/filter_alt_off:")
    st.stop()

left, right = st.columns([3, 2])
with left:
    st.subheader("Items per reason")
    counts = stale.per_reason(summary, flt)
    st.altair_chart(
        charts.count_bars(counts, "reason_label", "items", "stale action items"), width="stretch"
    )
with right:
    st.subheader("Items per team")
    per_team = stale.per_team(summary, flt)
    st.dataframe(
        per_team,
        hide_index=True,
        width="stretch",
        column_config={
            "team": "Team",
            "items": st.column_config.NumberColumn("Stale items"),
            "p1_items": st.column_config.NumberColumn("P0/P1"),
        },
    )

st.subheader("Act on these today")
st.caption(
    "One line per item with every reason it has: P0/P1 first, then items with more reasons, "
    "then the longest stale. The ticket link opens the tracker."
)
by_item, by_reason = st.tabs(["One line per item", "One line per reason, with detail"])
with by_item:
    st.dataframe(
        items.assign(reasons=items["reasons"].map(lambda rs: [stale.reason_label(r) for r in rs]))[
            [
                "priority",
                "days_stale",
                "reasons",
                "action_text",
                "team",
                "owner",
                "ticket_key",
                "ticket_url",
                "details",
                "postmortem_id",
            ]
        ],
        hide_index=True,
        width="stretch",
        placeholder="—",
        height=min(38 + 35 * max(len(items), 1), 560),
        column_config={
            "priority": st.column_config.TextColumn("Priority", width="small"),
            "team": "Team",
            "owner": "Owner",
            "action_text": st.column_config.TextColumn("Action item", width="medium"),
            "ticket_key": "Ticket",
            "ticket_url": st.column_config.LinkColumn("Link", display_text="open ↗", width="small"),
            "reasons": st.column_config.ListColumn("Why it is stale", width="large"),
            "days_stale": st.column_config.NumberColumn(
                "Days stale", format="%.0f", help="The longest-running of its reasons."
            ),
            "details": st.column_config.TextColumn("Details", width="large"),
            "postmortem_id": "Postmortem",
        },
    )
with by_reason:
    detail = shown.sort_values(["reason", "days_stale"], ascending=[True, False])
    st.dataframe(
        pd.DataFrame(
            {
                "reason": detail["reason_label"],
                "detail": detail["detail"],
                "days_stale": detail["days_stale"],
                "team": detail["team"],
                "owner": detail["owner"],
                "priority": detail["priority"],
                "ticket": detail["ticket_key"],
                "ticket link": detail["ticket_url"],
                "action item": detail["action_text"],
                "since": detail["since"].dt.tz_convert("UTC").dt.tz_localize(None),
            }
        ),
        hide_index=True,
        width="stretch",
        placeholder="—",
        height=min(38 + 35 * max(len(detail), 1), 560),
        column_config={
            "reason": "Reason",
            "detail": st.column_config.TextColumn("Detail", width="large"),
            "days_stale": st.column_config.NumberColumn("Days stale", format="%.0f"),
            "ticket link": st.column_config.LinkColumn("Link", display_text="open ↗"),
            "action item": st.column_config.TextColumn("Action item", width="medium"),
            "since": st.column_config.DatetimeColumn("Since", format="YYYY-MM-DD"),
        },
    )
st.download_button(
    "Download CSV",
    shown.drop(columns=["reason_label"]).to_csv(index=False).encode(),
    file_name="stale_action_items.csv",
    mime="text/csv",
)
