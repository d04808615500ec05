"""Loading export files over worker processes gives the rows of a load in one process.

Real worker processes (spawned), a real generated organisation with bad files added, real
DuckDB files; the thresholds that keep small exports in one process are lowered so the pool runs.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import pytest

import warehouse.loader as loader
from models.settings import Settings
from sampleorg import generate
from tests.faults.conftest import differing, table_hashes
from warehouse.db import connect
from warehouse.ingest import ingest
from warehouse.loader import LoadResult, Mapped, MapPool, Problem, Source, load_files
from warehouse.sources import ALL_SOURCES, GITHUB_JOBS, GITHUB_LOGS, read_log


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("parallel-load") / "exports"
    generate(root, seed=11, scale=0.02)
    jobs = sorted((root / "github" / "jobs").glob("*.json"))
    text = jobs[0].read_text(encoding="utf-8")
    jobs[0].write_text(text[: len(text) // 2], encoding="utf-8")  # truncated mid-record
    doc = json.loads(jobs[1].read_text(encoding="utf-8"))
    doc["jobs"][0]["started_at"] = "not a time"
    jobs[1].write_text(json.dumps(doc), encoding="utf-8")
    (root / "github" / "jobs" / "2020-01-01.json").write_bytes(b'{"jobs": [{"id": 1, "x": "\xff"}]}')
    return root


def _load(exports: Path, target: Path, processes: int) -> list[LoadResult]:
    conn = connect(target)
    try:
        s = Settings(warehouse=target, exports=exports)
        return ingest(conn, exports, ALL_SOURCES, payloads=s.raw_payloads, processes=processes)
    finally:
        conn.close()


def _summary(results: list[LoadResult]) -> list[tuple[str, int, int, int, int]]:
    return [(r.source, r.files_seen, r.files_loaded, r.records, r.quarantined) for r in results]


def test_workers_load_the_same_rows_and_quarantine_the_same_records(
        exports: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one = _load(exports, tmp_path / "one.duckdb", processes=1)
    monkeypatch.setattr(loader, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(loader, "TASK_FILES", 3)
    two = _load(exports, tmp_path / "two.duckdb", processes=2)
    assert _summary(two) == _summary(one)
    assert sum(r.quarantined for r in one) >= 3
    assert sorted(p for r in two for p in r.problems) == sorted(p for r in one for p in r.problems)
    a, b = table_hashes(tmp_path / "one.duckdb"), table_hashes(tmp_path / "two.duckdb")
    assert a["raw.github_jobs"][0] > 0 and a["raw.ci_logs"][0] > 0
    assert differing(a, b) == []
    # Nothing changed: the second load over workers reads every file and loads none.
    again = _load(exports, tmp_path / "two.duckdb", processes=2)
    assert sum(r.files_loaded for r in again) == 0
    assert differing(table_hashes(tmp_path / "two.duckdb"), b) == []


def _dies_in_a_worker(source: Source, path: Path, data: bytes,
                      ) -> tuple[list[Mapped], list[Problem]]:
    """A reader that kills the worker process reading one file (as the OOM killer would)."""
    if path.name.endswith("7.txt") and multiprocessing.parent_process() is not None:
        os._exit(9)
    return read_log(source, path, data)


def test_a_worker_that_dies_leaves_the_rest_to_this_process(
        exports: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(loader, "TASK_FILES", 4)
    logs = sorted((exports / "github" / "logs").rglob("*.txt"))
    assert any(p.name.endswith("7.txt") for p in logs)
    conn = connect(tmp_path / "w.duckdb")
    try:
        with MapPool(2) as pool:
            result = load_files(conn, GITHUB_LOGS, logs, read=_dies_in_a_worker, pool=pool)
            assert pool.broken
        assert result.files_loaded == len(logs) and not result.problems
        assert conn.execute("SELECT count(*) FROM raw.ci_logs").fetchone()[0] == len(logs)
    finally:
        conn.close()


def test_small_loads_start_no_worker(exports: Path, tmp_path: Path) -> None:
    """Below PARALLEL_MIN_BYTES of new files the pool is never started."""
    conn = connect(tmp_path / "w.duckdb")
    try:
        with MapPool(2) as pool:
            load_files(conn, GITHUB_JOBS, sorted((exports / "github" / "jobs").glob("*.json"))[:2],
                       pool=pool)
            assert pool._executor is None
    finally:
        conn.close()
