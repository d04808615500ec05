"""The dashboard reading while a build writes: no crash, stale data at most, and the build is
never blocked for good by a reader.

The dashboard runs in its own process and opens the file read-only for each query
(dashboards/reads/connection.py); DuckDB lets either one writer or readers hold the file, so a
reader may be told the warehouse is busy, and a build may have to wait for a query to finish.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from tests.faults.conftest import (
    REPO,
    FaultsOrg,
    build_cmd,
    build_env,
    differing,
    run_build,
    table_hashes,
)

# A dashboard process: every real reader of dashboards/reads in a loop until told to stop.
READER = r"""
import json, sys, time
from pathlib import Path
from followthrough.benchrun import dashboard_reads
from dashboards.reads.connection import WarehouseBusy, query

path, stop, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
readers = list(dashboard_reads())
report = {"ok": 0, "busy": 0, "errors": [], "ci_jobs": []}
while not stop.exists():
    for name, fn in readers:
        try:
            fn(path)
            n = int(query(path, "SELECT count(*) AS n FROM core.ci_jobs", "core.ci_jobs")["n"][0])
        except WarehouseBusy:
            report["busy"] += 1
            continue
        except Exception as exc:
            report["errors"].append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        report["ok"] += 1
        report["ci_jobs"].append(n)
out.write_text(json.dumps(report))
"""


def _count(warehouse: Path) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute("SELECT count(*) FROM core.ci_jobs").fetchone()[0]


def test_dashboard_reads_during_a_build_see_old_or_new_rows_and_the_build_finishes(
        faults_org: FaultsOrg, tmp_path: Path) -> None:
    warehouse = faults_org.copy_of(faults_org.base, tmp_path)
    old, new = _count(faults_org.base), _count(faults_org.reference)
    assert old < new
    stop, out = tmp_path / "stop", tmp_path / "reads.json"
    env = build_env()
    reader = subprocess.Popen([sys.executable, "-c", READER, str(warehouse), str(stop), str(out)],
                              cwd=REPO, env=env)
    try:
        time.sleep(2)
        # --force: every file reloaded and every table replaced, so the writes span the build.
        build = subprocess.run(build_cmd(faults_org.exports, warehouse, "--force"), cwd=tmp_path,
                               env=env, capture_output=True, text=True, timeout=900)
        time.sleep(1)
    finally:
        stop.touch()
        reader.wait(timeout=120)
    assert build.returncode == 0, build.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["errors"] == []
    assert report["ok"] > 0
    assert set(report["ci_jobs"]) <= {old, new}  # stale or current, never half-replaced
    assert report["ci_jobs"][-1] == new
    assert differing(table_hashes(warehouse), table_hashes(faults_org.reference)) == []
    print(f"dashboard reads during the build: {report['ok']} answered, {report['busy']} busy")


def test_a_reader_that_never_lets_go_stops_the_build_with_a_clear_error(
        faults_org: FaultsOrg, tmp_path: Path) -> None:
    """A reader holding the file for good (a stuck notebook, a hung query): the build waits
    FOLLOWTHROUGH_LOCK_WAIT_S seconds, then stops with one line naming the file."""
    warehouse = faults_org.copy_of(faults_org.base, tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], "
         "read_only=True); c.execute('SELECT 1'); print('open', flush=True); time.sleep(600)",
         str(warehouse)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        env = build_env() | {"FOLLOWTHROUGH_LOCK_WAIT_S": "3"}
        t0 = time.perf_counter()
        res = subprocess.run(build_cmd(faults_org.exports, warehouse), cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=300)
        waited = time.perf_counter() - t0
    finally:
        holder.kill()
        holder.wait()
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr[-3000:]
    assert lines[0].startswith(f"followthrough build: {warehouse}: another process still holds")
    assert waited < 120
    assert differing(table_hashes(warehouse), table_hashes(faults_org.base)) == []
    # Once the reader is gone, the same build goes through.
    res = run_build(faults_org.exports, warehouse, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    assert differing(table_hashes(warehouse), table_hashes(faults_org.reference)) == []


def test_lock_wait_setting_is_read_from_the_environment() -> None:
    from warehouse.db import lock_wait_seconds

    assert lock_wait_seconds({}) == 60.0
    assert lock_wait_seconds({"FOLLOWTHROUGH_LOCK_WAIT_S": "2.5"}) == 2.5
    assert lock_wait_seconds({"FOLLOWTHROUGH_LOCK_WAIT_S": "soon"}) == 60.0
    assert lock_wait_seconds({"FOLLOWTHROUGH_LOCK_WAIT_S": "-1"}) == 60.0
