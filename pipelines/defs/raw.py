"""raw layer: export files loaded as vendor records (idempotent by file hash)."""

from datetime import date

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.resources import DAILY, ExportsResource, warehouse
from warehouse.ingest import ingest
from warehouse.loader import LoadResult, iter_dates
from warehouse.sources import GITHUB_SOURCES, JIRA, LINEAR, PAGERDUTY, POSTMORTEMS, Source


def _report(results: list[LoadResult]) -> dg.MaterializeResult:
    problems = [p for r in results for p in r.problems]
    return dg.MaterializeResult(
        metadata={
            "files_seen": sum(r.files_seen for r in results),
            "files_loaded": sum(r.files_loaded for r in results),
            "records": sum(r.records for r in results),
            "quarantined": sum(r.quarantined for r in results),
            "problems": dg.MetadataValue.md(
                "\n".join(f"- {p}" for p in problems[:50]) or "none"
            ),
        }
    )


@dg.asset(
    key=["raw", "github_actions"],
    partitions_def=DAILY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    kinds={"github", "duckdb"},
    group_name="raw",
    description="GitHub Actions runs, jobs, job logs, deployments and statuses, by day.",
)
def raw_github_actions(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, exports: ExportsResource
) -> dg.MaterializeResult:
    window = context.partition_time_window
    days = list(iter_dates(window.start.date(), date.fromordinal(window.end.toordinal() - 1)))
    with warehouse(duckdb) as conn:
        results = ingest(conn, exports.root, GITHUB_SOURCES, dates=days)
    return _report(results)


def _unpartitioned(name: str, sources: tuple[Source, ...], kinds: set[str], description: str):
    @dg.asset(key=["raw", name], kinds=kinds | {"duckdb"}, group_name="raw",
              description=description)
    def _asset(duckdb: DuckDBResource, exports: ExportsResource) -> dg.MaterializeResult:
        with warehouse(duckdb) as conn:
            return _report(ingest(conn, exports.root, sources, postmortems=exports.postmortems))

    return _asset


raw_jira = _unpartitioned("jira", (JIRA,), {"jira"}, "Jira issues with changelog and comments.")
raw_linear = _unpartitioned("linear", (LINEAR,), {"linear"}, "Linear issues with history.")
raw_pagerduty = _unpartitioned("pagerduty", (PAGERDUTY,), {"pagerduty"}, "PagerDuty incidents.")
raw_postmortems = _unpartitioned(
    "postmortems", (POSTMORTEMS,), {"markdown"},
    "Postmortem documents, parsed and linted, with their action items.",
)


def _quarantine_check(asset: dg.AssetsDefinition, sources: tuple[Source, ...]):
    names = [s.name for s in sources]
    label = "_".join(asset.key.path)

    @dg.asset_check(asset=asset, name="nothing_quarantined",
                    description="Every record of the loaded files had the expected shape.")
    def _check(duckdb: DuckDBResource) -> dg.AssetCheckResult:
        with warehouse(duckdb) as conn:
            rows = conn.execute(
                "SELECT path, record_index, reason FROM raw.quarantine WHERE source IN "
                f"({', '.join('?' for _ in names)}) ORDER BY path, record_index LIMIT 20",
                names,
            ).fetchall()
            total = conn.execute(
                f"SELECT count(*) FROM raw.quarantine WHERE source IN "
                f"({', '.join('?' for _ in names)})",
                names,
            ).fetchone()[0]
        return dg.AssetCheckResult(
            passed=total == 0,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "quarantined": total,
                "examples": dg.MetadataValue.md(
                    "\n".join(f"- {p} record {i}: {r}" for p, i, r in rows) or "none"
                ),
            },
        )

    _check.__name__ = f"{label}_nothing_quarantined"
    return _check


quarantine_checks = [
    _quarantine_check(raw_github_actions, GITHUB_SOURCES),
    _quarantine_check(raw_jira, (JIRA,)),
    _quarantine_check(raw_linear, (LINEAR,)),
    _quarantine_check(raw_pagerduty, (PAGERDUTY,)),
    _quarantine_check(raw_postmortems, (POSTMORTEMS,)),
]
