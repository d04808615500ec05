"""raw layer: export files loaded as vendor records (idempotent by file hash)."""

from datetime import date

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.lineage import RAW_ASSETS
from pipelines.partitions import DAILY
from pipelines.runtime import SettingsResource, warehouse
from warehouse.ingest import ingest
from warehouse.loader import LoadResult, iter_dates
from warehouse.sources import Source


class LoadConfig(dg.Config):
    """`force` reloads every file, even those whose hash is already in raw.files.

    `whole_history` makes one partition's run load every dated file: the command-line build
    loads an export in one run that way, instead of one run (or 500 events) per day.
    """

    force: bool = False
    whole_history: bool = False


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
    context: dg.AssetExecutionContext, config: LoadConfig, duckdb: DuckDBResource,
    settings: SettingsResource,
) -> dg.MaterializeResult:
    days = None if config.whole_history or _every_partition(context) else _days(
        context.partition_time_window)
    with warehouse(duckdb) as conn:
        results = ingest(conn, settings.get().exports, RAW_ASSETS["github_actions"], dates=days,
                         force=config.force)
    return _report(results)


def _every_partition(context: dg.AssetExecutionContext) -> bool:
    """A run over every partition loads every dated file, also those before the first day."""
    keys = DAILY.get_partition_keys(dynamic_partitions_store=context.instance)
    return bool(keys) and context.partition_key_range == dg.PartitionKeyRange(keys[0], keys[-1])


def _days(window: dg.TimeWindow) -> list[date]:
    return list(iter_dates(window.start.date(), date.fromordinal(window.end.toordinal() - 1)))


def _unpartitioned(name: str, sources: tuple[Source, ...], kinds: set[str], description: str):
    @dg.asset(key=["raw", name], kinds=kinds | {"duckdb"}, group_name="raw",
              description=description)
    def _asset(config: LoadConfig, duckdb: DuckDBResource,
               settings: SettingsResource) -> dg.MaterializeResult:
        s = settings.get()
        with warehouse(duckdb) as conn:
            return _report(ingest(conn, s.exports, sources, postmortems=s.postmortems,
                                  force=config.force))

    return _asset


raw_jira = _unpartitioned("jira", RAW_ASSETS["jira"], {"jira"},
                          "Jira issues with changelog and comments.")
raw_linear = _unpartitioned("linear", RAW_ASSETS["linear"], {"linear"},
                            "Linear issues with history.")
raw_pagerduty = _unpartitioned("pagerduty", RAW_ASSETS["pagerduty"], {"pagerduty"},
                               "PagerDuty incidents.")
raw_postmortems = _unpartitioned(
    "postmortems", RAW_ASSETS["postmortems"], {"markdown"},
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
            description=f"{total} record(s) quarantined",
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
    _quarantine_check(asset, RAW_ASSETS[asset.key.path[-1]])
    for asset in (raw_github_actions, raw_jira, raw_linear, raw_pagerduty, raw_postmortems)
]
