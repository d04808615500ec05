"""core, models and marts tables rebuilt from warehouse/sql whenever their inputs change."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.resources import warehouse
from pipelines.sql_assets import sql_assets as make_sql_assets

# table -> the assets it reads; the SQL lives in warehouse/sql/<schema>/NN_<table>.sql
INPUTS: dict[str, list[list[str]]] = {
    "core.ci_jobs": [["raw", "github_actions"]],
    "core.ci_failures": [["core", "ci_jobs"]],
    "core.deployments": [["raw", "github_actions"]],
    "core.tickets": [["raw", "jira"], ["raw", "linear"]],
    "core.ticket_events": [["raw", "jira"], ["raw", "linear"]],
    "core.incidents": [["raw", "pagerduty"]],
    "core.postmortems": [["raw", "postmortems"], ["core", "incidents"]],
    "core.action_items": [["core", "postmortems"]],
    "models.action_item_tickets": [
        ["core", "action_items"], ["core", "tickets"], ["models", "action_item_ticket_candidates"],
    ],
    "models.ci_failure_clusters": [
        ["core", "ci_failures"], ["models", "failure_excerpts"], ["models", "failure_clusters"],
    ],
    "models.cluster_links": [
        ["models", "ci_failure_clusters"], ["models", "failure_clusters"], ["core", "tickets"],
        ["core", "incidents"], ["core", "deployments"], ["raw", "postmortems"],
    ],
    "models.recurrences": [
        ["models", "ci_failure_clusters"], ["models", "cluster_links"], ["core", "tickets"],
    ],
    "marts.time_to_ticket": [
        ["core", "action_items"], ["core", "postmortems"], ["core", "tickets"],
        ["models", "action_item_tickets"],
    ],
}


sql_assets = make_sql_assets(INPUTS)


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
        orphans = conn.execute("SELECT count(*) FROM core.ci_jobs WHERE repo IS NULL").fetchone()[0]
    return dg.AssetCheckResult(
        passed=orphans == 0, severity=dg.AssetCheckSeverity.WARN,
        metadata={"jobs_without_run": orphans},
    )
