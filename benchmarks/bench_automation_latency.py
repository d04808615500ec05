"""Failure to ticket over loopback: a fake GitHub emits failed production deployments, the
poll loop (fetch GitHub, load and rebuild, `automate` pass) runs, a fake Jira receives tickets.

Run: PYTHONPATH=. .venv/bin/python benchmarks/bench_automation_latency.py [--events 20]

Each event: a workflow run with a failed `deploy-production` job (log behind a 302) and a
production deployment whose status turns `failure` now. Latency is from that status's creation
to the fake Jira accepting the ticket carrying the deployment's key label. The loop is the
polling deployment (`followthrough ingest` + `followthrough automate --once` back to back, as a
cron line or the hourly schedule plus the sensor would run them), not the webhook path, which is
not built. Events are spaced by --gap seconds, so a cycle may already be under way when one
arrives (as in production).
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from followthrough.commands.build import build
from models.automation.config import load_automation
from models.automation.run import run_once
from models.connectors.config import load_config
from models.settings import Settings
from tests.models.automation.fakes import mount_trackers
from tests.models.connectors.fake_github import FakeGitHub
from tests.vendor_server import VendorServer
from warehouse.db import connect

REPO = "quayside-dev/ledger-api"


def _ts(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def emit_failure(gh: FakeGitHub, n: int) -> tuple[int, float]:
    """A failed deploy run + job + production deployment with a `failure` status, now."""
    now = datetime.now(UTC)
    run = copy.deepcopy(gh.runs[0])
    run_id, job_id, dep_id = 6_000_000 + n, 9_500_000 + n, 90_000 + n
    run.update(id=run_id, run_number=1000 + n, created_at=_ts(now - timedelta(seconds=40)),
               updated_at=_ts(now), run_started_at=_ts(now - timedelta(seconds=40)),
               status="completed", conclusion="failure",
               html_url=f"https://github.com/{REPO}/actions/runs/{run_id}",
               url=f"https://api.github.com/repos/{REPO}/actions/runs/{run_id}")
    job = copy.deepcopy(gh.jobs[gh.runs[0]["id"]][0])
    job_url = f"https://github.com/{REPO}/actions/runs/{run_id}/job/{job_id}"
    job.update(id=job_id, run_id=run_id, name="deploy-production", conclusion="failure",
               status="completed", started_at=_ts(now - timedelta(seconds=35)),
               completed_at=_ts(now), run_url=run["url"], html_url=job_url)
    gh.logs[job_id] = (
        "2026-11-01T10:00:00.0000000Z ##[group]Run helm upgrade ledger\n"
        "2026-11-01T10:00:02.0000000Z Smoke test GET /healthz -> 503\n"
        "2026-11-01T10:00:03.0000000Z ##[error]Process completed with exit code 1.\n")
    dep = copy.deepcopy(gh.deployments[0])
    dep.update(id=dep_id, created_at=_ts(now - timedelta(seconds=30)), updated_at=_ts(now),
               sha=run.get("head_sha", dep.get("sha")), environment="production",
               url=f"https://api.github.com/repos/{REPO}/deployments/{dep_id}")
    status = copy.deepcopy(gh.statuses[gh.deployments[0]["id"]][0])
    status.update(id=80_000 + n, state="failure", created_at=_ts(now), environment="production",
                  deployment_url=dep["url"], target_url=job_url, log_url=job_url)
    gh.runs.append(run)
    gh.jobs[run_id] = [job]
    gh.statuses[dep_id] = [status]
    gh.deployments.append(dep)  # last: a poll that sees the deployment sees all the rest
    return dep_id, time.time()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=20)
    ap.add_argument("--gap", type=float, default=7.0, help="seconds between events")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-automation-"))
    with VendorServer() as server:
        gh = FakeGitHub(server, repo=REPO, runs=4, deployments=2,
                        start=datetime.now(UTC) - timedelta(days=2))
        jira = mount_trackers(server)
        cfg_path = work / "followthrough.toml"
        cfg_path.write_text(f"""
[sources.github]
api_url = "{server.url}"
token_env = "BENCH_GH_TOKEN"
repos = ["{REPO}"]
overlap_minutes = 10

[automation]
tracker = "jira"

[automation.jira]
live = true
site_url = "{server.url}"
project = "OPS"
""", encoding="utf-8")
        import os

        os.environ.update(BENCH_GH_TOKEN="bench", JIRA_EMAIL="bench@quayside.dev",
                          JIRA_API_TOKEN="bench")
        config, auto = load_config(cfg_path), load_automation(cfg_path)
        settings = Settings(warehouse=work / "w.duckdb", exports=work / "exports")
        settings.exports.mkdir(parents=True, exist_ok=True)
        stop = threading.Event()
        cycles: list[float] = []
        errors: list[str] = []

        def poll() -> None:
            while not stop.is_set():
                t0 = time.perf_counter()
                try:
                    build(settings, fetch=["github"], config=config)
                    conn = connect(settings.warehouse)
                    try:
                        run_once(conn, auto)
                    finally:
                        conn.close()
                except Exception as exc:  # reported, the loop goes on like a cron line would
                    errors.append(f"{type(exc).__name__}: {exc}")
                cycles.append(time.perf_counter() - t0)

        build(settings, fetch=["github"], config=config)  # the history before the benchmark
        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        emitted: list[tuple[int, float]] = []
        for n in range(args.events):
            emitted.append(emit_failure(gh, n))
            time.sleep(args.gap)
        deadline = time.time() + 300
        label = {dep: f"followthrough-github-{dep}" for dep, _ in emitted}
        got: dict[int, float] = {}
        while time.time() < deadline and len(got) < len(emitted):
            for dep, _ in emitted:
                for issue in jira.jira:
                    if label[dep] in issue["labels"]:
                        got[dep] = issue["received_at"]
            time.sleep(0.5)
        stop.set()
        poller.join(timeout=300)
    latencies = [got[dep] - t for dep, t in emitted if dep in got]
    keys = [lab for i in jira.jira for lab in i["labels"] if lab.startswith("followthrough-")]
    print(f"events {len(emitted)}, tickets {len(latencies)}, duplicates "
          f"{len(keys) - len(set(keys))}, poll cycles {len(cycles)} "
          f"(median {statistics.median(cycles):.1f} s)")
    complete = sum(1 for i in jira.jira if "(not found)" not in json.dumps(i["description"]))
    print(f"tickets with every field found (CI run, job, excerpt, commit, who): {complete} of "
          f"{len(jira.jira)}")
    if latencies:
        print(f"failure -> ticket: median {statistics.median(latencies):.1f} s, "
              f"max {max(latencies):.1f} s, min {min(latencies):.1f} s")
    for e in errors[:5]:
        print("error:", e)
    return 0 if len(latencies) == len(emitted) and not errors else 1


if __name__ == "__main__":
    raise SystemExit(main())
