"""raw layer: vendor records fetched from configured APIs into the export directory, and export
files loaded as vendor records (idempotent by file hash)."""

from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_duckdb import DuckDBResource

from followthrough.progress import report
from models.connectors.base import FETCH_CHECK, since_time
from pipelines.check_report import EXAMPLES, describe, offenders
from pipelines.lineage import RAW_ASSETS
from pipelines.partitions import DAILY
from pipelines.runtime import SettingsResource, SourceResource, warehouse
from warehouse.ingest import ingest
from warehouse.loader import LoadResult, iter_dates
from warehouse.sources import Source

DEFAULT_SINCE = "30d"


class LoadConfig(dg.Config):
    """`force` reloads every file, even those whose hash is already in raw.files.

    `whole_history` makes one partition's run load every dated file: the command-line build
    loads an export in one run that way, instead of one run (or 500 events) per day.
    """

    force: bool = False
    whole_history: bool = False
    fetch: bool = True
    since: str = DEFAULT_SINCE


def fetch_into(exports: Path, source: SourceResource, config: LoadConfig
               ) -> tuple[dict[str, Any], dg.AssetCheckResult]:
    """Fetch a configured source before loading; an API failure keeps what already landed and
    fails the asset's `fetch_succeeded` check instead of the load."""
    from models.connectors.base import MissingSecret
    from models.connectors.config import ConfigError
    from models.connectors.http import ApiError

    if not (config.fetch and source.configured):
        why = "fetching is off for this run" if source.configured else \
            f"sources.{source.name} is not configured"
        return {}, dg.AssetCheckResult(check_name=FETCH_CHECK, passed=True,
                                       description=f"nothing fetched: {why}")

    def progress(stage: str, done: int, total: int | None) -> None:
        report(stage, done, total, "records")

    try:
        result = source.fetch(exports, since=since_time(config.since), progress=progress)
    except (ApiError, MissingSecret, ConfigError, ValueError, OSError) as exc:
        return ({"fetch_error": str(exc)}, dg.AssetCheckResult(
            check_name=FETCH_CHECK, passed=False, severity=dg.AssetCheckSeverity.ERROR,
            description=f"{source.name}: {exc}", metadata={"error": str(exc)}))
    meta = {"fetched_records": result.records, "fetched_files": result.files,
            "fetch_requests": result.requests, "fetch_seconds": round(result.seconds, 2),
            "rate_limit_wait_s": round(result.waited_s, 1)}
    return meta, dg.AssetCheckResult(
        check_name=FETCH_CHECK, passed=True, description=result.line(),
        metadata={"notes": dg.MetadataValue.md("\n".join(f"- {n}" for n in result.notes)
                                               or "none")})


def _report(results: list[LoadResult], fetched: dict[str, Any] | None = None,
            check: dg.AssetCheckResult | None = None) -> dg.MaterializeResult:
    problems = [p for r in results for p in r.problems]
    return dg.MaterializeResult(
        check_results=[check] if check is not None else None,
        metadata={
            **(fetched or {}),
            "files_seen": sum(r.files_seen for r in results),
            "files_loaded": sum(r.files_loaded for r in results),
            "records": sum(r.records for r in results),
            "quarantined": sum(r.quarantined for r in results),
            "problems": dg.MetadataValue.md(
                "\n".join(f"- {p}" for p in problems[:50]) or "none"
            ),
        }
    )


def fetch_spec(name: str) -> list[dg.AssetCheckSpec]:
    return [dg.AssetCheckSpec(FETCH_CHECK, asset=dg.AssetKey(["raw", name]),
                              description="The configured API answered; what it returned landed.")]


@dg.asset(
    key=["raw", "github_actions"],
    partitions_def=DAILY,
    backfill_policy=dg.BackfillPolicy.single_run(),
    kinds={"github", "duckdb"},
    group_name="raw",
    check_specs=fetch_spec("github_actions"),
    description="GitHub Actions runs, jobs, job logs, deployments and statuses, by day: fetched "
    "from the API when [sources.github] is configured, then loaded from the export directory.",
)
def raw_github_actions(
    context: dg.AssetExecutionContext, config: LoadConfig, duckdb: DuckDBResource,
    settings: SettingsResource, source_github: SourceResource,
) -> dg.MaterializeResult:
    exports = settings.get().exports
    fetched, check = fetch_into(exports, source_github, config)
    days = None if config.whole_history or _every_partition(context) else _days(
        context.partition_time_window)
    if fetched and days is not None:
        days = None  # a fetch lands yesterday's late runs too: load every changed file
    with warehouse(duckdb) as conn:
        results = ingest(conn, exports, RAW_ASSETS["github_actions"], dates=days,
                         force=config.force, payloads=settings.get().raw_payloads)
    return _report(results, fetched, check)


def _every_partition(context: dg.AssetExecutionContext) -> bool:
    """A run over every partition loads every dated file, also those before the first day."""
    keys = DAILY.get_partition_keys(dynamic_partitions_store=context.instance)
    return bool(keys) and context.partition_key_range == dg.PartitionKeyRange(keys[0], keys[-1])


def _days(window: dg.TimeWindow) -> list[date]:
    return list(iter_dates(window.start.date(), date.fromordinal(window.end.toordinal() - 1)))


def unpartitioned(name: str, sources: tuple[Source, ...], kinds: set[str], description: str,
                  connector: str | None = None):
    """A raw asset loading `sources` from the export directory, after fetching `connector`'s
    API when the sources file configures it."""
    resource_keys = {"duckdb", "settings"} | ({f"source_{connector}"} if connector else set())

    @dg.asset(key=["raw", name], kinds=kinds | {"duckdb"}, group_name="raw",
              description=description, required_resource_keys=resource_keys,
              check_specs=fetch_spec(name) if connector else None)
    def _asset(context: dg.AssetExecutionContext, config: LoadConfig) -> dg.MaterializeResult:
        s = context.resources.settings.get()
        fetched: dict[str, Any] = {}
        check = None
        if connector:
            fetched, check = fetch_into(s.exports, getattr(context.resources,
                                                           f"source_{connector}"), config)
        with warehouse(context.resources.duckdb) as conn:
            return _report(ingest(conn, s.exports, sources, postmortems=s.postmortems,
                                  force=config.force, payloads=s.raw_payloads), fetched, check)

    return _asset


raw_jira = unpartitioned("jira", RAW_ASSETS["jira"], {"jira"},
                         "Jira issues with changelog and comments.", connector="jira")
raw_linear = unpartitioned("linear", RAW_ASSETS["linear"], {"linear"},
                           "Linear issues with history.", connector="linear")
raw_pagerduty = unpartitioned("pagerduty", RAW_ASSETS["pagerduty"], {"pagerduty"},
                              "PagerDuty incidents.", connector="pagerduty")
raw_postmortems = unpartitioned(
    "postmortems", RAW_ASSETS["postmortems"], {"markdown"},
    "Postmortem documents, parsed and linted, with their action items.",
)


def _quarantine_check(asset: dg.AssetsDefinition, sources: tuple[Source, ...]):
    names = [s.name for s in sources]
    label = "_".join(asset.key.path)

    @dg.asset_check(asset=asset, name="nothing_quarantined",
                    description="Every record of the loaded files had the expected shape.")
    def _check(duckdb: DuckDBResource) -> dg.AssetCheckResult:
        where = f"source IN ({', '.join('?' for _ in names)})"
        with warehouse(duckdb) as conn:
            found = offenders(
                conn, "quarantined", "record(s) quarantined",
                "SELECT coalesce(nullif(regexp_extract(path, '[^/]+/[^/]+/[^/]+$'), ''), path) "
                "|| CASE WHEN record_index < 0 THEN ' (whole file)' ELSE ' record ' || record_index "
                "END "
                "|| coalesce(' (id ' || record_key || ')', '') || ': ' "
                "|| CASE WHEN length(reason) > 80 THEN left(reason, 79) || '…' ELSE reason END "
                "AS label, "
                f"path || lpad(record_index::VARCHAR, 12, '0') AS sort_key FROM raw.quarantine "
                f"WHERE {where}",
                names,
            )
            rows = conn.execute(
                f"SELECT path, record_index, record_key, reason FROM raw.quarantine WHERE {where} "
                f"ORDER BY path, record_index LIMIT {EXAMPLES}",
                names,
            ).fetchall()
        return dg.AssetCheckResult(
            passed=found.count == 0,
            description=describe(found),
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "quarantined": found.count,
                "quarantined_examples": found.examples,
                "quarantined_records": dg.MetadataValue.md(
                    "\n".join(
                        f"- {p} record {i}{f' (id {k})' if k else ''}: {r}"
                        for p, i, k, r in rows
                    ) or "none"
                ),
            },
        )

    _check.__name__ = f"{label}_nothing_quarantined"
    return _check


quarantine_checks = [
    _quarantine_check(asset, RAW_ASSETS[asset.key.path[-1]])
    for asset in (raw_github_actions, raw_jira, raw_linear, raw_pagerduty, raw_postmortems)
]
