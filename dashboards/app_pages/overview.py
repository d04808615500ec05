"""Overview: how long postmortem action items take to become tickets, and how many never do."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import charts, ui
from dashboards.formatting import format_hours, format_share
from dashboards.reads.connection import BUILD_HINT

st.title("Postmortem follow-through")
st.caption(
    "How long it takes for an action item written in a postmortem to become a ticket "
    "someone can work on — and how many never do."
)

summary = ui.table("marts.time_to_ticket_summary", "no postmortem action items yet")
if summary is None:
    st.stop()
org = summary[summary["grouping_set"] == "org"]
if org.empty or not org["items"].iloc[0]:
    st.info(f"`marts.time_to_ticket` is empty: no postmortem action items yet. {BUILD_HINT}")
    st.stop()
head = org.iloc[0]
total, n_ticketed, timed = int(head["items"]), int(head["ticketed"]), int(head["timed"])
never, within, beyond = int(head["never_ticketed"]), int(head["within_24h"]), int(head["beyond_benchmark"])
median_hours = None if pd.isna(head["median_hours"]) else float(head["median_hours"])
km_hours = None if pd.isna(head["km_median_hours"]) else float(head["km_median_hours"])
bench = float(head["benchmark_days"])


def _share(col: str) -> float | None:
    return None if pd.isna(head[col]) else float(head[col])


# The shares sit under each figure (delta line, no arrow) so the values never get truncated.
quiet = {"delta_color": "off", "delta_arrow": "off"}
c1, c2, c4 = st.columns(3, border=True)
c3, c5, c6 = st.columns(3, border=True)
c1.metric("Action items", f"{total:,}")
c2.metric(
    "Ticketed",
    format_share(_share("share_ticketed")),
    delta=f"{n_ticketed:,} items",
    help=f"{n_ticketed:,} of {total:,} action items have a ticket.",
    **quiet,
)
c3.metric(
    "Median time to ticket",
    format_hours(median_hours),
    delta=f"over {timed:,} ticketed items",
    help="Median hours from identification to ticket creation, over ticketed items only. "
    "The note below gives the median with never-ticketed items counted.",
    **quiet,
)
c4.metric(
    "Never ticketed",
    f"{never:,}",
    delta=f"{format_share(_share('share_never_ticketed'))} of items",
    help="Action items with no ticket at all. Counted in every share on this page.",
    **quiet,
)
c5.metric(
    "Ticketed within 24 h",
    format_share(_share("share_within_24h")),
    delta=f"{within:,} items",
    help=f"{within:,} of all {total:,} action items.",
    **quiet,
)
c6.metric(
    f"Beyond {bench:g} days",
    format_share(_share("share_beyond_benchmark")),
    delta=f"{beyond:,} items",
    help=(
        f"{beyond:,} of all {total:,} items: ticketed after more than "
        f"{bench:g} days, or still unticketed and older than that at the build's as-of time."
    ),
    **quiet,
)

km = (
    f"about **{format_hours(km_hours)}**"
    if km_hours is not None
    else "**not reached** — half the items or more still have no ticket"
)
never_msg = (
    f"**Never ticketed: {never:,} ({format_share(_share('share_never_ticketed'))})** "
    f"of {total:,} action items. The median of {format_hours(median_hours)} "
    f"covers the {timed:,} ticketed items only. Counting never-ticketed items as still "
    f"open (Kaplan–Meier), the median time to ticket is {km}."
)
untimed = int(head["untimed"])
if untimed:
    never_msg += (
        f" {untimed:,} ticketed items have no identification date, so no time to "
        "ticket; they count as ticketed but are in neither median."
    )
if never:
    st.warning(never_msg, icon=":material/report:")
else:
    st.success(
        f"Every one of the {total:,} action items has a ticket.",
        icon=":material/check_circle:",
    )

st.subheader("Time from identification to ticket")
bins = ui.table("marts.time_to_ticket_histogram", "no ticketed action items yet")
if bins is not None:
    st.altair_chart(charts.distribution_chart(bins, bench), width="stretch")
st.caption(
    f"Ticketed items only, log-scaled days. The {never:,} never-ticketed items "
    "have no time to ticket and are not on this axis. Dashed line: "
    f"{charts.benchmark_text(bench)}."
)

st.subheader("Trend by month of identification")
trend = summary[summary["grouping_set"] == "month"]
if trend.empty:
    st.info("No action item has an identification date, so there is no monthly trend.")
else:
    left, right = st.columns([3, 2])
    left.altair_chart(charts.trend_chart(trend, bench), width="stretch")
    right.altair_chart(charts.never_ticketed_trend_chart(trend), width="stretch")
    undated = int(head["undated"])
    if undated:
        noun = "item" if undated == 1 else "items"
        st.caption(f"{undated:,} {noun} without an identification date left out of the trend.")

st.subheader("By team")
teams = summary[summary["grouping_set"] == "team"].sort_values(
    ["items", "team"], ascending=[False, True], ignore_index=True
)
st.altair_chart(charts.team_chart(teams, bench), width="stretch")
st.dataframe(
    teams[
        [
            "team",
            "items",
            "never_ticketed",
            "share_never_ticketed",
            "median_days",
            "within_24h",
            "ticketed_late",
        ]
    ].assign(
        share_never_ticketed=teams["share_never_ticketed"] * 100.0
    ),
    hide_index=True,
    width="stretch",
    placeholder="—",
    column_config={
        "team": "Team",
        "items": st.column_config.NumberColumn("Items"),
        "never_ticketed": st.column_config.NumberColumn("Unticketed"),
        "share_never_ticketed": st.column_config.ProgressColumn(
            "Unticketed share", format="%.0f%%", min_value=0.0, max_value=100.0
        ),
        "median_days": st.column_config.NumberColumn(
            "Median days", format="%.1f", help="Over the team's ticketed items."
        ),
        "within_24h": st.column_config.NumberColumn("Ticketed ≤ 24 h"),
        "ticketed_late": st.column_config.NumberColumn(f"Ticketed > {bench:g} d"),
    },
)
