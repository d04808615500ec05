"""`followthrough bench` at a tiny N: every figure present and sane, the org reused on a rerun."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from followthrough.benchrun import day_of, percentile, tree_rss_pages

REPO = Path(__file__).resolve().parents[2]
KEYS = (
    "full_materialize_s", "incremental_day_s", "fingerprint_lines_per_s", "drain3_lines_per_s",
    "dashboard_query_p95_ms", "peak_rss_mb", "machine", "targets", "jobs", "incremental_day",
    "incremental_day_files", "fingerprint_lines", "dashboard_queries", "note",
)


def _bench(workdir: Path, out: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOLLOWTHROUGH_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return subprocess.run(
        [sys.executable, "-m", "followthrough.cli", "bench", "--jobs", "1500", "--seed", "3",
         "--workdir", str(workdir), "--out", str(out), "--fingerprint-lines", "5000",
         "--repeats", "2"],
        cwd=workdir.parent, env=env, capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_bench_writes_every_figure_and_reuses_the_org(tmp_path: Path) -> None:
    workdir, out = tmp_path / "work", tmp_path / "bench.json"
    res = _bench(workdir, out)
    assert res.returncode == 0, res.stderr[-3000:]
    r = json.loads(out.read_text())
    for key in KEYS:
        assert key in r, key
    assert 1000 <= r["jobs"] <= 4000 and r["failed_jobs"] > 0
    assert r["generate_s"] > 0
    # A whole build process starts Dagster: seconds, not milliseconds; the incremental one
    # loads exactly the held-back day.
    assert 1 < r["full_materialize_s"] < 900
    assert 1 < r["incremental_day_s"] < 900
    assert r["full_materialize_cpu_s"] > 0
    assert r["incremental_day_cpu_s"] > 0
    assert r["incremental_day_files"] > 0
    assert r["export_files"] > r["incremental_day_files"]
    assert r["fingerprint_lines"] == 5000
    assert 0 < r["fingerprint_lines_per_s"] < 1e8
    try:
        import drain3  # noqa: F401
    except ImportError:
        assert r["drain3_lines_per_s"] is None and "pip install drain3" in r["drain3_reason"]
    else:
        assert 0 < r["drain3_lines_per_s"] < 1e8
        assert r["fingerprint_vs_drain3"] == pytest.approx(
            r["fingerprint_lines_per_s"] / r["drain3_lines_per_s"])
    assert r["dashboard_reads"] >= 20 and r["dashboard_reads_skipped"] == []
    assert r["dashboard_queries"] == 2 * r["dashboard_reads"]
    assert 0 < r["dashboard_query_p50_ms"] <= r["dashboard_query_p95_ms"] <= r[
        "dashboard_query_max_ms"] < 60_000
    # Dagster, DuckDB and polars in one process: more than 100 MB, far less than the machine.
    assert 100 < r["peak_rss_mb"] < r["machine"]["memory_gb"] * 1024
    m = r["machine"]
    assert m["cores"] >= 1 and m["python"] and m["duckdb"] and m["dagster"]
    assert set(r["targets"]) >= {"full_materialize_s", "incremental_day_s",
                                 "fingerprint_vs_drain3", "dashboard_query_p95_ms", "peak_rss_mb"}
    assert r["build_command"].startswith("followthrough build")

    again = tmp_path / "again.json"
    res = _bench(workdir, again)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "reusing the sample organisation" in res.stderr
    r2 = json.loads(again.read_text())
    assert r2["generate_s"] is None and r2["jobs"] == r["jobs"]
    assert r2["incremental_day"] == r["incremental_day"]


def test_bench_refuses_bad_arguments(tmp_path: Path) -> None:
    from followthrough.cli import main

    assert main(["bench", "--jobs", "0", "--out", str(tmp_path / "x.json")]) == 2
    assert main(["bench", "--out", str(tmp_path / "missing" / "x.json")]) == 2
    assert not (tmp_path / "x.json").exists()


def test_daily_files_and_folders_are_told_apart_from_monthly_ones() -> None:
    assert day_of(Path("github/runs/2026-10-31.json")) == "2026-10-31"
    assert day_of(Path("github/logs/2026-10-31/123.txt")) == "2026-10-31"
    assert day_of(Path("slack/messages/2026-10-31.ops.json")) == "2026-10-31"
    assert day_of(Path("jira/issues/2026-10.json")) is None
    assert day_of(Path("postmortems/2026-10-31-db.md")) is None


def test_percentile_is_a_measured_value() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 95) == 95.0
    assert percentile(values, 50) == 50.0
    assert percentile([3.0], 95) == 3.0


def test_tree_rss_counts_a_child() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", "x = b'x' * (200 * 2**20); print('ready', flush=True); input()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        page = os.sysconf("SC_PAGE_SIZE")
        own = tree_rss_pages(child.pid) * page
        assert own > 200 * 2**20
        assert tree_rss_pages(os.getpid()) * page > own  # the test process plus its child
    finally:
        child.kill()
        child.wait()
