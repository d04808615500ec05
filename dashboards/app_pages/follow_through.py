"""Follow-through: are action items done, are P1s handled, and how long does each step take."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import charts, ui
from dashboards.formatting import format_share
from dashboards.reads.follow_through_marts import ALL_TEAMS

st.title("Follow-through")
st.caption(
    "Whether postmortem action items actually get done — and how long they wait for a ticket "
    "and for completion, with items still waiting counted rather than dropped."
)

summary = ui.table("marts.follow_through_summary", "no action items to follow through yet")
if summary is None:
    st.stop()

cfg = ui.settings()
bench = ui.benchmark_days()
window = cfg.done_within_days
p1_window = cfg.p1_within_days

team_rows = summary[summary["grouping_set"] == "team"]
teams = sorted(team_rows["team"])
choice = st.columns([3, 2])[0].selectbox("Team", [ALL_TEAMS, *teams], key="ft_team")
chosen = [] if choice == ALL_TEAMS else [choice]
tot = summary[summary["grouping_set"].isin(["org"] if not chosen else ["team"])
              & summary["team"].isin([choice])].iloc[0]


def _int(col: str) -> int:
    return int(tot[col])


def _share(col: str) -> float | None:
    return None if pd.isna(tot[col]) else float(tot[col])


quiet = {"delta_color": "off", "delta_arrow": "off"}
c1, c2, c3, c4 = st.columns(4, border=True)
c1.metric(
    f"Done within {window} days",
    format_share(_share("share_done_within")),
    delta=f"{_int('done_within'):,} of {_int('matured'):,} items",
    help=f"Items identified at least {window} days ago that were done within {window} days of "
    "the review meeting. Cancelled items stay in the denominator: not done is not done.",
    **quiet,
)
c2.metric(
    "P1s handled",
    format_share(_share("share_p1_handled")),
    delta=f"{_int('p1_handled'):,} of {_int('p1_matured'):,} P0/P1 items",
    help=f"P0/P1 items identified at least {p1_window} days ago that were resolved within "
    f"{p1_window} days ({_int('p1_resolved_within'):,}), or rescheduled with a written reason "
    f"within the window ({_int('p1_rescheduled_justified'):,}).",
    **quiet,
)
c3.metric(
    "Completion SLO met",
    format_share(_share("share_slo_met")),
    delta=f"{_int('slo_met'):,} of {_int('slo_matured'):,} items",
    help=f"{charts.SLO_TEXT}: {cfg.slo_priority_weeks:g} weeks for P0–P2 items, "
    f"{cfg.slo_other_weeks:g} weeks for the rest. Over items whose outcome is known: done, "
    "or still open past the deadline.",
    **quiet,
)
c4.metric(
    "Action items",
    f"{_int('items'):,}",
    delta=f"{_int('done'):,} done · {_int('canceled'):,} cancelled",
    **quiet,
)
young = _int("too_new")
if young:
    when = f"{cfg.as_of:%Y-%m-%d}, the data's as-of time" if cfg.as_of is not None else "now"
    st.caption(
        f"{young:,} items were identified less than {window} days before {when}. They are too "
        "new to judge and are not in the first share."
    )

st.subheader(f"Done within {window} days, by team and month identified")
grid = summary[(summary["grouping_set"] == "team_month")
               & (summary["team"].isin(chosen) if chosen else True)]
st.altair_chart(charts.share_heatmap(grid, f"done ≤ {window} d"), width="stretch")
st.caption(
    "Each cell: items done in time / items old enough to judge. “too new”: identified less "
    f"than {window} days before the as-of time."
)

team_table = team_rows[team_rows["team"].isin(chosen)] if chosen else team_rows
team_table = team_table.sort_values(["share_done_within", "team"], na_position="last")
st.dataframe(
    team_table[
        [
            "team",
            "items",
            "matured",
            "done_within",
            "share_done_within",
            "p1_matured",
            "p1_resolved_within",
            "p1_rescheduled_justified",
            "share_p1_handled",
            "share_slo_met",
        ]
    ].assign(
        share_done_within=team_table["share_done_within"] * 100,
        share_p1_handled=team_table["share_p1_handled"] * 100,
        share_slo_met=team_table["share_slo_met"] * 100,
    ),
    hide_index=True,
    width="stretch",
    placeholder="—",
    column_config={
        "team": "Team",
        "items": st.column_config.NumberColumn("Items"),
        "matured": st.column_config.NumberColumn(
            "Old enough", help=f"Identified at least {window} days ago."
        ),
        "done_within": st.column_config.NumberColumn(f"Done ≤ {window} d"),
        "share_done_within": st.column_config.ProgressColumn(
            f"Done ≤ {window} d share", format="%.0f%%", min_value=0.0, max_value=100.0
        ),
        "p1_matured": st.column_config.NumberColumn("P1s"),
        "p1_resolved_within": st.column_config.NumberColumn(f"P1 resolved ≤ {p1_window} d"),
        "p1_rescheduled_justified": st.column_config.NumberColumn(
            "P1 rescheduled with reason"
        ),
        "share_p1_handled": st.column_config.NumberColumn("P1 handled", format="%.0f%%"),
        "share_slo_met": st.column_config.NumberColumn("SLO met", format="%.0f%%"),
    },
)

# --- Kaplan–Meier curves -------------------------------------------------------------------
st.subheader("How long items wait (Kaplan–Meier)")
st.caption(
    "Each curve is the estimated share of items still waiting, by days since the review "
    "meeting. Items still waiting are censored at their current age, not dropped; the thick "
    "black line is all teams together."
)
range_options = [14, 30, 60, 90, 180, 365]
default_range = next((d for d in range_options if d > cfg.slo_other_weeks * 7), 365)
r1, r2 = st.columns([3, 2])
curve_teams = r1.multiselect(
    "Teams on the curves", teams, placeholder="All teams", key="ft_curve_teams"
)
max_days = r2.select_slider(
    "Show up to (days)", options=range_options, value=default_range, key="ft_range"
)
lines = charts.reference_frame(bench, cfg.slo_priority_weeks, cfg.slo_other_weeks)
wanted = {ALL_TEAMS, *(curve_teams or teams)}

st.markdown("**Time to ticket** — share of items with no ticket yet")
curves = ui.table("marts.time_to_ticket_curves", "no action items to draw")
if curves is not None:
    steps = charts.step_points(curves[curves["team"].isin(wanted)], float(max_days))
    st.altair_chart(
        charts.survival_chart(steps, lines, float(max_days), "still without a ticket"),
        width="stretch",
    )
st.markdown("**Time to done** — share of items not done yet")
done_curves = ui.table("marts.time_to_done_curves", "no action items to draw")
if done_curves is not None:
    done_steps = charts.step_points(
        done_curves[done_curves["team"].isin(wanted)], float(max_days)
    )
    slo_lines = charts.reference_frame(None, cfg.slo_priority_weeks, cfg.slo_other_weeks)
    st.altair_chart(
        charts.survival_chart(done_steps, slo_lines, float(max_days), "not done yet"),
        width="stretch",
    )
st.caption(
    f"Dashed red: {charts.benchmark_text(bench)} (time to ticket; the build's FOLLOWTHROUGH_BENCHMARK_DAYS). "
    f"Dashed purple: {charts.SLO_TEXT} — {cfg.slo_priority_weeks:g} weeks for P0–P2 items, "
    f"{cfg.slo_other_weeks:g} weeks for the rest (FOLLOWTHROUGH_SLO_PRIORITY_WEEKS / "
    "FOLLOWTHROUGH_SLO_OTHER_WEEKS at build time). Cancelled items are censored when cancelled; "
    "items marked done only in the document have no completion date and are left out of the "
    "time-to-done curve."
)

dist = ui.table("marts.time_to_ticket_distribution", "no action items to summarise", quiet=True)
if dist is not None:
    km = dist.assign(
        km_median_days=dist["km_median_hours"] / 24.0,
        km_p90_days=dist["km_p90_hours"] / 24.0,
        share_within_24h=dist["share_within_24h"] * 100,
        not_within_bench=dist["share_beyond_benchmark"] * 100,
        done_median_days=dist["km_median_days_to_done"],
        share_done_within_slo=dist["share_done_within_slo"] * 100,
    )
    if chosen:
        km = km[km["team"].isin([ALL_TEAMS, *chosen])]
    st.dataframe(
        km[
            [
                "team",
                "items",
                "never_ticketed",
                "km_median_days",
                "km_p90_days",
                "share_within_24h",
                "not_within_bench",
                "done_median_days",
                "share_done_within_slo",
            ]
        ],
        hide_index=True,
        width="stretch",
        placeholder="not reached",
        column_config={
            "team": "Team",
            "items": st.column_config.NumberColumn("Items"),
            "never_ticketed": st.column_config.NumberColumn("Never ticketed"),
            "km_median_days": st.column_config.NumberColumn(
                "Median to ticket (d)",
                format="%.1f",
                help="Kaplan–Meier: never-ticketed items censored. 'not reached' when half or "
                "more still have no ticket.",
            ),
            "km_p90_days": st.column_config.NumberColumn("p90 to ticket (d)", format="%.1f"),
            "share_within_24h": st.column_config.NumberColumn(
                "Ticketed ≤ 24 h", format="%.0f%%"
            ),
            "not_within_bench": st.column_config.NumberColumn(
                f"No ticket after {bench:g} d",
                format="%.0f%%",
                help=f"Estimated share still without a ticket {bench:g} days after the meeting "
                f"({charts.benchmark_text(bench)}), Kaplan–Meier.",
            ),
            "done_median_days": st.column_config.NumberColumn(
                "Median to done (d)",
                format="%.1f",
                help="Kaplan–Meier over the time-to-done curve above; open items censored.",
            ),
            "share_done_within_slo": st.column_config.NumberColumn(
                "Done in SLO", format="%.0f%%", help=f"{charts.SLO_TEXT}, Kaplan–Meier."
            ),
        },
    )
