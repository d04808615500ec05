"""Reading and writing the failure-analysis tables (the SQL behind the failure assets)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from models.recurrence.excerpts import ExcerptRow, FailedLog
from warehouse.db import transaction

if TYPE_CHECKING:  # clustering loads scikit-learn; only the clustering step needs it
    from models.logs.clusters import Assignment, Cluster

PENDING_FAILURES = """
WITH logs AS (
    SELECT provider, job_id, path, bytes FROM raw.ci_logs
),
pending AS (
    SELECT f.provider, f.job_id, f.repo, f.workflow, f.job_name, f.failed_at, l.path, l.bytes
    FROM core.ci_failures f
    JOIN logs l USING (provider, job_id)
    LEFT JOIN models.failure_excerpts e USING (provider, job_id)
    WHERE e.job_id IS NULL OR e.log_path <> l.path OR e.log_bytes IS DISTINCT FROM l.bytes
),
passing AS (
    SELECT j.provider, j.job_id, j.repo, j.workflow, j.job_name, j.completed_at, l.path
    FROM core.ci_jobs j
    JOIN logs l USING (provider, job_id)
    WHERE j.conclusion = 'success' AND j.completed_at IS NOT NULL
)
SELECT f.provider, f.job_id, f.path, p.job_id AS passing_job_id, p.path AS passing_path
FROM pending f
ASOF LEFT JOIN passing p
  ON f.provider = p.provider AND f.repo = p.repo AND f.workflow = p.workflow
 AND f.job_name = p.job_name AND f.failed_at >= p.completed_at
ORDER BY f.failed_at NULLS LAST, f.job_id
"""

UNCLUSTERED = """
SELECT e.fingerprint, arg_min(e.excerpt, (f.failed_at, e.job_id)) AS excerpt
FROM models.failure_excerpts e
JOIN core.ci_failures f USING (provider, job_id)
WHERE e.fingerprint IS NOT NULL
  AND e.fingerprint NOT IN (SELECT fingerprint FROM models.fingerprint_clusters)
GROUP BY e.fingerprint
ORDER BY min(f.failed_at), e.fingerprint
"""


def pending_failures(conn: duckdb.DuckDBPyConnection) -> list[FailedLog]:
    return [FailedLog(*row) for row in conn.execute(PENDING_FAILURES).fetchall()]


def store_excerpts(conn: duckdb.DuckDBPyConnection, rows: Sequence[ExcerptRow]) -> None:
    if not rows:
        return
    names = [f.name for f in fields(ExcerptRow)]
    batch = pa.table({n: [getattr(r, n) for r in rows] for n in names})  # noqa: F841
    cols = ", ".join(names)
    conn.execute(
        f"INSERT OR REPLACE INTO models.failure_excerpts ({cols}) SELECT {cols} FROM batch"
    )


def unclustered(conn: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return conn.execute(UNCLUSTERED).fetchall()


def existing_clusters(conn: duckdb.DuckDBPyConnection) -> list[Cluster]:
    rows = conn.execute(
        "SELECT cluster_id, representative FROM models.failure_clusters ORDER BY cluster_id"
    ).fetchall()
    from models.logs.clusters import Cluster

    return [Cluster(cid, rep) for cid, rep in rows]


def store_clusters(
    conn: duckdb.DuckDBPyConnection, assignments: Sequence[Assignment], created: Sequence[Cluster]
) -> None:
    founders = {a.cluster_id: a.fingerprint for a in assignments if a.is_new_cluster}
    with transaction(conn):
        if created:
            c_tbl = pa.table({  # noqa: F841
                "cluster_id": [c.cluster_id for c in created],
                "representative": [c.representative for c in created],
                "founded_by": [founders[c.cluster_id] for c in created],
            })
            conn.execute("INSERT INTO models.failure_clusters SELECT * FROM c_tbl")
        if assignments:
            a_tbl = pa.table({  # noqa: F841
                "fingerprint": [a.fingerprint for a in assignments],
                "cluster_id": [a.cluster_id for a in assignments],
                "similarity": [a.similarity for a in assignments],
            })
            conn.execute("INSERT OR REPLACE INTO models.fingerprint_clusters SELECT * FROM a_tbl")
