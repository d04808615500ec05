"""Polars analytics over the marts (the `models` layer hands frames through DuckDB)."""

import dagster as dg
import polars as pl
from dagster_duckdb import DuckDBResource

from models.analytics.time_to_ticket import with_durations
from pipelines.resources import warehouse


@dg.asset(
    key=["models", "action_item_delays"],
    deps=[dg.AssetKey(["marts", "time_to_ticket"])],
    io_manager_key="polars_io",
    kinds={"polars", "duckdb"},
    group_name="models",
    automation_condition=dg.AutomationCondition.eager(),
    description="Each action item's delay to ticket, censored at the data's end when never ticketed.",
)
def action_item_delays(duckdb: DuckDBResource) -> pl.DataFrame:
    with warehouse(duckdb) as conn:
        items = conn.execute(
            "SELECT action_item_id, team, service, priority, identified_at, ticket_key, "
            "hours_to_ticket FROM marts.time_to_ticket ORDER BY action_item_id"
        ).pl()
        # Censor at the last event in the data, so rebuilding the same data gives the same rows.
        as_of = conn.execute(
            "SELECT coalesce(greatest(max(identified_at), max(ticket_created_at)), now()) "
            "FROM marts.time_to_ticket"
        ).fetchone()[0]
    return with_durations(items, as_of)
