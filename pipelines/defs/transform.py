"""core, models and marts tables rebuilt from warehouse/sql whenever their inputs change.

Each SQL file is an asset whose inputs are the tables its SELECT reads (pipelines/lineage.py).
"""

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.runtime import warehouse
from pipelines.sql_assets import sql_assets as make_sql_assets

sql_assets = make_sql_assets()


@dg.asset_check(asset=dg.AssetKey(["marts", "time_to_ticket"]),
                description="Every action item has a row, ticketed or not.")
def time_to_ticket_keeps_every_item(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with warehouse(duckdb) as conn:
        items, rows, bad = conn.execute(
            "SELECT (SELECT count(*) FROM core.action_items), "
            "(SELECT count(*) FROM marts.time_to_ticket), "
            "(SELECT count(*) FROM marts.time_to_ticket "
            " WHERE (ticket_key IS NULL) <> (hours_to_ticket IS NULL) AND identified_at IS NOT NULL)"
        ).fetchone()
    return dg.AssetCheckResult(
        passed=items == rows and bad == 0,
        metadata={"action_items": items, "mart_rows": rows, "inconsistent_rows": bad},
    )


@dg.asset_check(asset=dg.AssetKey(["core", "ci_jobs"]),
                description="Every job belongs to a loaded workflow run.")
def ci_jobs_have_runs(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with warehouse(duckdb) as conn:
        orphans, examples = conn.execute(
            "SELECT count(*), list(job_id::VARCHAR || ' (run ' || coalesce(run_id::VARCHAR, '?') "
            "|| ')' ORDER BY job_id)[:5] FROM core.ci_jobs WHERE repo IS NULL"
        ).fetchone()
    return dg.AssetCheckResult(
        passed=orphans == 0, severity=dg.AssetCheckSeverity.WARN,
        description=f"{orphans} job(s) whose workflow run is not in the export",
        metadata={"jobs_without_run": orphans, "examples": ", ".join(examples or []) or "none"},
    )
