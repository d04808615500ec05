"""Failure analysis: excerpts and fingerprints of failed CI logs, clusters, recurrence links.

Excerpts and cluster assignment are incremental: a run reads only failures it has not seen
(or whose log changed), and existing cluster ids never change.
"""

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.check_report import describe, metadata, offenders
from pipelines.lineage import inputs
from pipelines.runtime import warehouse
from warehouse.failures import (
    PENDING_FAILURES,
    UNCLUSTERED,
    existing_clusters,
    pending_failures,
    store_clusters,
    store_excerpts,
    unclustered,
)

EXCERPTS = dg.AssetKey(["models", "failure_excerpts"])
CLUSTERS = dg.AssetKey(["models", "failure_clusters"])


@dg.asset(
    key=EXCERPTS,
    deps=inputs(PENDING_FAILURES, itself=EXCERPTS),
    kinds={"python", "duckdb"},
    group_name="models",
    automation_condition=dg.AutomationCondition.eager(),
    description="The few redacted lines that explain each failed CI job, and their fingerprint.",
)
def failure_excerpts(duckdb: DuckDBResource) -> dg.MaterializeResult:
    from models.recurrence.excerpts import excerpt_failures

    with warehouse(duckdb) as conn:
        todo = pending_failures(conn)
    rows = excerpt_failures(todo)
    with warehouse(duckdb) as conn:
        store_excerpts(conn, rows)
        total = conn.execute("SELECT count(*) FROM models.failure_excerpts").fetchone()[0]
    return dg.MaterializeResult(
        metadata={
            "excerpted_now": len(rows),
            "without_excerpt": sum(1 for r in rows if r.fingerprint is None),
            "dagster/row_count": total,
        }
    )


@dg.asset(
    key=CLUSTERS,
    deps=inputs(UNCLUSTERED, itself=CLUSTERS),
    kinds={"scikitlearn", "duckdb"},
    group_name="models",
    automation_condition=dg.AutomationCondition.eager(),
    description="Clusters of near-identical failure fingerprints (TF-IDF, cosine); ids are stable.",
)
def failure_clusters(duckdb: DuckDBResource) -> dg.MaterializeResult:
    from models.logs.clusters import DEFAULT_THRESHOLD  # scikit-learn: loaded when clustering
    from models.recurrence.clustering import assign

    with warehouse(duckdb) as conn:
        rows = unclustered(conn)
        existing = existing_clusters(conn)
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
