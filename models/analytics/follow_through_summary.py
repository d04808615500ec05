"""Follow-through counts and shares per org, team and team × month, from `marts.follow_through`.

Counts are summed first and divided after: averaging per-month shares would weight a 1-item
month like a 40-item one. A share is NULL when its denominator is 0.
"""

from __future__ import annotations

import polars as pl

COUNT_COLUMNS: tuple[str, ...] = (
    "items", "done", "canceled", "matured", "done_within", "p1_matured", "p1_resolved_within",
    "p1_rescheduled_justified", "slo_matured", "slo_met",
)
NO_TEAM = "(unassigned)"

SCHEMA = {
    "grouping_set": pl.String,
    "team": pl.String,
    "month": pl.Date,
    **{c: pl.Int64 for c in COUNT_COLUMNS},
    "p1_handled": pl.Int64,
    "too_new": pl.Int64,
    "share_done_within": pl.Float64,
    "share_p1_handled": pl.Float64,
    "share_slo_met": pl.Float64,
}


def _ratio(num: str, den: str) -> pl.Expr:
    return pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den)).otherwise(None)


def _with_shares(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(
        p1_handled=pl.col("p1_resolved_within") + pl.col("p1_rescheduled_justified"),
        too_new=pl.col("items") - pl.col("matured"),
    ).with_columns(
        share_done_within=_ratio("done_within", "matured"),
        share_p1_handled=_ratio("p1_handled", "p1_matured"),
        share_slo_met=_ratio("slo_met", "slo_matured"),
    )


def summary(rows: pl.DataFrame) -> pl.DataFrame:
    """One row for the org, one per team, and one per team and month in the data's range.

    Team × month rows cover every month between the first and the last for every team, with
    zero counts where a team had no items, so a quiet month is a visible gap on a heat map.
    """
    if rows.is_empty():
        return pl.DataFrame(schema=SCHEMA)
    df = rows.with_columns(team=pl.col("team").fill_null(NO_TEAM),
                           **{c: pl.col(c).cast(pl.Int64) for c in COUNT_COLUMNS})
    counts = [pl.col(c).sum() for c in COUNT_COLUMNS]
    org = df.select(counts).with_columns(grouping_set=pl.lit("org"), team=pl.lit(None, pl.String),
                                         month=pl.lit(None, pl.Date))
    team = df.group_by("team").agg(counts).with_columns(grouping_set=pl.lit("team"),
                                                        month=pl.lit(None, pl.Date))
    cells = df.group_by("team", "month").agg(counts)
    months = pl.date_range(df["month"].min(), df["month"].max(), "1mo", eager=True).alias("month")
    grid = (df.select("team").unique().join(months.to_frame(), how="cross")
            .join(cells, on=["team", "month"], how="left")
            .with_columns([pl.col(c).fill_null(0) for c in COUNT_COLUMNS])
            .with_columns(grouping_set=pl.lit("team_month")))
    out = pl.concat([f.select(["grouping_set", "team", "month", *COUNT_COLUMNS])
                     for f in (org, team, grid)])
    return (_with_shares(out).select(list(SCHEMA))
            .sort(["grouping_set", "team", "month"], nulls_last=False))
