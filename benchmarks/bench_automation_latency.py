"""Failure to ticket over loopback: a fake GitHub emits failed production deployments, a fake
Jira receives the tickets; in between either the poll loop or the webhook path runs.

Run: PYTHONPATH=. .venv/bin/python benchmarks/bench_automation_latency.py \
         [--via poll|webhook|both] [--events 20] [--interval 30]

Each event: a workflow run with a failed `deploy-production` job (log behind a 302) and a
production deployment whose status turns `failure` now. Latency is from that status's creation
to the fake Jira accepting the ticket carrying the deployment's key label. Events are spaced by
--gap seconds, so a cycle may already be under way when one arrives (as in production).

--via poll: fetch GitHub, load and rebuild, `automate` pass, back to back (a cron line, or the
hourly schedule plus the sensor).
--via webhook: the fake GitHub also posts signed `workflow_job`, `workflow_run` and
`deployment_status` deliveries to `followthrough webhook`, run as its own process; a loop does
what the `deploy_failure_sensor` tick does (drain the spool: land, fetch the failed job's log,
load and rebuild; then the `automate` pass), every --interval seconds (30: the sensor's
minimum interval; 0: back to back).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from followthrough.commands.build import build
from followthrough.commands.webhook import drain_spool
from models.automation.config import load_automation
from models.automation.run import run_once
from models.automation.webhook import signature
from models.connectors.config import load_config
from models.settings import Settings
from tests.models.automation.fakes import mount_trackers
from tests.models.connectors.fake_github import FakeGitHub
from tests.vendor_server import Request, VendorServer
from warehouse.db import connect

REPO = "quayside-dev/ledger-api"
SECRET = "bench-webhook-secret"


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


def post_webhooks(url: str, gh: FakeGitHub, n: int) -> list[int]:
    """What GitHub delivers for event `n` of `emit_failure`: the job, the run, the status."""
    import httpx

    dep = gh.deployments[-1]
    status = gh.statuses[dep["id"]][0]
    run = next(r for r in gh.runs if r["id"] == 6_000_000 + n)
    repo = {"full_name": REPO, "name": REPO.split("/")[1]}
    bodies = [("workflow_job", {"action": "completed", "workflow_job": gh.jobs[run["id"]][0],
                                "repository": repo}),
              ("workflow_run", {"action": "completed", "workflow_run": run, "repository": repo}),
              ("deployment_status", {"action": "created", "deployment_status": status,
                                     "deployment": dep, "repository": repo})]
    codes = []
    for event, doc in bodies:
        body = json.dumps(doc).encode()
        r = httpx.post(url, content=body, timeout=10, headers={
            "Content-Type": "application/json", "X-GitHub-Event": event,
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": signature(SECRET.encode(), body)})
        codes.append(r.status_code)
    return codes


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_receiver(cfg_path: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BENCH_WEBHOOK_SECRET": SECRET,
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "followthrough.cli", "webhook", "--port", str(port),
         "--config", str(cfg_path)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    import httpx

    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"receiver did not start: {proc.stderr.read().decode()[-500:]}")


def run_mode(via: str, args: argparse.Namespace) -> dict[str, object]:
    work = (args.workdir or Path(tempfile.mkdtemp(prefix="bench-automation-"))) / via
    work.mkdir(parents=True, exist_ok=True)
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

[automation.webhook]
secret_env = "BENCH_WEBHOOK_SECRET"
spool = "spool"
""", encoding="utf-8")
        os.environ.update(BENCH_GH_TOKEN="bench", JIRA_EMAIL="bench@quayside.dev",
                          JIRA_API_TOKEN="bench")
        config, auto = load_config(cfg_path), load_automation(cfg_path)
        settings = Settings(warehouse=work / "w.duckdb", exports=work / "exports")
        settings.exports.mkdir(parents=True, exist_ok=True)
        stop = threading.Event()
        cycles: list[float] = []
        errors: list[str] = []
        interval = args.interval if via == "webhook" else 0.0

        def cycle() -> None:
            if via == "poll":
                build(settings, fetch=["github"], config=config)
            else:
                drain_spool(auto, settings)
            conn = connect(settings.warehouse)
            try:
                run_once(conn, auto)
            finally:
                conn.close()

        def loop() -> None:
            while not stop.is_set():
                t0 = time.perf_counter()
                try:
                    cycle()
                except Exception as exc:  # reported, the loop goes on like a cron line would
                    errors.append(f"{type(exc).__name__}: {exc}")
                cycles.append(time.perf_counter() - t0)
                stop.wait(max(0.0, interval - (time.perf_counter() - t0)))

        build(settings, fetch=["github"], config=config)  # the history before the benchmark
        port = _free_port()
        receiver = start_receiver(cfg_path, port) if via == "webhook" else None
        url = f"http://127.0.0.1:{port}/github"
        poller = threading.Thread(target=loop, daemon=True)
        poller.start()
        emitted: list[tuple[int, float]] = []
        try:
            for n in range(args.events):
                dep_id, t = emit_failure(gh, n)
                emitted.append((dep_id, t))
                if receiver is not None:
                    codes = post_webhooks(url, gh, n)
                    if codes != [202, 202, 202]:
                        errors.append(f"event {n}: receiver answered {codes}")
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
        finally:
            stop.set()
            poller.join(timeout=300)
            if receiver is not None:
                receiver.terminate()
                receiver.wait(timeout=30)
        api_calls = len([r for r in server.log if isinstance(r, Request)
                         and r.path.startswith(f"/repos/{REPO}/")])
    latencies = sorted(got[dep] - t for dep, t in emitted if dep in got)
    keys = [lab for i in jira.jira for lab in i["labels"] if lab.startswith("followthrough-")]
    complete = sum(1 for i in jira.jira if "(not found)" not in json.dumps(i["description"]))
    return {"via": via, "interval": interval, "events": len(emitted), "tickets": len(latencies),
            "duplicates": len(keys) - len(set(keys)), "complete": complete,
            "cycles": cycles, "latencies": latencies, "errors": errors,
            "github_api_calls": api_calls}


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered) + 0.5) - 1))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--via", choices=("poll", "webhook", "both"), default="poll")
    ap.add_argument("--events", type=int, default=20)
    ap.add_argument("--gap", type=float, default=7.0, help="seconds between events")
    ap.add_argument("--interval", type=float, default=30.0,
                    help="webhook mode: seconds between sensor ticks (0: back to back)")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    modes = ("poll", "webhook") if args.via == "both" else (args.via,)
    results = [run_mode(via, args) for via in modes]
    ok = True
    for r in results:
        lat: list[float] = r["latencies"]  # type: ignore[assignment]
        cycles: list[float] = r["cycles"]  # type: ignore[assignment]
        name = f"{r['via']}" + (f" (tick every {r['interval']:g} s)" if r["via"] == "webhook"
                                else " (back to back)")
        print(f"== {name}")
        print(f"events {r['events']}, tickets {r['tickets']}, duplicates {r['duplicates']}, "
              f"cycles {len(cycles)} (median {statistics.median(cycles):.1f} s), "
              f"GitHub API requests {r['github_api_calls']}")
        print(f"tickets with every field found (CI run, job, excerpt, commit, who): "
              f"{r['complete']} of {r['tickets']}")
        if lat:
            print(f"failure -> ticket: median {statistics.median(lat):.1f} s, "
                  f"p95 {p95(lat):.1f} s, max {max(lat):.1f} s, min {min(lat):.1f} s")
        for e in r["errors"][:5]:  # type: ignore[index]
            print("error:", e)
        ok = ok and r["tickets"] == r["events"] and not r["errors"] and not r["duplicates"]
    if len(results) > 1:
        print("\nmode                      median     p95    tickets")
        for r in results:
            lat = r["latencies"]  # type: ignore[assignment]
            label = r["via"] + (f" (tick {r['interval']:g} s)" if r["via"] == "webhook" else "")
            if lat:
                print(f"{label:<24} {statistics.median(lat):>7.1f} s {p95(lat):>5.1f} s "
                      f"{r['tickets']:>4}/{r['events']}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
