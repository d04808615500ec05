"""The partitioned excerpt stage: buckets of repositories excerpted side by side, staged as
Parquet, merged by one writer; the same warehouse whatever the number of processes."""

from __future__ import annotations

import shutil
from dataclasses import fields
from pathlib import Path

import duckdb
import pytest

from followthrough.cli import main
from followthrough.commands.build import PartitionsFailed, build
from models.recurrence.excerpts import ExcerptRow
from models.settings import Settings
from pipelines.partitions import REPO_BUCKET_PARTITIONS, REPO_BUCKETS
from pipelines.run import run_partition
from warehouse.failures import (
    EXCERPT_SCHEMA,
    bucket_of,
    merge_staged_excerpts,
    pending_by_bucket,
    staged_file,
    staging_dir,
)


def table_hashes(path: Path) -> dict[str, tuple[int, int]]:
    """Every raw/core/models/marts table: (rows, order-independent hash of its rows)."""
    conn = duckdb.connect(str(path), read_only=True)
    try:
        tables = conn.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_schema IN ('raw', 'core', 'models', 'marts') ORDER BY ALL").fetchall()
        out = {}
        for (name,) in tables:
            cols = [c for (c,) in conn.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema || '.' || table_name = ? ORDER BY ordinal_position",
                [name]).fetchall() if c not in ("loaded_at", "quarantined_at", "checked_at")]
            row = ", ".join(f'"{c}"' for c in cols)
            out[name] = conn.execute(
                f"SELECT count(*), coalesce(sum(hash({row})), 0) FROM {name}").fetchone()
        return out
    finally:
        conn.close()


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sampleorg import generate

    exports = tmp_path_factory.mktemp("partitions") / "exports"
    generate(exports, seed=11, scale=0.02)
    return exports


@pytest.fixture(scope="module")
def one_process(org: Path) -> Path:
    """The organisation built with the whole excerpt stage in the building process."""
    warehouse = org.parent / "one.duckdb"
    summary = build(Settings(warehouse=warehouse, exports=org), processes=1)
    assert summary.rebuilt and summary.processes == 1 and not summary.failed_checks
    return warehouse


def _copy(warehouse: Path, to: Path) -> Path:
    shutil.copyfile(warehouse, to)
    return to


def _excerpt_count(warehouse: Path) -> int:
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        return conn.execute("SELECT count(*) FROM models.failure_excerpts").fetchone()[0]
    finally:
        conn.close()


def test_buckets_are_the_partitions_and_match_duckdb() -> None:
    assert len(REPO_BUCKET_PARTITIONS.get_partition_keys()) == REPO_BUCKETS
    assert [f.name for f in fields(ExcerptRow)] == EXCERPT_SCHEMA.names
    conn = duckdb.connect()
    for repo in ("acme/web-app", "acme/payments-api", "", "org/ünïcode"):
        sql = conn.execute(f"SELECT md5_number(?) % {REPO_BUCKETS}", [repo]).fetchone()[0]
        assert bucket_of(repo, REPO_BUCKETS) == sql
    assert bucket_of(None, REPO_BUCKETS) == bucket_of("", REPO_BUCKETS)


def test_one_and_two_processes_build_the_same_warehouse(org: Path, one_process: Path) -> None:
    warehouse = org.parent / "two.duckdb"
    summary = build(Settings(warehouse=warehouse, exports=org), processes=2)
    assert summary.processes == 2 and not summary.failed_checks
    assert _excerpt_count(warehouse) > 0
    assert table_hashes(warehouse) == table_hashes(one_process)
    # the merge took every staged file
    assert not list(staging_dir(warehouse).glob("*.parquet"))


def test_a_partition_rerun_replaces_its_rows(one_process: Path, tmp_path: Path) -> None:
    warehouse = _copy(one_process, tmp_path / "w.duckdb")
    before = table_hashes(warehouse)
    conn = duckdb.connect(str(warehouse))
    repo, total = conn.execute(
        "SELECT repo, count(*) OVER () FROM core.ci_failures ORDER BY repo LIMIT 1").fetchone()
    bucket = bucket_of(repo, REPO_BUCKETS)
    # forget the bucket's excerpts: its failures are pending again, and only its
    conn.execute(
        "DELETE FROM models.failure_excerpts WHERE job_id IN (SELECT job_id FROM "
        f"core.ci_failures WHERE md5_number(coalesce(repo, '')) % {REPO_BUCKETS} = ?)", [bucket])
    pending = pending_by_bucket(conn, REPO_BUCKETS)
    conn.close()
    assert list(pending) == [bucket] and 0 < pending[bucket] < total
    partition = f"{bucket:02d}"
    staging = staging_dir(warehouse)
    staging.mkdir(parents=True)
    killed = staging / f".{staged_file(staging, partition).name}.4242.tmp"  # a killed run's
    killed.write_bytes(b"PAR1 half a file")
    first = run_partition(str(warehouse), partition)
    assert not killed.exists()
    second = run_partition(str(warehouse), partition)  # a rerun before the merge
    assert first.succeeded and second.succeeded, (first.error, second.error)
    assert first.metadata["excerpted_now"] == second.metadata["excerpted_now"] == str(pending[bucket])
    assert [p.name for p in staging.glob("*.parquet")] == [staged_file(staging, partition).name]
    conn = duckdb.connect(str(warehouse))
    assert merge_staged_excerpts(conn, staging) == (pending[bucket], 0)
    assert merge_staged_excerpts(conn, staging) == (0, 0)  # nothing left to merge
    conn.close()
    assert table_hashes(warehouse)["models.failure_excerpts"] == before["models.failure_excerpts"]
    # a rerun after the merge finds nothing pending and changes nothing
    assert run_partition(str(warehouse), partition).metadata["excerpted_now"] == "0"
    conn = duckdb.connect(str(warehouse))
    assert merge_staged_excerpts(conn, staging) == (0, 0)
    conn.close()
    assert table_hashes(warehouse) == before


@pytest.mark.parametrize("processes", [1, 2])
def test_a_failing_partition_keeps_the_others(org: Path, one_process: Path, processes: int,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Over 2 processes a bucket is a run; in 1 process the buckets share one run."""
    warehouse = org.parent / f"broken-{processes}.duckdb"
    conn = duckdb.connect(str(one_process), read_only=True)
    counts = dict(conn.execute(
        f"SELECT md5_number(coalesce(repo, '')) % {REPO_BUCKETS}, count(*) FROM core.ci_failures "
        "JOIN raw.ci_logs USING (provider, job_id) GROUP BY ALL").fetchall())
    conn.close()
    bucket = max(counts, key=lambda b: (counts[b], b))
    partition = f"{bucket:02d}"
    # the bucket cannot hand its rows over: a folder stands where its Parquet file goes
    blocked = staged_file(staging_dir(warehouse), partition)
    (blocked / "in-the-way").mkdir(parents=True)
    with pytest.raises(PartitionsFailed) as err:
        build(Settings(warehouse=warehouse, exports=org), processes=processes)
    summary = err.value.summary
    assert [p.partition for p in summary.failed_partitions] == [partition]
    message = str(err.value)
    assert f"models/failure_excerpt_parts partition {partition}" in message
    assert str(blocked) in message and "cannot stage" in message
    assert all(bucket_of(r, REPO_BUCKETS) == bucket for r in summary.failed_partitions[0].repos)
    assert any(r in message for r in summary.failed_partitions[0].repos)
    # every other bucket's failures were excerpted, merged and clustered
    conn = duckdb.connect(str(warehouse), read_only=True)
    assert conn.execute(
        "SELECT count(*) FROM models.failure_excerpts e JOIN core.ci_failures USING "
        f"(provider, job_id) WHERE md5_number(coalesce(repo, '')) % {REPO_BUCKETS} = ?",
        [bucket]).fetchone()[0] == 0
    assert _excerpt_count(warehouse) == sum(counts.values()) - counts[bucket]
    clusters = set(conn.execute("SELECT * FROM models.failure_clusters").fetchall())
    assert clusters
    conn.close()
    # the command line: no export changed, but the bucket's failures are still pending, so it
    # rebuilds, fails the same partition again, prints the summary and exits 1
    code = main(["build", "--exports", str(org), "--warehouse", str(warehouse),
                 "--processes", str(processes), "-q"])
    out, errors = capsys.readouterr()
    assert code == 1
    assert f"partition failed: models/failure_excerpt_parts partition {partition}" in out
    assert "built in" in out and "1 partition(s) failed" in errors and str(blocked) in errors
    assert _excerpt_count(warehouse) == sum(counts.values()) - counts[bucket]
    # with the obstacle gone, the next build (no new files) excerpts what was left
    shutil.rmtree(blocked)
    again = build(Settings(warehouse=warehouse, exports=org), processes=processes)
    assert again.rebuilt and not again.failed_partitions and not again.failed_checks
    hashes = table_hashes(warehouse)
    assert hashes["models.failure_excerpts"] == table_hashes(one_process)["models.failure_excerpts"]
    # the clusters found without the bucket keep their ids; its fingerprints join or add some
    conn = duckdb.connect(str(warehouse), read_only=True)
    assert clusters <= set(conn.execute("SELECT * FROM models.failure_clusters").fetchall())
    assert conn.execute(
        "SELECT count(*) FROM models.failure_excerpts WHERE fingerprint IS NOT NULL AND "
        "fingerprint NOT IN (SELECT fingerprint FROM models.fingerprint_clusters)").fetchone()[0] == 0
    conn.close()


def test_excerpts_of_an_older_fingerprint_version_are_made_again(one_process: Path,
                                                                 tmp_path: Path) -> None:
    """An upgrade that changes fingerprints re-excerpts stored failures on the next build, even
    when no export changed, so old and new fingerprints never sit side by side."""
    warehouse = _copy(one_process, tmp_path / "upgraded.duckdb")
    conn = duckdb.connect(str(warehouse))
    try:
        total = conn.execute("SELECT count(*) FROM models.failure_excerpts").fetchone()[0]
        conn.execute("UPDATE models.failure_excerpts SET fingerprint_version = 'old' "
                     "WHERE job_id IN (SELECT job_id FROM models.failure_excerpts LIMIT 5)")
    finally:
        conn.close()
    summary = build(Settings(warehouse=warehouse, exports=one_process.parent / "exports"),
                    processes=1)
    assert summary.rebuilt
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        versions = conn.execute("SELECT fingerprint_version, count(*) FROM "
                                "models.failure_excerpts GROUP BY ALL").fetchall()
    finally:
        conn.close()
    from models.logs import FINGERPRINT_VERSION

    assert versions == [(FINGERPRINT_VERSION, total)]
