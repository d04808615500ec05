"""Overview: how long postmortem action items take to become tickets, and how many never do."""

from __future__ import annotations

import streamlit as st

from dashboards import charts, data, ui

st.title("Postmortem follow-through")
st.caption(
    "How long it takes for an action item written in a postmortem to become a ticket "
    "someone can work on — and how many never do."
)

items = ui.time_to_ticket()
if items is None:
    st.stop()
if items.empty:
    st.info(f"`marts.time_to_ticket` is empty: no postmortem action items yet. {data.BUILD_HINT}")
    st.stop()

bench = ui.benchmark_days()
head = data.headline(items, bench)

# The shares sit under each figure (delta line, no arrow) so the values never get truncated.
quiet = {"delta_color": "off", "delta_arrow": "off"}
c1, c2, c4 = st.columns(3, border=True)
c3, c5, c6 = st.columns(3, border=True)
c1.metric("Action items", f"{head.total:,}")
c2.metric(
    "Ticketed",
    data.format_share(head.share_ticketed),
    delta=f"{head.ticketed:,} items",
    help=f"{head.ticketed:,} of {head.total:,} action items have a ticket.",
    **quiet,
)
c3.metric(
    "Median time to ticket",
    data.format_hours(head.median_hours),
    delta=f"over {head.timed:,} ticketed items",
    help="Median hours from identification to ticket creation, over ticketed items only. "
    "The note below gives the median with never-ticketed items counted.",
    **quiet,
)
c4.metric(
    "Never ticketed",
    f"{head.never_ticketed:,}",
    delta=f"{data.format_share(head.share_never_ticketed)} of items",
    help="Action items with no ticket at all. Counted in every share on this page.",
    **quiet,
)
c5.metric(
    "Ticketed within 24 h",
    data.format_share(head.share_within_24h),
    delta=f"{head.within_24h:,} items",
    help=f"{head.within_24h:,} of all {head.total:,} action items.",
    **quiet,
)
c6.metric(
    f"Beyond {bench:g} days",
    data.format_share(head.share_beyond_benchmark),
    delta=f"{head.beyond_benchmark:,} items",
    help=(
        f"{head.beyond_benchmark:,} of all {head.total:,} items: ticketed after more than "
        f"{bench:g} days, or still unticketed and older than that."
    ),
    **quiet,
)

km = (
    f"about **{data.format_hours(head.km_median_hours)}**"
    if head.km_median_hours is not None
    else "**not reached** — half the items or more still have no ticket"
)
untimed = head.ticketed - head.timed
never_msg = (
    f"**Never ticketed: {head.never_ticketed:,} ({data.format_share(head.share_never_ticketed)})** "
    f"of {head.total:,} action items. The median of {data.format_hours(head.median_hours)} "
    f"covers the {head.timed:,} ticketed items only. Counting never-ticketed items as still "
    f"open (Kaplan–Meier), the median time to ticket is {km}."
)
if untimed:
    never_msg += (
        f" {untimed:,} ticketed items have no identification date, so no time to ticket; "
        "they count as ticketed but are in neither median."
    )
if head.never_ticketed:
    st.warning(never_msg, icon=":material/report:")
else:
    st.success(
        f"Every one of the {head.total:,} action items has a ticket.",
        icon=":material/check_circle:",
    )

st.subheader("Time from identification to ticket")
st.altair_chart(charts.distribution_chart(data.distribution(items), bench), width="stretch")
st.caption(
    f"Ticketed items only, log-scaled days. The {head.never_ticketed:,} never-ticketed items "
    "have no time to ticket and are not on this axis. Dashed line: "
    f"{charts.benchmark_text(bench)}."
)

st.subheader("Trend by month of identification")
trend = data.monthly_trend(items, bench)
if trend.empty:
    st.info("No action item has an identification date, so there is no monthly trend.")
else:
    left, right = st.columns([3, 2])
    left.altair_chart(charts.trend_chart(trend, bench), width="stretch")
    right.altair_chart(charts.never_ticketed_trend_chart(trend), width="stretch")
    undated = int(items["identified_at"].isna().sum())
    if undated:
        noun = "item" if undated == 1 else "items"
        st.caption(f"{undated:,} {noun} without an identification date left out of the trend.")

st.subheader("By team")
teams = data.by_team(items, bench)
st.altair_chart(charts.team_chart(teams, bench), width="stretch")
st.dataframe(
    teams.drop(columns=["median_hours", "ticketed"]).assign(
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
