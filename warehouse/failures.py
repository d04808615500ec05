"""Reading and writing the failure-analysis tables (the SQL behind the failure assets).

The excerpt stage runs per bucket of repositories, in as many processes as there are buckets
to do: a bucket reads its pending failures through a read-only connection, excerpts them
without the warehouse open, and stages its rows as a Parquet file next to the warehouse. One
writer merges every staged file in a single transaction; a rerun of a bucket replaces its file
and the merge replaces rows by (provider, job_id), so nothing is ever counted twice.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from models.logs import FINGERPRINT_VERSION
from models.recurrence.excerpts import ExcerptRow, FailedLog
from warehouse.db import migrate, pending_migrations, transaction

if TYPE_CHECKING:  # clustering loads scipy; only the clustering step needs it
    from models.logs.clusters import Assignment, Cluster

# How long a bucket waits for another process's write to the warehouse to finish.
LOCK_WAIT_SECONDS = 120.0

EXCERPT_SCHEMA = pa.schema([
    ("provider", pa.string()),
    ("job_id", pa.int64()),
    ("log_path", pa.string()),
    ("log_bytes", pa.int64()),
    ("passing_job_id", pa.int64()),
    ("fingerprint", pa.string()),
    ("fingerprint_version", pa.string()),
    ("excerpt", pa.string()),
    ("total_lines", pa.int64()),
    ("notes", pa.list_(pa.string())),
])
_COLUMNS: list[str] = EXCERPT_SCHEMA.names  # the fields of ExcerptRow, in order


def _bucket_expr(column: str, buckets: int) -> str:
    return f"md5_number(coalesce({column}, '')) % {int(buckets)}"


def bucket_of(repo: str | None, buckets: int) -> int:
    """The bucket of a repository: the same number DuckDB's `md5_number(repo) % buckets` gives."""
    digest = hashlib.md5((repo or "").encode("utf-8")).digest()
    return int.from_bytes(digest, "little") % buckets


def _pending_sql(wanted: Collection[int] | None = None, buckets: int | None = None,
                 *, with_bucket: bool = False) -> str:
    """The pending-failures query, for every repository or for some buckets of them
    (`with_bucket`: each row also names its bucket)."""
    if wanted is None or buckets is None:
        in_f = in_j = "TRUE"
    else:
        listed = ", ".join(str(int(b)) for b in sorted(wanted)) or "NULL"
        # The buckets' repositories are listed first: hashing each of the few distinct names
        # is far cheaper than hashing every job row before the joins.
        repos = ("(SELECT r FROM (SELECT DISTINCT coalesce(repo, '') AS r FROM core.ci_failures) "
                 f"WHERE {_bucket_expr('r', buckets)} IN ({listed}))")
        in_f = f"coalesce(f.repo, '') IN {repos}"
        in_j = f"coalesce(j.repo, '') IN {repos}"
    extra = f", {_bucket_expr('f.repo', buckets)} AS bucket" if with_bucket and buckets else ""
    return (_PENDING_TEMPLATE.replace("{IN_F}", in_f).replace("{IN_J}", in_j)
            .replace("{BUCKET}", extra))


_PENDING_CTES = """
WITH logs AS (
    SELECT provider, job_id, path, bytes FROM raw.ci_logs
),
pending AS (
    SELECT f.provider, f.job_id, f.repo, f.workflow, f.job_name, f.failed_at, l.path, l.bytes
    FROM core.ci_failures f
    JOIN logs l USING (provider, job_id)
    LEFT JOIN models.failure_excerpts e USING (provider, job_id)
    WHERE ({IN_F})
      AND (e.job_id IS NULL OR e.log_path <> l.path OR e.log_bytes IS DISTINCT FROM l.bytes
           OR e.fingerprint_version IS DISTINCT FROM '{VERSION}')
),
passing AS (
    SELECT j.provider, j.job_id, j.repo, j.workflow, j.job_name, j.completed_at, l.path
    FROM core.ci_jobs j
    JOIN logs l USING (provider, job_id)
    WHERE j.conclusion = 'success' AND j.completed_at IS NOT NULL AND ({IN_J})
)
"""
# Excerpts made by an older excerpter or fingerprint (FINGERPRINT_VERSION) are made again.
_PENDING_CTES = _PENDING_CTES.replace("{VERSION}", FINGERPRINT_VERSION)
_PENDING_TEMPLATE = _PENDING_CTES + """
SELECT f.provider, f.job_id, f.path, p.job_id AS passing_job_id, p.path AS passing_path{BUCKET}
FROM pending f
ASOF LEFT JOIN passing p
  ON f.provider = p.provider AND f.repo = p.repo AND f.workflow = p.workflow
 AND f.job_name = p.job_name AND f.failed_at >= p.completed_at
ORDER BY f.failed_at NULLS LAST, f.job_id
"""
PENDING_FAILURES = _pending_sql()

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
    """Failures whose log has no current excerpt, in every repository."""
    return [FailedLog(*row) for row in conn.execute(PENDING_FAILURES).fetchall()]


def pending_in_buckets(conn: duckdb.DuckDBPyConnection, wanted: Collection[int],
                       buckets: int) -> dict[int, list[FailedLog]]:
    """`pending_failures` of several buckets in one query: a run that excerpts several
    buckets reads the warehouse once, not once per bucket."""
    out: dict[int, list[FailedLog]] = {int(b): [] for b in wanted}
    for *row, b in conn.execute(_pending_sql(wanted, buckets, with_bucket=True)).fetchall():
        out[int(b)].append(FailedLog(*row))
    return out


def pending_by_bucket(conn: duckdb.DuckDBPyConnection, buckets: int) -> dict[int, int]:
    """How many failures each bucket has to excerpt (buckets with none are left out)."""
    sql = (_PENDING_CTES.replace("{IN_F}", "TRUE").replace("{IN_J}", "FALSE")
           + f"SELECT {_bucket_expr('repo', buckets)} AS bucket, count(*) FROM pending "
           "GROUP BY bucket")
    return {int(b): int(n) for b, n in conn.execute(sql).fetchall()}


def never_excerpted(conn: duckdb.DuckDBPyConnection) -> bool:
    """Whether a failure with a log has no excerpt at all (what a failed or interrupted
    partition leaves; an unreadable log still gets a row, with a note), or one made by an
    older FINGERPRINT_VERSION, so an upgrade re-excerpts even when no export changed."""
    try:
        return bool(conn.execute(
            "SELECT EXISTS (SELECT 1 FROM core.ci_failures f "
            "JOIN raw.ci_logs l USING (provider, job_id) "
            "ANTI JOIN models.failure_excerpts e USING (provider, job_id)) "
            "OR EXISTS (SELECT 1 FROM models.failure_excerpts WHERE fingerprint_version <> ?)",
            [FINGERPRINT_VERSION]).fetchone()[0])
    except duckdb.CatalogException:  # core not built yet
        return False


def repos_in_bucket(conn: duckdb.DuckDBPyConnection, bucket: int, buckets: int) -> list[str]:
    return [r for (r,) in conn.execute(
        f"SELECT DISTINCT repo FROM core.ci_failures WHERE {_bucket_expr('repo', buckets)} = ? "
        "ORDER BY repo", [bucket]).fetchall()]


def _arrow(rows: Sequence[ExcerptRow]) -> pa.Table:
    return pa.table({n: [getattr(r, n) for r in rows] for n in _COLUMNS}, schema=EXCERPT_SCHEMA)


def store_excerpts(conn: duckdb.DuckDBPyConnection, rows: Sequence[ExcerptRow]) -> None:
    if not rows:
        return
    batch = _arrow(rows)  # noqa: F841
    cols = ", ".join(_COLUMNS)
    conn.execute(
        f"INSERT OR REPLACE INTO models.failure_excerpts ({cols}) SELECT {cols} FROM batch"
    )


def staging_dir(database: str | os.PathLike[str]) -> Path:
    """Where buckets leave their excerpts for the merge: a folder beside the warehouse file."""
    path = Path(database)
    return path.with_name(path.name + ".staging") / "failure_excerpts"


def staged_file(staging: Path, partition: str) -> Path:
    return staging / f"bucket={partition}.parquet"


def stage_excerpts(staging: Path, partition: str, rows: Sequence[ExcerptRow]) -> Path:
    """Write a bucket's rows for the merge, replacing what an earlier run of it left.

    Written under a temporary name and renamed, so the merge never reads half a file.
    """
    staging.mkdir(parents=True, exist_ok=True)
    target = staged_file(staging, partition)
    for stale in staging.glob(f".{target.name}.*.tmp"):  # left by a killed run of the bucket
        stale.unlink(missing_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    table = _arrow(rows).append_column(
        "staged_at", pa.array([time.time_ns()] * len(rows), pa.int64()))
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OSError(exc.errno, f"cannot stage the excerpts of bucket {partition} at {target}: "
                                 f"{exc.strerror or exc}") from exc
    return target


def merge_staged_excerpts(conn: duckdb.DuckDBPyConnection, staging: Path) -> tuple[int, int]:
    """Move every staged row into models.failure_excerpts in one transaction.

    Returns (rows merged, of which without an excerpt). A staged file is removed once its rows
    are committed, unless a bucket replaced it meanwhile (then the next merge takes it).
    """
    files = sorted(f for f in staging.glob("bucket=*.parquet") if f.is_file())
    if not files:
        return 0, 0
    seen = {f: f.stat() for f in files}
    cols = ", ".join(_COLUMNS)
    source = (
        f"SELECT {cols} FROM read_parquet(?) "
        # a job staged by two files (the bucket count changed between runs): the newest wins
        "QUALIFY row_number() OVER (PARTITION BY provider, job_id ORDER BY staged_at DESC) = 1"
    )
    paths = [str(f) for f in files]
    with transaction(conn):
        merged, without = conn.execute(
            f"SELECT count(*), count(*) FILTER (WHERE fingerprint IS NULL) FROM ({source})",
            [paths]).fetchone()
        conn.execute(f"INSERT OR REPLACE INTO models.failure_excerpts ({cols}) {source}", [paths])
    for f, st in seen.items():
        try:
            now = f.stat()
        except FileNotFoundError:
            continue
        if (now.st_mtime_ns, now.st_size, now.st_ino) == (st.st_mtime_ns, st.st_size, st.st_ino):
            f.unlink(missing_ok=True)
    return int(merged), int(without)


def _locked(exc: duckdb.Error) -> bool:
    return "lock" in str(exc).lower()


def _retry(open_: Callable[[], duckdb.DuckDBPyConnection], path: Path,
           wait: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait
    delay = 0.05
    while True:
        try:
            return open_()
        except duckdb.IOException as exc:
            if not _locked(exc) or time.monotonic() > deadline:
                raise duckdb.IOException(
                    f"{path}: another process kept the warehouse locked for {wait:.0f} s: {exc}"
                ) from exc
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


@contextmanager
def reading(database: str | os.PathLike[str],
            wait: float = LOCK_WAIT_SECONDS) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection, so many buckets can read at once; waits out another process's
    write. A warehouse behind the code's schema is first migrated (briefly as the writer)."""
    path = Path(database)
    if not path.is_file():
        raise FileNotFoundError(f"no warehouse at {path}: the core tables must be built first")
    conn = _retry(lambda: duckdb.connect(str(path), read_only=True), path, wait)
    if pending_migrations(conn):
        conn.close()
        writer = _retry(lambda: duckdb.connect(str(path)), path, wait)
        try:
            migrate(writer)
        finally:
            writer.close()
        conn = _retry(lambda: duckdb.connect(str(path), read_only=True), path, wait)
    try:
        conn.execute("SET TimeZone = 'UTC'")
        yield conn
    finally:
        conn.close()


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
