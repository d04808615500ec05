"""Time from a postmortem action item to its ticket: per-item delays, summaries and bins.

The summaries count over *all* action items: an item without a ticket stays in every
denominator, and in the Kaplan–Meier median it is censored at its age (`as_of`).
"""

from __future__ import annotations

import itertools
import math
from datetime import datetime

import numpy as np
import polars as pl

from models.analytics.survival import km_quantile

DEFAULT_BENCHMARK_DAYS = 4.3  # vendor-reported industry figure, not a measured standard
NO_TEAM = "(unassigned)"  # the team label of items without one, as in the other marts

SUMMARY_GROUPINGS: dict[str, tuple[str, ...]] = {"org": (), "team": ("team",), "month": ("month",)}

SUMMARY_SCHEMA = {
    "grouping_set": pl.String,
    "team": pl.String,
    "month": pl.Date,
    "items": pl.Int64,
    "ticketed": pl.Int64,
    "timed": pl.Int64,
    "never_ticketed": pl.Int64,
    "untimed": pl.Int64,
    "undated": pl.Int64,
    "median_hours": pl.Float64,
    "km_median_hours": pl.Float64,
    "within_24h": pl.Int64,
    "ticketed_late": pl.Int64,
    "beyond_benchmark": pl.Int64,
    "share_ticketed": pl.Float64,
    "share_never_ticketed": pl.Float64,
    "share_within_24h": pl.Float64,
    "share_beyond_benchmark": pl.Float64,
    "benchmark_days": pl.Float64,
}
AGES_SCHEMA = {
    "action_item_id": pl.String,
    "ticketed": pl.Boolean,
    "open_hours": pl.Float64,
    "beyond_benchmark": pl.Boolean,
    "benchmark_days": pl.Float64,
}
HISTOGRAM_SCHEMA = {
    "bin": pl.Int64,
    "label": pl.String,
    "start_hours": pl.Float64,
    "end_hours": pl.Float64,
    "items": pl.Int64,
}

# Bin edges in hours: roughly logarithmic so "same hour" and "three weeks" are both readable.
HISTOGRAM_EDGES_HOURS: tuple[float, ...] = (
    0.0, 1.0, 4.0, 12.0, 24.0, 48.0, 96.0, 168.0, 336.0, 720.0, 2160.0, math.inf,
)


def ages(items: pl.DataFrame, as_of: datetime, benchmark_days: float) -> pl.DataFrame:
    """Per `marts.time_to_ticket` row: ticketed, hours waited so far, beyond the benchmark.

    Ticketed means a ticket exists, not `hours_to_ticket IS NOT NULL`: that is also NULL when
    the ticket exists but the identification time is unknown. An item is beyond the benchmark
    when it was ticketed later than the benchmark, or is still unticketed and older than it
    (or of unknown age: it cannot be shown to be recent).
    """
    bench_h = benchmark_days * 24.0
    hours = pl.col("hours_to_ticket")
    ticketed = pl.col("ticket_key").is_not_null() | hours.is_not_null()
    age = ((pl.lit(as_of) - pl.col("identified_at")).dt.total_seconds() / 3600.0).clip(lower_bound=0.0)
    return items.select(
        "action_item_id",
        ticketed=ticketed,
        open_hours=pl.when(ticketed).then(None).otherwise(age),
        beyond_benchmark=(hours > bench_h).fill_null(False)
        | (~ticketed & ~(age <= bench_h).fill_null(False)),
        benchmark_days=pl.lit(benchmark_days, dtype=pl.Float64),
    ).select(list(AGES_SCHEMA))


def _summary(g: pl.DataFrame, bench_h: float) -> dict[str, object]:
    hours = g["hours_to_ticket"]
    ticketed = g["ticketed"].to_numpy()
    n, n_ticketed = g.height, int(ticketed.sum())
    timed = int(hours.is_not_null().sum())
    within = int((hours <= 24.0).sum())
    beyond = int(g["beyond_benchmark"].sum())
    # Ticketed items of unknown duration are NaN and drop out of the Kaplan–Meier estimate.
    durations = np.where(ticketed, hours.fill_null(np.nan).to_numpy(),
                         g["open_hours"].fill_null(np.nan).to_numpy()).astype(float)

    def share(k: int) -> float | None:
        return k / n if n else None

    return {
        "items": n,
        "ticketed": n_ticketed,
        "timed": timed,
        "never_ticketed": n - n_ticketed,
        "untimed": n_ticketed - timed,
        "undated": int(g["identified_at"].is_null().sum()),
        "median_hours": float(hours.median()) if timed else None,
        "km_median_hours": km_quantile(durations, ticketed, 0.5),
        "within_24h": within,
        "ticketed_late": int((hours > bench_h).sum()),
        "beyond_benchmark": beyond,
        "share_ticketed": share(n_ticketed),
        "share_never_ticketed": share(n - n_ticketed),
        "share_within_24h": share(within),
        "share_beyond_benchmark": share(beyond),
    }


def summary(items: pl.DataFrame, as_of: datetime, benchmark_days: float) -> pl.DataFrame:
    """Counts, plain and Kaplan–Meier medians and shares per org, team and month identified.

    `items` are `marts.time_to_ticket` rows. Org and team rows count every item; month rows
    leave out items without an identification date.
    """
    if items.is_empty():
        return pl.DataFrame(schema=SUMMARY_SCHEMA)
    df = items.join(ages(items, as_of, benchmark_days), on="action_item_id", how="left")
    df = df.with_columns(
        team=pl.col("team").fill_null(NO_TEAM),
        month=pl.col("identified_at").dt.truncate("1mo").dt.date(),
    )
    bench_h = benchmark_days * 24.0
    rows: list[dict[str, object]] = []
    for name, keys in SUMMARY_GROUPINGS.items():
        frame = df.filter(pl.col("month").is_not_null()) if "month" in keys else df
        groups = ([({}, frame)] if not keys else
                  [(dict(zip(keys, k, strict=True)), g)
                   for k, g in frame.group_by(list(keys), maintain_order=False)])
        for key, g in groups:
            rows.append({"grouping_set": name, "team": key.get("team"), "month": key.get("month"),
                         **_summary(g, bench_h), "benchmark_days": benchmark_days})
    return (pl.DataFrame(rows, schema=SUMMARY_SCHEMA)
            .sort(["grouping_set", "team", "month"], nulls_last=False))


def _hours_label(h: float) -> str:
    if math.isinf(h):
        return "∞"
    return f"{h:g} h" if h < 24 else f"{h / 24:g} d"


def histogram(items: pl.DataFrame) -> pl.DataFrame:
    """Ticketed items per log-ish bin of hours to ticket; ticketed at or before identification is 0."""
    hours = items["hours_to_ticket"].drop_nulls().clip(lower_bound=0.0)
    rows = []
    for n, (lo, hi) in enumerate(itertools.pairwise(HISTOGRAM_EDGES_HOURS)):
        label = f"{_hours_label(lo)} – {_hours_label(hi)}" if lo > 0 else f"< {_hours_label(hi)}"
        rows.append({"bin": n, "label": label, "start_hours": lo, "end_hours": hi,
                     "items": int(((hours >= lo) & (hours < hi)).sum())})
    return pl.DataFrame(rows, schema=HISTOGRAM_SCHEMA)
