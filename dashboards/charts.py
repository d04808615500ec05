"""Altair chart builders: pure functions from DataFrames to charts, testable without Streamlit."""

from __future__ import annotations

import math

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

    A log axis cannot show 0, so the "< 1 h" bin is drawn from 15 minutes, as wide as its
    neighbour; trailing empty bins past both the data and the benchmark are dropped.
    """
    first_start = 0.25 / 24.0
    start_plot = bins["start_days"].clip(lower=first_start)
    end_plot = bins["end_days"].where(bins["end_days"] != math.inf, bins["start_days"] * 3)
    nonempty = bins.index[bins["items"] > 0]
    last = max(
        int(nonempty.max()) if len(nonempty) else 0,
        int((bins["start_days"] < benchmark_days).sum()) - 1,
    )
    data = bins.assign(start_plot=start_plot, end_plot=end_plot).iloc[: last + 1]
    upper = max(float(data["end_plot"].max()), benchmark_days * 1.5)
    ticks = [v for v in [first_start, *data["end_plot"]] if v <= upper]
    x_axis = alt.Axis(
        values=ticks,
        labelExpr="datum.value < 1 ? format(datum.value * 24, '.2~f') + ' h'"
        " : format(datum.value, '.0f') + ' d'",
        grid=False,
    )
    x_scale = alt.Scale(type="log", domain=[first_start, upper], nice=False)
    bars = (
        alt.Chart(data)
        .mark_rect(color=BAR_COLOR, stroke="white", strokeWidth=1)
        .encode(
            x=alt.X(
                "start_plot:Q",
                scale=x_scale,
                axis=x_axis,
                title="time from identification to ticket (log scale)",
            ),
            x2="end_plot:Q",
            y=alt.Y("items:Q", title="action items", axis=alt.Axis(tickMinStep=1, format="d")),
            y2=alt.datum(0),
            tooltip=[alt.Tooltip("bin:N", title="time to ticket"), alt.Tooltip("items:Q")],
        )
    )
    return alt.layer(bars, *_benchmark_rule(benchmark_days, x_field=True)).properties(height=300)


def _benchmark_rule(benchmark_days: float, x_field: bool) -> list[alt.Chart]:
    """Dashed benchmark rule with its label drawn just outside the plot, where no data sits."""
    frame = pd.DataFrame({"days": [benchmark_days], "label": [benchmark_text(benchmark_days)]})
    base = alt.Chart(frame)
    style = {"color": BENCHMARK_COLOR, "fontWeight": "bold"}
    if x_field:
        rule = base.mark_rule(color=BENCHMARK_COLOR, strokeDash=[6, 4], size=2).encode(x="days:Q")
        text = base.mark_text(align="right", dx=-4, **style).encode(
            x="days:Q", y=alt.value(-8), text="label:N"
        )
    else:
        rule = base.mark_rule(color=BENCHMARK_COLOR, strokeDash=[6, 4], size=2).encode(y="days:Q")
        text = base.mark_text(align="right", dy=-6, **style).encode(
            y="days:Q", x=alt.value("width"), text="label:N"
        )
    return [rule, text]


def trend_chart(trend: pd.DataFrame, benchmark_days: float) -> alt.LayerChart:
    """Median days per month of identification, with the benchmark as a horizontal rule."""
    line = (
        alt.Chart(trend)
        .mark_line(point=True, color=BAR_COLOR)
        .encode(
            x=alt.X("yearmonth(month):T", title="month identified"),
            y=alt.Y("median_days:Q", title="median days to ticket"),
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
    long["month"] = pd.to_datetime(long["month"]).dt.strftime("%Y-%m")
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("month:O", title="month identified", axis=alt.Axis(labelAngle=0)),
            y=alt.Y(
                "count:Q",
                title="action items",
                stack=True,
                axis=alt.Axis(tickMinStep=1, format="d"),
            ),
            color=alt.Color(
                "status:N",
                scale=alt.Scale(
                    domain=["ticketed", "never ticketed"], range=[BAR_COLOR, BENCHMARK_COLOR]
                ),
                legend=alt.Legend(orient="bottom", title=None),
            ),
            order=alt.Order("status:N", sort="descending"),
            tooltip=["month:O", "status:N", "count:Q"],
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
    return alt.layer(bars, rule).properties(height=40 + 34 * len(teams))


def incidents_chart(counts: pd.DataFrame) -> alt.Chart:
    """Stacked incident counts per month, coloured by service."""
    data = counts.assign(month=pd.to_datetime(counts["month"]).dt.strftime("%Y-%m"))
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("month:O", title="month", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("incidents:Q", title="incidents", axis=alt.Axis(tickMinStep=1, format="d")),
            color=alt.Color("service:N", legend=alt.Legend(orient="bottom", title="service")),
            tooltip=["month:O", "service:N", "incidents:Q"],
        )
        .properties(height=320)
    )
