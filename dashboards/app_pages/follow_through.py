"""Follow-through: are action items done, are P1s handled, and how long does each step take."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import charts, data, ui
from dashboards import follow_through as ft

st.title("Follow-through")
st.caption(
    "Whether postmortem action items actually get done — and how long they wait for a ticket "
    "and for completion, with items still waiting counted rather than dropped."
)

monthly = ui.table("marts.follow_through", "no action items to follow through yet")
if monthly is None:
    st.stop()

cfg = ui.settings()
bench = ui.benchmark_days()
window = cfg.done_within_days
p1_window = cfg.p1_within_days

teams = sorted(monthly["team"].unique())
chosen = st.columns([3, 2])[0].multiselect("Team", teams, placeholder="All teams", key="ft_teams")
shown = monthly[monthly["team"].isin(chosen)] if chosen else monthly
tot = ft.totals(shown)

quiet = {"delta_color": "off", "delta_arrow": "off"}
c1, c2, c3, c4 = st.columns(4, border=True)
c1.metric(
    f"Done within {window} days",
    data.format_share(tot.share_done_within),
    delta=f"{tot.done_within:,} of {tot.matured:,} items",
    help=f"Items identified at least {window} days ago that were done within {window} days of "
    "the review meeting. Cancelled items stay in the denominator: not done is not done.",
    **quiet,
)
c2.metric(
    "P1s handled",
    data.format_share(tot.share_p1_handled),
    delta=f"{tot.p1_handled:,} of {tot.p1_matured:,} P0/P1 items",
    help=f"P0/P1 items identified at least {p1_window} days ago that were resolved within "
    f"{p1_window} days ({tot.p1_resolved_within:,}), or rescheduled with a written reason "
    f"within the window ({tot.p1_rescheduled_justified:,}).",
    **quiet,
)
c3.metric(
    "Completion SLO met",
    data.format_share(tot.share_slo_met),
    delta=f"{tot.slo_met:,} of {tot.slo_matured:,} items",
    help=f"{charts.SLO_TEXT}: {cfg.slo_priority_weeks:g} weeks for P0–P2 items, "
    f"{cfg.slo_other_weeks:g} weeks for the rest. Over items whose outcome is known: done, "
    "or still open past the deadline.",
    **quiet,
)
c4.metric(
    "Action items",
    f"{tot.items:,}",
    delta=f"{tot.done:,} done · {tot.canceled:,} cancelled",
    **quiet,
)
young = tot.items - tot.matured
if young:
    when = f"{cfg.as_of:%Y-%m-%d}, the data's as-of time" if cfg.as_of is not None else "now"
    st.caption(
        f"{young:,} items were identified less than {window} days before {when}. They are too "
        "new to judge and are not in the first share."
    )

st.subheader(f"Done within {window} days, by team and month identified")
grid = ft.team_month_grid(shown)
st.altair_chart(charts.share_heatmap(grid, f"done ≤ {window} d"), width="stretch")
st.caption(
    "Each cell: items done in time / items old enough to judge. “too new”: identified less "
    f"than {window} days before the as-of time."
)

team_table = ft.by_team(shown)
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
wanted = {ft.ALL_TEAMS, *(curve_teams or teams)}

st.markdown("**Time to ticket** — share of items with no ticket yet")
curves = ui.table("marts.time_to_ticket_curves", "no action items to draw")
if curves is not None:
    steps = ft.step_points(curves[curves["team"].isin(wanted)], float(max_days))
    st.altair_chart(
        charts.survival_chart(steps, lines, float(max_days), "still without a ticket"),
        width="stretch",
    )
st.markdown("**Time to done** — share of items not done yet")
status = ui.table("models.action_item_status", "no action items to draw")
done_curves = None
if status is not None:
    as_of = cfg.as_of
    if as_of is None:
        as_of = pd.concat([status["identified_at"], status["closed_at"]]).max()
    done_curves = ft.done_curves(ft.done_durations(status, as_of))
    done_steps = ft.step_points(done_curves[done_curves["team"].isin(wanted)], float(max_days))
    slo_lines = charts.reference_frame(None, cfg.slo_priority_weeks, cfg.slo_other_weeks)
    st.altair_chart(
        charts.survival_chart(done_steps, slo_lines, float(max_days), "not done yet"),
        width="stretch",
    )
st.caption(
    f"Dashed red: {charts.benchmark_text(bench)} (time to ticket; change it in the sidebar). "
    f"Dashed purple: {charts.SLO_TEXT} — {cfg.slo_priority_weeks:g} weeks for P0–P2 items, "
    f"{cfg.slo_other_weeks:g} weeks for the rest (FOLLOWTHROUGH_SLO_PRIORITY_WEEKS / "
    "FOLLOWTHROUGH_SLO_OTHER_WEEKS at build time). Cancelled items are censored when cancelled; "
    "items marked done only in the document have no completion date and are left out of the "
    "time-to-done curve."
)

dist = ui.table("marts.time_to_ticket_distribution", "no action items to summarise", quiet=True)
if dist is not None and curves is not None:
    beyond = ft.not_ticketed_within(curves, bench).set_index("team")["not_ticketed_within"]
    medians = ft.done_medians(done_curves) if done_curves is not None else {}
    summary = dist.assign(
        km_median_days=dist["km_median_hours"] / 24.0,
        km_p90_days=dist["km_p90_hours"] / 24.0,
        share_within_24h=dist["share_within_24h"] * 100,
        not_within_bench=dist["team"].map(beyond) * 100,
        done_median_days=dist["team"].map(medians),
        share_done_within_slo=dist["share_done_within_slo"] * 100,
    )
    if chosen:
        summary = summary[summary["team"].isin([ft.ALL_TEAMS, *chosen])]
    st.dataframe(
        summary[
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
                f"({charts.benchmark_text(bench)}), read off the curve.",
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
