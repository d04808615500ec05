"""Time from a postmortem action item to its ticket, summarised per team and month."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl

from models.analytics.survival import km_quantile, km_share_by

DEFAULT_BENCHMARK_DAYS = 4.3  # vendor-reported industry figure, not a measured standard

SUMMARY_SCHEMA = {
    "team": pl.String,
    "month": pl.Date,
    "items": pl.Int64,
    "ticketed": pl.Int64,
    "never_ticketed": pl.Int64,
    "median_hours_ticketed": pl.Float64,
    "km_median_hours": pl.Float64,
    "km_p90_hours": pl.Float64,
    "share_within_24h": pl.Float64,
    "share_beyond_benchmark": pl.Float64,
    "benchmark_days": pl.Float64,
}


def with_durations(items: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """Add `duration_h` (to ticket, or censored at `as_of`) and `observed` to mart rows."""
    censored = (pl.lit(as_of) - pl.col("identified_at")).dt.total_seconds() / 3600.0
    return items.with_columns(
        observed=pl.col("hours_to_ticket").is_not_null(),
        duration_h=pl.when(pl.col("hours_to_ticket").is_not_null())
        .then(pl.col("hours_to_ticket").clip(lower_bound=0.0))
        .otherwise(censored),
    )


def summarise(delays: pl.DataFrame, benchmark_days: float = DEFAULT_BENCHMARK_DAYS) -> pl.DataFrame:
    """Per team and month of identification: counts, plain and Kaplan–Meier medians, shares.

    `delays` is the output of `with_durations`; items with no identification time are left out.
    """
    df = delays.filter(pl.col("identified_at").is_not_null())
    if df.is_empty():
        return pl.DataFrame(schema=SUMMARY_SCHEMA)
    df = df.with_columns(
        team=pl.col("team").fill_null("(unassigned)"),
        month=pl.col("identified_at").dt.truncate("1mo").dt.date(),
    )
    bench_h = benchmark_days * 24.0
    rows = []
    for (team, month), g in df.group_by(["team", "month"], maintain_order=False):
        d = g["duration_h"].to_numpy()
        o = g["observed"].to_numpy()
        ticketed = g.filter(pl.col("observed"))
        beyond = km_share_by(d, o, bench_h)
        rows.append(
            {
                "team": team,
                "month": month,
                "items": g.height,
                "ticketed": ticketed.height,
                "never_ticketed": g.height - ticketed.height,
                "median_hours_ticketed": (
                    float(np.median(ticketed["duration_h"].to_numpy())) if ticketed.height else None
                ),
                "km_median_hours": km_quantile(d, o, 0.5),
                "km_p90_hours": km_quantile(d, o, 0.9),
                "share_within_24h": km_share_by(d, o, 24.0),
                "share_beyond_benchmark": None if beyond is None else 1.0 - beyond,
                "benchmark_days": benchmark_days,
            }
        )
    return pl.DataFrame(rows, schema=SUMMARY_SCHEMA).sort(["team", "month"])
