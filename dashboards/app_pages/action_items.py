"""Action items: every postmortem action item, filterable, with a link to its ticket."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import ui
from dashboards.formatting import NO_SERVICE, NO_TEAM
from dashboards.reads.connection import BUILD_HINT
from dashboards.reads.time_to_ticket import ItemFilter, filter_items

st.title("Action items")

items = ui.time_to_ticket()
if items is None:
    st.stop()
if items.empty:
    st.info(f"`marts.time_to_ticket` is empty: no postmortem action items yet. {BUILD_HINT}")
    st.stop()

bench = ui.benchmark_days()
teams = sorted(items["team"].fillna(NO_TEAM).unique())
services = sorted(items["service"].fillna(NO_SERVICE).unique())

f1, f2, f3 = st.columns([2, 2, 3])
flt = ItemFilter(
    teams=tuple(f1.multiselect("Team", teams, placeholder="All teams")),
    services=tuple(f2.multiselect("Service", services, placeholder="All services")),
    status=f3.radio("Ticket", ["all", "ticketed", "never ticketed"], horizontal=True, key="status"),
    beyond_benchmark_only=f3.checkbox(f"Beyond {bench:g} days only", key="beyond"),
)
shown = filter_items(items, flt).sort_values(
    "identified_at", ascending=False, na_position="last"
)

st.markdown(
    f"**{len(shown):,}** of {len(items):,} action items shown · "
    f"**{(~shown['ticketed']).sum():,}** never ticketed"
)

table = pd.DataFrame(
    {
        "identified": shown["identified_at"].dt.tz_convert("UTC").dt.tz_localize(None),
        "team": shown["team"].fillna(NO_TEAM),
        "service": shown["service"].fillna(NO_SERVICE),
        "action item": shown["action_text"],
        "ticket": shown["ticket_key"],
        "ticket link": shown["ticket_url"],
        "days to ticket": shown["hours_to_ticket"] / 24.0,
        "open for": shown["open_hours"] / 24.0,
        "beyond": shown["beyond_benchmark"],
        "owner": shown["owner"],
        "priority": shown["priority"],
        "postmortem": shown["postmortem_title"],
        "matched by": shown["link_kind"],
    }
)
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    placeholder="—",
    height=min(38 + 35 * max(len(table), 1), 640),
    column_config={
        "identified": st.column_config.DatetimeColumn("Identified", format="YYYY-MM-DD"),
        "team": "Team",
        "service": "Service",
        "action item": st.column_config.TextColumn("Action item", width="medium"),
        "ticket": "Ticket",
        "ticket link": st.column_config.LinkColumn("Link", display_text="open ↗", width="small"),
        "days to ticket": st.column_config.NumberColumn("Days to ticket", format="%.1f"),
        "open for": st.column_config.NumberColumn(
            "Open for (days)",
            format="%.0f",
            help="Never-ticketed items: days since identified, at the build's as-of time.",
        ),
        "beyond": st.column_config.CheckboxColumn(
            f"> {bench:g} d", help="Ticketed later than the benchmark, or still open past it."
        ),
        "owner": "Owner",
        "priority": "Priority",
        "postmortem": "Postmortem",
        "matched by": st.column_config.TextColumn(
            "Matched by",
            help="doc_key: the ticket carries the postmortem's key; "
            "ticket_mentions_postmortem: the ticket text links the postmortem.",
        ),
    },
)
st.download_button(
    "Download CSV",
    shown.drop(columns=["ticketed", "open_hours", "beyond_benchmark"]).to_csv(index=False).encode(),
    file_name="action_items.csv",
    mime="text/csv",
)
