"""core, models and marts tables rebuilt from warehouse/sql whenever their inputs change.

Each SQL file is an asset whose inputs are the tables its SELECT reads (pipelines/lineage.py).
"""

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.check_report import describe, metadata, offenders
from pipelines.runtime import warehouse
from pipelines.sql_assets import sql_assets as make_sql_assets

sql_assets = make_sql_assets()


@dg.asset_check(asset=dg.AssetKey(["marts", "time_to_ticket"]),
                description="Every action item has a row, ticketed or not.")
def time_to_ticket_keeps_every_item(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with warehouse(duckdb) as conn:
        items, rows = conn.execute(
            "SELECT (SELECT count(*) FROM core.action_items), (SELECT count(*) FROM marts.time_to_ticket)"
        ).fetchone()
        missing = offenders(
            conn, "items_without_row", "action item(s) without a row",
            "SELECT action_item_id AS label, action_item_id AS sort_key FROM core.action_items "
            "WHERE action_item_id NOT IN (SELECT action_item_id FROM marts.time_to_ticket)",
        )
        extra = offenders(
            conn, "rows_without_item", "row(s) for no action item",
            "SELECT action_item_id AS label, action_item_id AS sort_key FROM marts.time_to_ticket "
            "WHERE action_item_id NOT IN (SELECT action_item_id FROM core.action_items)",
        )
        bad = offenders(
            conn, "inconsistent_rows", "row(s) with a ticket but no delay, or a delay but no ticket",
            "SELECT action_item_id AS label, action_item_id AS sort_key FROM marts.time_to_ticket "
            "WHERE (ticket_key IS NULL) <> (hours_to_ticket IS NULL) AND identified_at IS NOT NULL",
        )
    return dg.AssetCheckResult(
        passed=items == rows and not (missing.count or extra.count or bad.count),
        description=describe(missing, extra, bad),
        metadata=metadata(missing, extra, bad, action_items=items, mart_rows=rows),
    )


@dg.asset_check(asset=dg.AssetKey(["core", "ci_jobs"]),
                description="Every job belongs to a loaded workflow run.")
def ci_jobs_have_runs(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with warehouse(duckdb) as conn:
        orphans = offenders(
            conn, "jobs_without_run", "job(s) whose workflow run is not in the export",
            "SELECT 'job ' || job_id || ' (run ' || coalesce(run_id::VARCHAR, '?') "
            "|| coalesce(', ' || repo, '') || ')' AS label, job_id AS sort_key "
            "FROM core.ci_jobs j WHERE provider = 'github' AND NOT EXISTS "
            "(SELECT 1 FROM raw.github_workflow_runs r WHERE r.run_id = j.run_id)",
        )
        no_repo = offenders(
            conn, "jobs_without_repo", "job(s) naming no repository",
            "SELECT 'job ' || job_id || ' (run ' || coalesce(run_id::VARCHAR, '?') || ')' AS label, "
            "job_id AS sort_key FROM core.ci_jobs WHERE repo IS NULL",
        )
    return dg.AssetCheckResult(
        passed=orphans.count == 0 and no_repo.count == 0, severity=dg.AssetCheckSeverity.WARN,
        description=describe(orphans, no_repo),
        metadata=metadata(orphans, no_repo),
    )
