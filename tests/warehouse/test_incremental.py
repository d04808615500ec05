"""Incremental builds: files skipped by size and mtime, core rebuilt by key, and a warehouse
that equals a from-scratch build of the same exports, table by table."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

import warehouse.loader as loader
import warehouse.transform as transform
from followthrough.benchrun import day_of, link_tree
from followthrough.commands.build import build
from models.settings import Settings
from warehouse.db import connect
from warehouse.ingest import ingest
from warehouse.sources import JIRA

# Columns that record when or how a file was read, not what it holds.
READ_COLUMNS = ("loaded_at", "quarantined_at", "checked_at", "mtime_ns")
HOUR_NS = 3600 * 10**9


def table_hashes(path: Path) -> dict[str, tuple[int, int]]:
    """`schema.table` -> (rows, order-independent hash of every row but its read times)."""
    conn = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        for schema, name in conn.execute(
                "SELECT table_schema, table_name FROM information_schema.tables WHERE "
                "table_schema IN ('raw', 'core', 'models', 'marts') ORDER BY ALL").fetchall():
            cols = ", ".join(f'"{c}"' for (c,) in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
                "AND table_name = ? ORDER BY ordinal_position", [schema, name]).fetchall()
                if c not in READ_COLUMNS)
            out[f"{schema}.{name}"] = conn.execute(
                f"SELECT count(*), coalesce(sum(hash({cols})), 0) FROM {schema}.{name}").fetchone()
        return out
    finally:
        conn.close()


def differing(a: dict[str, tuple[int, int]], b: dict[str, tuple[int, int]]) -> list[str]:
    return sorted(t for t in set(a) | set(b) if a.get(t) != b.get(t))


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Sizes of the files the loader hashed (read whole), in order."""
    calls: list[int] = []
    real = loader.sha256_of

    def counting(data: bytes) -> str:
        calls.append(len(data))
        return real(data)

    monkeypatch.setattr(loader, "sha256_of", counting)
    return calls


def _jira_file(vendor_payload, root: Path, key: str) -> Path:
    payload = vendor_payload("jira_search_jql_response.json")
    payload["issues"][0]["key"] = key
    target = root / "jira/issues/2023-06.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(payload))
    return target


def _age(path: Path, ns: int) -> None:
    """Set the file's modification time `ns` nanoseconds in the past."""
    when = time.time_ns() - ns
    os.utime(path, ns=(when, when))


def test_unchanged_file_is_not_read_again(vendor_payload, tmp_path: Path,
                                          hashed: list[int]) -> None:
    root = tmp_path / "exports"
    target = _jira_file(vendor_payload, root, "LEDG-1")
    _age(target, HOUR_NS)
    conn = connect(tmp_path / "w.duckdb")
    try:
        [first] = ingest(conn, root, [JIRA])
        assert first.files_loaded == 1 and len(hashed) == 1
        [second] = ingest(conn, root, [JIRA])
        assert second.files_seen == 1 and second.files_loaded == 0
        assert len(hashed) == 1  # skipped on size and mtime: not even read
        [forced] = ingest(conn, root, [JIRA], force=True)
        assert forced.files_loaded == 1 and len(hashed) == 2
    finally:
        conn.close()


def test_rewrite_of_the_same_size_is_reloaded_when_its_mtime_changes(
        vendor_payload, tmp_path: Path, hashed: list[int]) -> None:
    root = tmp_path / "exports"
    target = _jira_file(vendor_payload, root, "LEDG-1")
    _age(target, 2 * HOUR_NS)
    conn = connect(tmp_path / "w.duckdb")
    try:
        ingest(conn, root, [JIRA])
        size = target.stat().st_size
        _jira_file(vendor_payload, root, "LEDG-2")  # same length, other contents
        _age(target, HOUR_NS)
        assert target.stat().st_size == size
        [result] = ingest(conn, root, [JIRA])
        assert result.files_loaded == 1
        assert conn.execute("SELECT list(key) FROM raw.jira_issues").fetchone()[0] == ["LEDG-2"]
        assert conn.execute("SELECT count(*) FROM meta.reloaded_files").fetchone()[0] == 1
    finally:
        conn.close()


def test_file_written_just_before_its_read_is_hashed_again(
        vendor_payload, tmp_path: Path, hashed: list[int]) -> None:
    root = tmp_path / "exports"
    target = _jira_file(vendor_payload, root, "LEDG-1")  # mtime: now, as a fetch leaves it
    conn = connect(tmp_path / "w.duckdb")
    try:
        ingest(conn, root, [JIRA])
        # a rewrite within the same mtime tick would keep size and mtime: not trusted
        [again] = ingest(conn, root, [JIRA])
        assert again.files_loaded == 0 and len(hashed) == 2
        # once hashed with an mtime well before the read, the stat is trusted
        _age(target, HOUR_NS)
        ingest(conn, root, [JIRA])
        assert len(hashed) == 3
        [trusted] = ingest(conn, root, [JIRA])
        assert trusted.files_loaded == 0 and len(hashed) == 3
    finally:
        conn.close()


@pytest.fixture(scope="module")
def small_org(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A generated organisation (every file aged an hour, as exports landed earlier) and its
    last day."""
    from sampleorg import generate

    source = tmp_path_factory.mktemp("org") / "source"
    generate(source, seed=11, scale=0.01)
    days = set()
    for dirpath, _, files in os.walk(source):
        for name in files:
            path = Path(dirpath) / name
            _age(path, HOUR_NS)
            day = day_of(path.relative_to(source))
            if day:
                days.add(day)
    return source, max(days)


@pytest.fixture
def by_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, bool]]]:
    """(table, rebuilt by key) for every rebuild of a table that may be rebuilt by key."""
    seen: list[tuple[str, bool]] = []
    real = transform._rebuild_keys

    def spy(conn: duckdb.DuckDBPyConnection, s: transform.Step) -> bool:
        done = real(conn, s)
        seen.append((s.qualified, done))
        return done

    monkeypatch.setattr(transform, "_rebuild_keys", spy)
    yield seen


def rebuilds(by_key: list[tuple[str, bool]], table: str) -> list[bool]:
    """Whether each rebuild of `table` so far went by key."""
    return [done for name, done in by_key if name == table]


BY_KEY = ("core.ci_jobs", "core.ci_failures", "core.deployments")


def _incremental_and_scratch(source: Path, last_day: str, tmp_path: Path,
                             extra: dict[str, str] | None = None) -> tuple[Path, Path]:
    """Build all but the last day, add it (and `extra` files), build again; then build the same
    folder from scratch. Returns (incremental, scratch) warehouses."""
    exports = tmp_path / "exports"
    link_tree(source, exports, lambda rel: day_of(rel) != last_day)
    inc = tmp_path / "inc.duckdb"
    assert build(Settings(warehouse=inc, exports=exports)).rebuilt
    link_tree(source, exports, lambda rel: day_of(rel) == last_day)
    for rel, text in (extra or {}).items():
        (exports / rel).parent.mkdir(parents=True, exist_ok=True)
        (exports / rel).write_text(text)
        _age(exports / rel, HOUR_NS // 2)
    summary = build(Settings(warehouse=inc, exports=exports))
    assert summary.rebuilt and not summary.failed_partitions
    scratch = tmp_path / "scratch.duckdb"
    build(Settings(warehouse=scratch, exports=exports))
    return inc, scratch


def test_incremental_day_equals_a_build_from_scratch(
        small_org: tuple[Path, str], tmp_path: Path, by_key: list[tuple[str, bool]]) -> None:
    source, last_day = small_org
    inc, scratch = _incremental_and_scratch(source, last_day, tmp_path)
    # the first build rebuilt them whole, the incremental one by key (then the scratch build)
    for table in BY_KEY:
        assert rebuilds(by_key, table) == [False, True, False], table
    a, b = table_hashes(inc), table_hashes(scratch)
    assert differing(a, b) == []
    assert a["core.ci_jobs"][0] > 0 and a["models.failure_excerpts"][0] > 0


def _rerun_day(source: Path, last_day: str) -> dict[str, str]:
    """A file of the last day re-running an earlier run: the run's next attempt, one of its
    jobs again with the other conclusion, one new job, and a record of the wrong shape."""
    runs_dir, jobs_dir = source / "github/runs", source / "github/jobs"
    earlier = sorted(p for p in jobs_dir.glob("*.json") if p.stem < last_day)[len(
        list(jobs_dir.glob("*.json"))) // 2]
    jobs = json.loads(earlier.read_text())["jobs"]
    job = dict(jobs[0])
    runs = json.loads((runs_dir / earlier.name).read_text())["workflow_runs"]
    run = dict(next(r for r in runs if r["id"] == job["run_id"]))
    run["run_attempt"] = int(run.get("run_attempt") or 1) + 1
    run["event"] = "workflow_dispatch"
    job["conclusion"] = "success" if job.get("conclusion") != "success" else "failure"
    job["run_attempt"] = run["run_attempt"]
    new_job = dict(job, id=int(job["id"]) + 10**9, name=f"{job['name']} (rerun)")
    day = f"{last_day}.rerun"
    return {
        f"github/runs/{day}.json": json.dumps({"total_count": 1, "workflow_runs": [run]}),
        f"github/jobs/{day}.json": json.dumps(
            {"total_count": 3, "jobs": [job, new_job, {"id": "not a job"}]}),
    }


def test_rerun_of_an_existing_job_equals_a_build_from_scratch(
        small_org: tuple[Path, str], tmp_path: Path, by_key: list[tuple[str, bool]]) -> None:
    source, last_day = small_org
    extra = _rerun_day(source, last_day)
    inc, scratch = _incremental_and_scratch(source, last_day, tmp_path, extra)
    for table in BY_KEY:
        assert rebuilds(by_key, table)[1], table
    a, b = table_hashes(inc), table_hashes(scratch)
    assert differing(a, b) == []
    conn = duckdb.connect(str(inc), read_only=True)
    try:
        job = json.loads(extra[next(k for k in extra if "/jobs/" in k)])["jobs"][0]
        assert conn.execute("SELECT conclusion, event FROM core.ci_jobs WHERE job_id = ?",
                            [job["id"]]).fetchone() == (job["conclusion"], "workflow_dispatch")
        assert conn.execute("SELECT count(*) FROM raw.quarantine WHERE path LIKE '%rerun%'"
                            ).fetchone()[0] == 1
    finally:
        conn.close()


def test_a_reloaded_file_rebuilds_the_table_whole(
        small_org: tuple[Path, str], tmp_path: Path, by_key: list[tuple[str, bool]]) -> None:
    """Rows a changed file no longer holds are in no list of changed keys."""
    source, last_day = small_org
    exports = tmp_path / "exports"
    link_tree(source, exports, lambda rel: True)
    inc = tmp_path / "inc.duckdb"
    build(Settings(warehouse=inc, exports=exports))
    jobs_file = exports / "github/jobs" / f"{last_day}.json"
    doc = json.loads(jobs_file.read_text())
    gone = doc["jobs"].pop()["id"]
    jobs_file.unlink()  # a hard link: write a new file, not through to the source
    jobs_file.write_text(json.dumps(doc))
    build(Settings(warehouse=inc, exports=exports))
    for table in ("core.ci_jobs", "core.ci_failures"):
        assert rebuilds(by_key, table)[1] is False, table
    scratch = tmp_path / "scratch.duckdb"
    build(Settings(warehouse=scratch, exports=exports))
    conn = duckdb.connect(str(inc), read_only=True)
    try:
        assert conn.execute("SELECT count(*) FROM core.ci_jobs WHERE job_id = ?",
                            [gone]).fetchone()[0] == 0
    finally:
        conn.close()
    assert differing(table_hashes(inc), table_hashes(scratch)) == []


class Steps:
    """A StepListener recording the steps each build ran."""

    def __init__(self) -> None:
        self.steps: list[str] = []

    def run_started(self, name: str, steps: int) -> None: ...
    def step_started(self, step: str) -> None:
        self.steps.append(step)

    def step_finished(self, step: str, ok: bool) -> None: ...
    def run_finished(self, name: str, ok: bool) -> None: ...


def test_only_what_a_changed_source_feeds_is_rebuilt(
        contracts_export: Path, vendor_payload, tmp_path: Path) -> None:
    for path in contracts_export.rglob("*"):
        if path.is_file():
            _age(path, HOUR_NS)
    warehouse = tmp_path / "w.duckdb"
    first = Steps()
    build(Settings(warehouse=warehouse, exports=contracts_export), listener=first)
    assert "core__ci_jobs" in first.steps and "core__tickets" in first.steps
    payload = vendor_payload("jira_search_jql_response.json")
    payload["issues"][0]["fields"]["summary"] = "Changed after the first build"
    target = contracts_export / "jira/issues/2025-06.json"
    target.write_text(json.dumps(payload))
    _age(target, HOUR_NS // 2)
    second = Steps()
    summary = build(Settings(warehouse=warehouse, exports=contracts_export), listener=second)
    assert [r.source for r in summary.loads if r.changed] == ["raw/jira"]
    assert "core__tickets" in second.steps and "marts__time_to_ticket" in second.steps
    assert "core__ci_jobs" not in second.steps and "core__deployments" not in second.steps
    assert "models__failure_excerpts" not in second.steps
    scratch = tmp_path / "scratch.duckdb"
    build(Settings(warehouse=scratch, exports=contracts_export))
    assert differing(table_hashes(warehouse), table_hashes(scratch)) == []
