"""Time-to-ticket and time-to-done distributions and curves over grouping sets.

The estimates are Kaplan–Meier (`models.analytics.survival`).

A never-ticketed item is censored at `as_of` (it has waited that long so far), never dropped:
dropping it would make a team that tickets half its items look as fast as one that tickets all.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl

from models.analytics.survival import km_quantile, km_share_by, km_table

GROUPINGS: dict[str, tuple[str, ...]] = {
    "org": (),
    "team": ("team",),
    "service": ("service",),
    "month": ("month",),
    "team_month": ("team", "month"),
    "service_month": ("service", "month"),
}
CURVE_GROUPINGS = ("org", "team", "service", "month")

DISTRIBUTION_SCHEMA = {
    "grouping_set": pl.String,
    "team": pl.String,
    "service": pl.String,
    "month": pl.Date,
    "items": pl.Int64,
    "ticketed": pl.Int64,
    "never_ticketed": pl.Int64,
    "km_median_hours": pl.Float64,
    "km_p75_hours": pl.Float64,
    "km_p90_hours": pl.Float64,
    "share_within_24h": pl.Float64,
    "share_beyond_benchmark": pl.Float64,
    "benchmark_days": pl.Float64,
    "km_median_days_to_done": pl.Float64,
    "share_done_within_slo": pl.Float64,
}
CURVE_SCHEMA = {
    "grouping_set": pl.String,
    "team": pl.String,
    "service": pl.String,
    "month": pl.Date,
    "hours": pl.Float64,
    "at_risk": pl.Int64,
    "ticketed": pl.Int64,
    "censored": pl.Int64,
    "survival": pl.Float64,
}
DONE_CURVE_SCHEMA = {
    "grouping_set": pl.String,
    "team": pl.String,
    "service": pl.String,
    "month": pl.Date,
    "days": pl.Float64,
    "at_risk": pl.Int64,
    "done": pl.Int64,
    "censored": pl.Int64,
    "survival": pl.Float64,
}

__all__ = ["CURVE_SCHEMA", "DISTRIBUTION_SCHEMA", "DONE_CURVE_SCHEMA", "GROUPINGS", "curves",
           "distribution", "done_curves", "km_table", "prepare"]


def prepare(items: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """Durations for both estimates from `models.action_item_status` rows.

    Time to ticket: hours, observed when the ticket existed by `as_of`, else censored at
    `as_of`. Time to done, in units of the item's SLO (1.0 = its deadline): observed when done
    by `as_of`; open items censored at `as_of`, cancelled ones when cancelled; items marked
    done only in the document (no ticket, so no date) are left out of that estimate.
    """
    df = items.filter(pl.col("identified_at").is_not_null() & (pl.col("identified_at") <= as_of))
    waited_h = (pl.lit(as_of) - pl.col("identified_at")).dt.total_seconds() / 3600.0
    ticket_h = pl.col("hours_to_ticket")
    ticketed = ticket_h.is_not_null() & (pl.col("ticket_created_at") <= as_of)
    slo_days = pl.col("slo_weeks") * 7.0
    closed_days = (pl.col("closed_at") - pl.col("identified_at")).dt.total_seconds() / 86400.0
    done_by = pl.col("done") & pl.col("closed_at").is_not_null() & (pl.col("closed_at") <= as_of)
    gone = pl.col("canceled") & pl.col("closed_at").is_not_null() & (pl.col("closed_at") <= as_of)
    return df.with_columns(
        team=pl.col("team").fill_null("(unassigned)"),
        service=pl.col("service").fill_null("(none)"),
        month=pl.col("identified_at").dt.truncate("1mo").dt.date(),
        tt_observed=ticketed,
        tt_hours=pl.when(ticketed).then(ticket_h.clip(lower_bound=0.0)).otherwise(waited_h),
        done_observed=done_by,
        done_days=pl.when(done_by | gone).then(closed_days.clip(lower_bound=0.0))
        .when(pl.col("done") & pl.col("closed_at").is_null()).then(None)
        .otherwise(waited_h / 24.0),
    ).with_columns(done_slo_units=pl.col("done_days") / slo_days)


def _summary(g: pl.DataFrame, benchmark_days: float) -> dict[str, object]:
    d = g["tt_hours"].to_numpy()
    o = g["tt_observed"].to_numpy()
    beyond = km_share_by(d, o, benchmark_days * 24.0)
    dd = g["done_days"].to_numpy().astype(float)
    do = g["done_observed"].to_numpy()
    du = g["done_slo_units"].to_numpy().astype(float)
    ticketed = int(o.sum())
    return {
        "items": g.height,
        "ticketed": ticketed,
        "never_ticketed": g.height - ticketed,
        "km_median_hours": km_quantile(d, o, 0.5),
        "km_p75_hours": km_quantile(d, o, 0.75),
        "km_p90_hours": km_quantile(d, o, 0.9),
        "share_within_24h": km_share_by(d, o, 24.0),
        "share_beyond_benchmark": None if beyond is None else 1.0 - beyond,
        "benchmark_days": benchmark_days,
        "km_median_days_to_done": km_quantile(dd, do, 0.5),
        "share_done_within_slo": (km_share_by(du, do, 1.0)
                                  if np.count_nonzero(~np.isnan(du)) else None),
    }


def _groups(df: pl.DataFrame, keys: tuple[str, ...]):
    if not keys:
        yield {}, df
        return
    for vals, g in df.group_by(list(keys), maintain_order=False):
        yield dict(zip(keys, vals, strict=True)), g


def distribution(prepared: pl.DataFrame, benchmark_days: float) -> pl.DataFrame:
    """One row per group of every grouping set (NULL key columns mean "all")."""
    rows: list[dict[str, object]] = []
    if prepared.is_empty():
        return pl.DataFrame(schema=DISTRIBUTION_SCHEMA)
    for name, keys in GROUPINGS.items():
        for key, g in _groups(prepared, keys):
            rows.append({"grouping_set": name, "team": key.get("team"),
                         "service": key.get("service"), "month": key.get("month"),
                         **_summary(g, benchmark_days)})
    return (pl.DataFrame(rows, schema=DISTRIBUTION_SCHEMA)
            .sort(["grouping_set", "team", "service", "month"], nulls_last=False))


def curves(prepared: pl.DataFrame) -> pl.DataFrame:
    """The Kaplan–Meier time-to-ticket curve of each group, one row per distinct time."""
    rows: list[dict[str, object]] = []
    for name in CURVE_GROUPINGS:
        for key, g in _groups(prepared, GROUPINGS[name]):
            for t, n, ev, c, s in km_table(g["tt_hours"].to_numpy(), g["tt_observed"].to_numpy()):
                rows.append({"grouping_set": name, "team": key.get("team"),
                             "service": key.get("service"), "month": key.get("month"),
                             "hours": t, "at_risk": n, "ticketed": ev, "censored": c,
                             "survival": s})
    if not rows:
        return pl.DataFrame(schema=CURVE_SCHEMA)
    return (pl.DataFrame(rows, schema=CURVE_SCHEMA)
            .sort(["grouping_set", "team", "service", "month", "hours"], nulls_last=False))


def done_curves(prepared: pl.DataFrame) -> pl.DataFrame:
    """The Kaplan–Meier time-to-done curve of each group, in days, one row per distinct time.

    Same population and censoring as `km_median_days_to_done` of `distribution`: items marked
    done only in the document (no close date) are left out.
    """
    rows: list[dict[str, object]] = []
    for name in CURVE_GROUPINGS:
        for key, g in _groups(prepared, GROUPINGS[name]):
            table = km_table(g["done_days"].to_numpy().astype(float), g["done_observed"].to_numpy())
            for t, n, ev, c, s in table:
                rows.append({"grouping_set": name, "team": key.get("team"),
                             "service": key.get("service"), "month": key.get("month"),
                             "days": t, "at_risk": n, "done": ev, "censored": c, "survival": s})
    if not rows:
        return pl.DataFrame(schema=DONE_CURVE_SCHEMA)
    return (pl.DataFrame(rows, schema=DONE_CURVE_SCHEMA)
            .sort(["grouping_set", "team", "service", "month", "days"], nulls_last=False))
