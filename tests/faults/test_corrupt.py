"""A corrupt warehouse file: one line naming it and saying what to do; `build --rebuild` moves it
aside and rebuilds the same warehouse from the exports (the source of truth)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from tests.faults.conftest import FaultsOrg, differing, run_build, table_hashes
from warehouse.db import warehouse_problem


def _corrupt_header(path: Path) -> None:
    with path.open("r+b") as fh:
        fh.write(b"\xde\xad\xbe\xef" * 1024)


@pytest.mark.parametrize("damage", ["header", "not a database"])
def test_corrupt_file_is_named_with_the_rebuild_and_the_rebuild_restores_it(
        faults_org: FaultsOrg, tmp_path: Path, damage: str) -> None:
    warehouse = faults_org.copy_of(faults_org.reference, tmp_path)
    if damage == "header":
        _corrupt_header(warehouse)
    else:
        warehouse.write_text("id,name\n1,not a warehouse\n", encoding="utf-8")
    damaged = warehouse.read_bytes()

    res = run_build(faults_org.exports, warehouse, cwd=tmp_path)
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr[-3000:]
    assert lines[0].startswith(f"followthrough build: {warehouse}: the warehouse file is corrupt")
    assert "followthrough build --rebuild" in lines[0]
    assert warehouse.read_bytes() == damaged  # a failed open writes nothing

    res = run_build(faults_org.exports, warehouse, "--rebuild", cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    moved = [p for p in tmp_path.iterdir() if p.name.startswith("warehouse.duckdb.moved-")]
    assert len(moved) == 1 and moved[0].read_bytes() == damaged  # kept for inspection
    assert f"moved {warehouse} aside to {moved[0]}" in res.stderr
    assert "could not copy automation.outbox" in res.stdout  # said, not hidden
    assert differing(table_hashes(warehouse), table_hashes(faults_org.reference)) == []


def test_rebuild_keeps_the_automation_outbox(faults_org: FaultsOrg, tmp_path: Path) -> None:
    """The outbox records what was already sent; no export holds it, so a rebuild copies it."""
    warehouse = faults_org.copy_of(faults_org.reference, tmp_path)
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute(
            "INSERT INTO automation.outbox (idempotency_key, kind, target, status, payload, "
            "created_at, attempts) VALUES ('github:42', 'ticket', 'jira', 'sent', '{}', now(), 1)")
    res = run_build(faults_org.exports, warehouse, "--rebuild", cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "automation.outbox: 1 message(s) copied" in res.stdout
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        assert conn.execute("SELECT idempotency_key, status FROM automation.outbox").fetchall() == [
            ("github:42", "sent")]
    assert differing(table_hashes(warehouse), table_hashes(faults_org.reference)) == []


def test_a_damaged_block_found_during_a_build_is_reported_as_corruption(tmp_path: Path) -> None:
    """DuckDB finds a bad block only when it reads it, deep inside a Dagster step: the error
    still reaches the user as the corrupt-file line."""
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE t AS SELECT range AS i, md5(range::VARCHAR) AS s "
                     "FROM range(300000)")
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.seek(size // 2)
        fh.write(b"\xff" * 2**18)
    conn = duckdb.connect(str(path))
    try:
        with pytest.raises(duckdb.Error) as caught:
            conn.execute("SELECT sum(hash(s)) FROM t").fetchone()
    finally:
        conn.close()
    wrapped = RuntimeError("Error occurred while executing op")
    wrapped.__cause__ = caught.value
    line = warehouse_problem(wrapped, path)
    assert line is not None and line.startswith(f"{path}: the warehouse file is corrupt")
    assert "--rebuild" in line
    shutil.rmtree(tmp_path, ignore_errors=True)
