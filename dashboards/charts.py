"""Altair chart builders: pure functions from DataFrames to charts, testable without Streamlit."""

from __future__ import annotations

import altair as alt
import pandas as pd

from dashboards.data import BENCHMARK_LABEL

BENCHMARK_COLOR = "#d62728"
BAR_COLOR = "#4c78a8"


def benchmark_text(benchmark_days: float) -> str:
    """Chart label for the benchmark rule, e.g. '4.3 days — vendor-reported industry figure'."""
    return f"{benchmark_days:g} days — {BENCHMARK_LABEL}"


def distribution_chart(bins: pd.DataFrame, benchmark_days: float) -> alt.LayerChart:
    """Bars over log-scaled days with a labelled rule at the benchmark.

    The first bin starts at 0, which a log axis cannot show, so it is drawn from 0.01 days
    (about 15 minutes); its tooltip still says "< 1 h".
    """
    data = bins.assign(
        start_plot=bins["start_days"].clip(lower=0.01),
        end_plot=bins["end_days"].where(bins["end_days"] != float("inf"), bins["start_days"] * 3),
    )
    x_scale = alt.Scale(type="log", domain=[0.01, float(data["end_plot"].max())], nice=False)
    bars = (
        alt.Chart(data)
        .mark_bar(color=BAR_COLOR, stroke="white", strokeWidth=1)
        .encode(
            x=alt.X("start_plot:Q", scale=x_scale, title="days from identification to ticket"),
            x2="end_plot:Q",
            y=alt.Y("items:Q", title="action items"),
            tooltip=[alt.Tooltip("bin:N", title="time to ticket"), alt.Tooltip("items:Q")],
        )
    )
    return alt.layer(bars, *_benchmark_rule(benchmark_days, x_field=True)).properties(height=300)


def _benchmark_rule(benchmark_days: float, x_field: bool) -> list[alt.Chart]:
    frame = pd.DataFrame({"days": [benchmark_days], "label": [benchmark_text(benchmark_days)]})
    base = alt.Chart(frame)
    if x_field:
        rule = base.mark_rule(color=BENCHMARK_COLOR, strokeDash=[6, 4], size=2).encode(x="days:Q")
        text = base.mark_text(
            color=BENCHMARK_COLOR, align="left", dx=5, dy=-8, fontWeight="bold"
        ).encode(x="days:Q", y=alt.value(12), text="label:N")
    else:
        rule = base.mark_rule(color=BENCHMARK_COLOR, strokeDash=[6, 4], size=2).encode(y="days:Q")
        text = base.mark_text(
            color=BENCHMARK_COLOR, align="left", dx=4, dy=-6, fontWeight="bold"
        ).encode(y="days:Q", x=alt.value(4), text="label:N")
    return [rule, text]


def trend_chart(trend: pd.DataFrame, benchmark_days: float) -> alt.LayerChart:
    """Median days per month of identification, with the benchmark as a horizontal rule."""
    line = (
        alt.Chart(trend)
        .mark_line(point=True, color=BAR_COLOR)
        .encode(
            x=alt.X("yearmonth(month):T", title="month identified"),
            y=alt.Y("median_days:Q", title="median days to ticket (ticketed items)"),
            tooltip=[
                alt.Tooltip("yearmonth(month):T", title="month"),
                alt.Tooltip("median_days:Q", title="median days", format=".1f"),
                alt.Tooltip("items:Q", title="action items"),
                alt.Tooltip("never_ticketed:Q", title="never ticketed"),
            ],
        )
    )
    return alt.layer(line, *_benchmark_rule(benchmark_days, x_field=False)).properties(height=280)


def never_ticketed_trend_chart(trend: pd.DataFrame) -> alt.Chart:
    """Stacked ticketed / never-ticketed counts per month, so unticketed items stay visible."""
    long = trend.melt(
        id_vars=["month"],
        value_vars=["ticketed", "never_ticketed"],
        var_name="status",
        value_name="count",
    )
    long["status"] = long["status"].str.replace("_", " ")
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(month):T", title="month identified"),
            y=alt.Y("count:Q", title="action items"),
            color=alt.Color(
                "status:N",
                scale=alt.Scale(
                    domain=["ticketed", "never ticketed"], range=[BAR_COLOR, BENCHMARK_COLOR]
                ),
                legend=alt.Legend(orient="bottom", title=None),
            ),
            tooltip=["yearmonth(month):T", "status:N", "count:Q"],
        )
        .properties(height=220)
    )


def team_chart(teams: pd.DataFrame, benchmark_days: float) -> alt.LayerChart:
    """Median days per team (horizontal bars) with the benchmark rule."""
    bars = (
        alt.Chart(teams.dropna(subset=["median_days"]))
        .mark_bar(color=BAR_COLOR)
        .encode(
            y=alt.Y("team:N", sort="-x", title=None),
            x=alt.X("median_days:Q", title="median days to ticket (ticketed items)"),
            tooltip=[
                "team:N",
                alt.Tooltip("median_days:Q", format=".1f"),
                "items:Q",
                "never_ticketed:Q",
            ],
        )
    )
    frame = pd.DataFrame({"days": [benchmark_days]})
    rule = (
        alt.Chart(frame)
        .mark_rule(color=BENCHMARK_COLOR, strokeDash=[6, 4], size=2)
        .encode(x="days:Q", tooltip=[alt.Tooltip("days:Q", title="benchmark (days)")])
    )
    return alt.layer(bars, rule).properties(height=max(120, 28 * len(teams)))


def incidents_chart(counts: pd.DataFrame) -> alt.Chart:
    """Stacked incident counts per month, coloured by service."""
    return (
        alt.Chart(counts)
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(month):T", title="month"),
            y=alt.Y("incidents:Q", title="incidents"),
            color=alt.Color("service:N", legend=alt.Legend(orient="bottom", title="service")),
            tooltip=["yearmonth(month):T", "service:N", "incidents:Q"],
        )
        .properties(height=320)
    )
