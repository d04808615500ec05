"""`kill -9` during `followthrough build`, then a rerun: exactly the warehouse of an uninterrupted run.

Raw loads commit file batches in transactions, and each core/models/marts table is replaced in
one; what a kill can leave behind is raw rows newer than the last rebuild, which the rerun must
notice and rebuild from (the last day's files are then already loaded, so nothing looks new).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from followthrough.commands.build import build
from models.settings import Settings
from tests.faults.conftest import (
    FaultsOrg,
    build_cmd,
    build_env,
    differing,
    run_build,
    table_hashes,
)

TRIALS = 10
SEED = 1313


def _raw_files(warehouse: Path) -> int | None:
    """Files recorded as loaded, or None when the file does not open (or has no tables yet)."""
    try:
        conn = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return None
    try:
        return conn.execute("SELECT count(*) FROM raw.files").fetchone()[0]
    except duckdb.Error:
        return None
    finally:
        conn.close()


def _kill_build_at(exports: Path, warehouse: Path, after: float, cwd: Path) -> bool:
    """Start a build and SIGKILL its process group `after` seconds in; False if it ended first."""
    proc = subprocess.Popen(build_cmd(exports, warehouse), cwd=cwd, env=build_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        proc.wait(timeout=after)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return True
    return False


@pytest.mark.slow
def test_kill_9_at_random_points_then_rerun_gives_the_uninterrupted_warehouse(
        faults_org: FaultsOrg, tmp_path: Path) -> None:
    org = faults_org
    reference = table_hashes(org.reference)
    # A first build of the whole export folder must agree with base + the day built on top.
    scratch = tmp_path / "scratch.duckdb"
    t0 = time.perf_counter()
    res = run_build(org.exports, scratch, cwd=tmp_path)
    first_seconds = time.perf_counter() - t0
    assert res.returncode == 0, res.stderr[-3000:]
    assert differing(table_hashes(scratch), reference) == []
    total_files = _raw_files(org.reference)

    rng = random.Random(SEED)
    # One kill point in each tenth of a build's duration, in a seeded order: start-up, loads and
    # rebuild are all hit, not only the rebuild that takes most of the time.
    tenths = rng.sample(range(TRIALS), TRIALS)
    landed: list[str] = []
    for trial in range(TRIALS):
        where = tmp_path / f"trial-{trial}"
        incremental = trial % 2 == 1
        if incremental:  # the last day's files have landed on a built warehouse
            warehouse = org.copy_of(org.base, where)
            span = org.incremental_seconds
        else:  # a first build into an empty warehouse
            where.mkdir()
            warehouse = where / "warehouse.duckdb"
            span = first_seconds
        before = _raw_files(warehouse) or 0
        after = (tenths[trial] + rng.random()) / TRIALS * span
        killed = _kill_build_at(org.exports, warehouse, after, where)
        for _ in range(4):  # the machine ran faster than when measured: kill earlier
            if killed:
                break
            shutil.rmtree(where)
            where.mkdir()
            if incremental:
                warehouse = org.copy_of(org.base, where)
            after /= 2
            killed = _kill_build_at(org.exports, warehouse, after, where)
        assert killed, f"trial {trial}: the build always finished before the kill"
        loaded = _raw_files(warehouse)
        phase = ("start-up or open" if loaded is None or loaded == before
                 else "raw loads" if loaded < total_files else "rebuild after the loads")
        landed.append(f"trial {trial} ({'incremental' if incremental else 'first'} build) "
                      f"killed at {after:.1f} s: {phase}")
        rerun = run_build(org.exports, warehouse, cwd=where)
        assert rerun.returncode == 0, f"{landed[-1]}; rerun failed:\n{rerun.stderr[-3000:]}"
        assert differing(table_hashes(warehouse), reference) == [], landed[-1]
        shutil.rmtree(where)
    print("\n".join(landed))


def test_a_build_stopped_after_its_loads_is_completed_by_the_next(
        faults_org: FaultsOrg, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The kill the random trials may miss, made certain: the last day's files are loaded and
    the rebuild never starts. The next build sees no new file, yet must rebuild."""
    import pipelines.run as run

    org = faults_org
    warehouse = org.copy_of(org.base, tmp_path)
    settings = Settings.load({}, warehouse=warehouse, exports=org.exports, postmortems=None)
    real = run.materialize_downstream

    def killed_after_raw(settings: Settings, **kw):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt  # what the process sees is irrelevant: it stops here

    monkeypatch.setattr(run, "materialize_downstream", killed_after_raw)
    with pytest.raises(KeyboardInterrupt):
        build(settings)
    assert differing(table_hashes(warehouse), table_hashes(org.reference)) != []
    monkeypatch.setattr(run, "materialize_downstream", real)
    summary = build(settings)
    assert sum(r.files_loaded for r in summary.loads) == 0  # nothing new on disk
    assert summary.rebuilt
    assert differing(table_hashes(warehouse), table_hashes(org.reference)) == []
