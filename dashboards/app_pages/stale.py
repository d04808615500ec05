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

cfg = ui.settings()
teams = sorted(rows["team"].unique())
reasons = list(stale.counts_by_reason(rows)["reason"])

f1, f2, f3 = st.columns([2, 3, 1])
flt = stale.StaleFilter(
    teams=tuple(f1.multiselect("Team", teams, placeholder="All teams", key="stale_teams")),
    reasons=tuple(
        f2.multiselect(
            "Reason",
            reasons,
            format_func=stale.reason_label,
            placeholder="All reasons",
            key="stale_reasons",
        )
    ),
    p1_only=f3.checkbox("P0/P1 only", key="stale_p1"),
)
shown = stale.filter_stale(rows, flt)
items = stale.act_today(shown)

quiet = {"delta_color": "off", "delta_arrow": "off"}
c1, c2, c3, c4 = st.columns(4, border=True)
c1.metric(
    "Stale items",
    f"{len(items):,}",
    delta=f"{len(shown):,} item × reason rows",
    help="Distinct action items with at least one of the selected reasons.",
    **quiet,
)
c2.metric(
    "P0/P1 among them",
    f"{int(items['priority'].isin(['P0', 'P1']).sum()):,}",
    **quiet,
)
c3.metric(
    "Without an owner",
    f"{int(stale.without_owner(rows, flt, items)):,}",
    help="No owner in the document and no assignee on the ticket.",
    **quiet,
)
c4.metric(
    "Median days stale",
    "—" if items.empty else f"{items['days_stale'].median():.0f}",
    help="Per item, the longest-running of its reasons; days from when the condition began "
    "to the data's as-of time.",
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
    counts = stale.counts_by_reason(shown)
    st.altair_chart(
        charts.count_bars(counts, "reason_label", "items", "stale action items"), width="stretch"
    )
with right:
    st.subheader("Items per team")
    per_team = stale.counts_by_team(shown)
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
    "One line per item: P0/P1 first, then items with more reasons, then the longest stale. "
    "The ticket link opens the tracker."
)
by_item, by_reason = st.tabs(["One line per item", "One line per reason, with detail"])
with by_item:
    st.dataframe(
        items[
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
