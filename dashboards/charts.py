"""Altair chart builders: pure functions from DataFrames to charts, testable without Streamlit."""

from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd

from dashboards.formatting import BENCHMARK_LABEL

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


SLO_COLOR = "#7b3294"
SLO_TEXT = "Atlassian's published SLO"
REFERENCE_DOMAIN_COLORS = (BENCHMARK_COLOR, SLO_COLOR, SLO_COLOR)
PASSED_COLOR = "#2ca02c"
FAILED_COLOR = "#d62728"
UNKNOWN_COLOR = "#9e9e9e"
PENDING_COLOR = "#ff9f1c"
NA_COLOR = "#dadada"


_CATEGORY = [
    "#4c78a8",
    "#f58518",
    "#54a24b",
    "#e45756",
    "#72b7b2",
    "#eeca3b",
    "#b279a2",
    "#ff9da6",
    "#9d755d",
    "#bab0ac",
    "#1f77b4",
    "#8c564b",
]


def reference_lines(lines: pd.DataFrame, height: int) -> list[alt.Chart]:
    """Vertical dashed rules at `days`, each labelled with `label` written up along the rule.

    Written along the rule, labels of nearby lines never overlap each other. A label longer
    than the plot is cut to its height: overflowing text would make Vega shrink the plot.
    """
    base = alt.Chart(lines)
    rule = base.mark_rule(strokeDash=[6, 4], size=2).encode(
        x="days:Q",
        color=alt.Color("color:N", scale=None),
        tooltip=[alt.Tooltip("label:N", title="reference"), alt.Tooltip("days:Q", format=".1f")],
    )
    text = base.mark_text(
        angle=270,
        align="right",
        baseline="bottom",
        dx=-4,
        dy=-3,
        fontWeight="bold",
        fontSize=11,
        limit=max(height - 12, 40),
    ).encode(
        x="days:Q",
        y=alt.value(0),
        text="label:N",
        color=alt.Color("color:N", scale=None),
    )
    return [rule, text]


def step_points(curves: pd.DataFrame, max_days: float) -> pd.DataFrame:
    """Stored curves as plottable steps: start each at (0 days, 100 %) and extend to `max_days`.

    Without the start point a group's first drawn step would begin at its first event, and
    without the end point a curve whose last event is early would stop short of the axis.
    """
    parts = []
    for team, g in curves.groupby("team", sort=False):
        g = g.sort_values("days")
        shown = g[g["days"] <= max_days]
        last = float(shown["survival"].iloc[-1]) if len(shown) else 1.0
        start = pd.DataFrame({"team": [team], "days": [0.0], "survival": [1.0]})
        end = pd.DataFrame({"team": [team], "days": [max_days], "survival": [last]})
        parts.extend([start, shown[["team", "days", "survival"]], end])
    if not parts:
        return pd.DataFrame(columns=["team", "days", "survival"])
    return pd.concat(parts, ignore_index=True)


def survival_chart(
    steps: pd.DataFrame,
    lines: pd.DataFrame,
    max_days: float,
    y_title: str,
    height: int = 440,
) -> alt.LayerChart:
    """Kaplan–Meier step curves, one colour per team; 'All teams' drawn thick and black."""
    teams = [t for t in steps["team"].unique() if t != "All teams"]
    domain = ["All teams", *teams]
    palette = ["#000000", *(_CATEGORY[i % len(_CATEGORY)] for i in range(len(teams)))]
    curve = (
        alt.Chart(steps)
        .mark_line(interpolate="step-after", clip=True)
        .encode(
            x=alt.X(
                "days:Q",
                title="days since the review meeting",
                scale=alt.Scale(domain=[0, max_days], nice=False),
            ),
            y=alt.Y(
                "survival:Q",
                title=y_title,
                scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%"),
            ),
            color=alt.Color(
                "team:N",
                scale=alt.Scale(domain=domain, range=palette),
                legend=alt.Legend(orient="bottom", title=None, columns=4, labelLimit=220),
            ),
            strokeWidth=alt.condition(
                alt.datum.team == "All teams", alt.value(3.5), alt.value(1.8)
            ),
            tooltip=[
                alt.Tooltip("team:N"),
                alt.Tooltip("days:Q", format=".1f"),
                alt.Tooltip("survival:Q", format=".0%", title=y_title),
            ],
        )
    )
    shown = lines[lines["days"] <= max_days]
    return alt.layer(curve, *reference_lines(shown, height)).properties(height=height)




def share_heatmap(grid: pd.DataFrame, title: str) -> alt.LayerChart:
    """Team × month cells coloured by share done within the window, labelled 'done/matured'.

    `grid` holds the team x month rows of marts.follow_through_summary; cells too new to
    judge read "too new", months without items stay blank.
    """
    label = np.select(
        [grid["matured"] > 0, grid["items"] > 0],
        [grid["done_within"].astype(str) + "/" + grid["matured"].astype(str), "too new"],
        "",
    )
    data = grid.assign(month=pd.to_datetime(grid["month"]).dt.strftime("%Y-%m"), label=label)
    base = alt.Chart(data).encode(
        x=alt.X("month:O", title="month identified", axis=alt.Axis(labelAngle=-45)),
        y=alt.Y("team:N", title=None),
    )
    cells = base.mark_rect(stroke="white").encode(
        color=alt.Color(
            "share_done_within:Q",
            title=title,
            scale=alt.Scale(domain=[0, 1], scheme="redyellowgreen"),
            legend=alt.Legend(format="%", orient="right"),
        ),
        tooltip=[
            "team:N",
            "month:O",
            alt.Tooltip("items:Q", title="action items"),
            alt.Tooltip("matured:Q", title="old enough to judge"),
            alt.Tooltip("done_within:Q", title="done in time"),
            alt.Tooltip("share_done_within:Q", format=".0%", title=title),
        ],
    )
    # Cells with no share (too new to judge) get a grey background instead of vanishing.
    blank = base.mark_rect(color=NA_COLOR, stroke="white").transform_filter("datum.items > 0")
    text = base.mark_text(fontSize=11).encode(
        text="label:N",
        color=alt.condition(
            "isValid(datum.share_done_within) && (datum.share_done_within < 0.25"
            " || datum.share_done_within > 0.85)",
            alt.value("white"),
            alt.value("black"),
        ),
    )
    return alt.layer(blank, cells, text).properties(
        height=36 * max(data["team"].nunique(), 1) + 60
    )


def pass_rate_heatmap(rates: pd.DataFrame) -> alt.LayerChart:
    """Team × checklist item coloured by pass rate; cells nothing could judge stay grey."""
    base = alt.Chart(rates).encode(
        x=alt.X("team:N", title=None, axis=alt.Axis(labelAngle=-30, labelLimit=160)),
        y=alt.Y("check:N", title=None, sort=None, axis=alt.Axis(labelLimit=320)),
    )
    blank = base.mark_rect(color=NA_COLOR, stroke="white")
    cells = base.mark_rect(stroke="white").encode(
        color=alt.Color(
            "pass_rate:Q",
            title="pass rate",
            scale=alt.Scale(domain=[0, 1], scheme="redyellowgreen"),
            legend=alt.Legend(format="%"),
        ),
        tooltip=[
            "team:N",
            "check:N",
            "passed:Q",
            "failed:Q",
            alt.Tooltip("unknown:Q", title="unknown (no data)"),
            "pending:Q",
            alt.Tooltip("not_applicable:Q", title="not applicable"),
            alt.Tooltip("pass_rate:Q", format=".0%", title="passed / (passed + failed)"),
        ],
    )
    text = base.mark_text(fontSize=11).encode(
        text="label:N",
        color=alt.condition(
            "isValid(datum.pass_rate) && (datum.pass_rate < 0.25 || datum.pass_rate > 0.85)",
            alt.value("white"),
            alt.value("black"),
        ),
    )
    return alt.layer(blank, cells, text).properties(
        height=28 * max(rates["check"].nunique(), 1) + 70
    )


def result_bars(
    counts: pd.DataFrame,
    category: str,
    value: str,
    color_field: str,
    domain: list[str],
    colors: list[str],
    sort: list[str] | None = None,
    title: str = "",
) -> alt.Chart:
    """Horizontal stacked bars of `value` per `category`, coloured by a fixed result domain."""
    return (
        alt.Chart(counts)
        .mark_bar()
        .encode(
            y=alt.Y(f"{category}:N", sort=sort, title=None, axis=alt.Axis(labelLimit=320)),
            x=alt.X(f"{value}:Q", title=title, axis=alt.Axis(tickMinStep=1, format="d")),
            color=alt.Color(
                f"{color_field}:N",
                scale=alt.Scale(domain=domain, range=colors),
                legend=alt.Legend(orient="bottom", title=None),
            ),
            order=alt.Order("_order:Q"),
            tooltip=[f"{category}:N", f"{color_field}:N", f"{value}:Q"],
        )
        .properties(height=30 * max(counts[category].nunique(), 1) + 50)
    )


def count_bars(counts: pd.DataFrame, category: str, value: str, title: str) -> alt.Chart:
    """Plain horizontal bars, largest first, with the count written at the end of each bar."""
    base = alt.Chart(counts).encode(
        y=alt.Y(f"{category}:N", sort="-x", title=None, axis=alt.Axis(labelLimit=320)),
        x=alt.X(f"{value}:Q", title=title, axis=alt.Axis(tickMinStep=1, format="d")),
        tooltip=[f"{category}:N", f"{value}:Q"],
    )
    bars = base.mark_bar(color=BAR_COLOR)
    text = base.mark_text(align="left", dx=3).encode(text=f"{value}:Q")
    return alt.layer(bars, text).properties(height=30 * max(len(counts), 1) + 40)


def weekly_failures_chart(weekly: pd.DataFrame) -> alt.Chart:
    """Failures per week of one cluster; the tooltip lists the repositories of that week."""
    return (
        alt.Chart(weekly)
        .mark_bar(color=BAR_COLOR)
        .encode(
            x=alt.X("week:T", title="week"),
            y=alt.Y("failures:Q", title="failures", axis=alt.Axis(tickMinStep=1, format="d")),
            tooltip=[
                alt.Tooltip("week:T", format="%Y-%m-%d", title="week of"),
                "failures:Q",
                alt.Tooltip("repos:N", title="repositories"),
            ],
        )
        .properties(height=200)
    )


def reference_frame(
    benchmark_days: float | None, slo_priority_weeks: float, slo_other_weeks: float
) -> pd.DataFrame:
    """The reference lines: the vendor-reported benchmark (optional) and Atlassian's SLOs."""
    rows = []
    if benchmark_days is not None:
        rows.append((benchmark_days, benchmark_text(benchmark_days), BENCHMARK_COLOR))
    if slo_priority_weeks == slo_other_weeks:
        rows.append(
            (slo_priority_weeks * 7, f"{slo_priority_weeks:g} weeks — {SLO_TEXT}", SLO_COLOR)
        )
    else:
        rows.append(
            (
                slo_priority_weeks * 7,
                f"{slo_priority_weeks:g} weeks — {SLO_TEXT} (P0–P2)",
                SLO_COLOR,
            )
        )
        rows.append(
            (slo_other_weeks * 7, f"{slo_other_weeks:g} weeks — {SLO_TEXT} (others)", SLO_COLOR)
        )
    return pd.DataFrame(rows, columns=["days", "label", "color"])
