"""Failure analysis: excerpts and fingerprints of failed CI logs, clusters, recurrence links.

Excerpts and cluster assignment are incremental: a run reads only failures it has not seen
(or whose log changed), and existing cluster ids never change.

Excerpting is the log-heavy stage, so it is partitioned: `failure_excerpt_parts` has one
partition per bucket of repositories (`pipelines.partitions.REPO_BUCKET_PARTITIONS`). A
partition reads the warehouse read-only, excerpts and fingerprints its logs, and stages the rows
as a Parquet file; partitions run side by side (a backfill's runs, `followthrough build
--processes N`), or, in one process, as one run over the range of buckets with pending logs
(one warehouse read instead of one per bucket). `failure_excerpts` is the one writer: it merges
what the partitions staged.
"""

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.check_report import describe, metadata, offenders
from pipelines.lineage import inputs
from pipelines.partitions import REPO_BUCKET_PARTITIONS, REPO_BUCKETS
from pipelines.runtime import warehouse
from warehouse.failures import (
    PENDING_FAILURES,
    UNCLUSTERED,
    existing_clusters,
    merge_staged_excerpts,
    pending_in_buckets,
    reading,
    stage_excerpts,
    staging_dir,
    store_clusters,
    unclustered,
)

EXCERPT_PARTS = dg.AssetKey(["models", "failure_excerpt_parts"])
EXCERPTS = dg.AssetKey(["models", "failure_excerpts"])
CLUSTERS = dg.AssetKey(["models", "failure_clusters"])


def _bucket_deps() -> list[dg.AssetDep]:
    """Every bucket reads all of its upstream tables: a day-partitioned raw asset maps to each
    bucket whole (the implicit asset job and the automation sensor need the mapping spelt out)."""
    return [dg.AssetDep(key, partition_mapping=dg.AllPartitionMapping())
            for key in inputs(PENDING_FAILURES, itself=EXCERPTS)]


class BucketsFailed(Exception):
    """Buckets of a run over several that did not stage their rows (the others did)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"bucket {k}: {v}" for k, v in sorted(errors.items())))
        self.errors = errors


@dg.asset(
    key=EXCERPT_PARTS,
    deps=_bucket_deps(),
    partitions_def=REPO_BUCKET_PARTITIONS,
    kinds={"python", "parquet"},
    group_name="models",
    automation_condition=dg.AutomationCondition.eager(),
    description="One bucket of repositories' failed CI logs, excerpted and fingerprinted, "
                "staged as Parquet for `failure_excerpts` to merge.",
)
def failure_excerpt_parts(context: dg.AssetExecutionContext,
                          duckdb: DuckDBResource) -> dg.MaterializeResult:
    from models.recurrence.excerpts import excerpt_failures

    keys = context.partition_keys
    with reading(duckdb.database) as conn:
        todo = pending_in_buckets(conn, [int(k) for k in keys], REPO_BUCKETS)
    excerpted = without = 0
    staged: list[str] = []
    errors: dict[str, str] = {}
    for key in keys:
        if len(keys) > 1 and not todo[int(key)]:
            continue  # a bucket inside a range with nothing to do
        try:
            # The partition is the unit of parallel work: one process per partition, none
            # inside it.
            rows = excerpt_failures(todo[int(key)], workers=1)
            staged.append(str(stage_excerpts(staging_dir(duckdb.database), key, rows)))
        except Exception as exc:
            if len(keys) == 1:
                raise
            errors[key] = f"{type(exc).__name__}: {exc}"  # the other buckets still stage
            continue
        excerpted += len(rows)
        without += sum(1 for r in rows if r.fingerprint is None)
    if errors:
        raise BucketsFailed(errors)
    return dg.MaterializeResult(
        metadata={
            "excerpted_now": excerpted,
            "without_excerpt": without,
            "staged": dg.MetadataValue.path(staged[0]) if len(staged) == 1
            else dg.MetadataValue.text(", ".join(Path(p).name for p in staged)),
        }
    )


@dg.asset(
    key=EXCERPTS,
    deps=[EXCERPT_PARTS],
    kinds={"python", "duckdb"},
    group_name="models",
    automation_condition=dg.AutomationCondition.eager(),
    description="The few redacted lines that explain each failed CI job, and their fingerprint "
                "(merged from the buckets of `failure_excerpt_parts`).",
)
def failure_excerpts(duckdb: DuckDBResource) -> dg.MaterializeResult:
    with warehouse(duckdb) as conn:
        merged, without = merge_staged_excerpts(conn, staging_dir(duckdb.database))
        total = conn.execute("SELECT count(*) FROM models.failure_excerpts").fetchone()[0]
    return dg.MaterializeResult(
        metadata={
            "excerpted_now": merged,
            "without_excerpt": without,
            "dagster/row_count": total,
        }
    )


@dg.asset(
    key=CLUSTERS,
    deps=inputs(UNCLUSTERED, itself=CLUSTERS),
    kinds={"python", "duckdb"},
    group_name="models",
    automation_condition=dg.AutomationCondition.eager(),
    description="Clusters of near-identical failure fingerprints (TF-IDF, cosine); ids are stable.",
)
def failure_clusters(duckdb: DuckDBResource) -> dg.MaterializeResult:
    with warehouse(duckdb) as conn:
        rows = unclustered(conn)
        existing = existing_clusters(conn) if rows else []
    assignments, created = [], []
    if rows:  # scipy's import is only worth it when there is something to cluster
        from models.logs.clusters import DEFAULT_THRESHOLD
        from models.recurrence.clustering import assign

        assignments, created = assign(rows, existing, DEFAULT_THRESHOLD)
    with warehouse(duckdb) as conn:
        store_clusters(conn, assignments, created)
        total = conn.execute("SELECT count(*) FROM models.failure_clusters").fetchone()[0]
    return dg.MaterializeResult(
        metadata={
            "fingerprints_assigned": len(assignments),
            "clusters_created": len(created),
            "dagster/row_count": total,
        }
    )


@dg.asset_check(asset=failure_excerpts, description="Stored excerpts carry no known secret shape.")
def excerpts_are_redacted(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    from models.logs.redact import TOKEN_SHAPES

    pattern = "|".join(f"(?:{shape})" for shape in TOKEN_SHAPES)
    with warehouse(duckdb) as conn:
        checked = conn.execute("SELECT count(*) FROM models.failure_excerpts").fetchone()[0]
        leaking = offenders(
            conn, "leaking", "excerpt(s) with a secret shape, by job",
            "SELECT job_id AS label, job_id AS sort_key FROM models.failure_excerpts "
            "WHERE regexp_matches(excerpt::VARCHAR, ?)",
            [pattern],
        )
    return dg.AssetCheckResult(
        passed=not leaking.count,
        description=describe(leaking),
        metadata={"checked": checked, "leaking": leaking.count,
                  "leaking_jobs": [int(j) for j in leaking.examples]},
    )


@dg.asset_check(asset=failure_clusters,
                description="Every fingerprinted failure belongs to exactly one cluster.")
def every_fingerprint_clustered(duckdb: DuckDBResource) -> dg.AssetCheckResult:
    with warehouse(duckdb) as conn:
        missing = offenders(
            conn, "unclustered_fingerprints", "fingerprint(s) in no cluster",
            "SELECT DISTINCT fingerprint AS label, fingerprint AS sort_key "
            "FROM models.failure_excerpts WHERE fingerprint IS NOT NULL "
            "AND fingerprint NOT IN (SELECT fingerprint FROM models.fingerprint_clusters)",
        )
        orphans = offenders(
            conn, "assignments_without_cluster", "fingerprint assignment(s) to a missing cluster",
            "SELECT fingerprint || ' -> ' || cluster_id AS label, fingerprint AS sort_key "
            "FROM models.fingerprint_clusters "
            "WHERE cluster_id NOT IN (SELECT cluster_id FROM models.failure_clusters)",
        )
    return dg.AssetCheckResult(
        passed=missing.count == 0 and orphans.count == 0,
        description=describe(missing, orphans),
        metadata=metadata(missing, orphans),
    )
