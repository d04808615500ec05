"""`followthrough ingest` against a GitHub API on 127.0.0.1: records/s and peak memory.

Run: .venv/bin/python benchmarks/bench_ingest_github.py [--runs 1000] [--jobs-per-run 100]

A separate process serves `--runs` workflow runs with `--jobs-per-run` jobs each (GitHub's
example records cloned; one jobs page of 100 per run, so the default is 100,000 jobs over 1,000
job pages plus the run pages), one failed job in `--fail-every` with a log behind a 302. The
whole `followthrough ingest` command runs as its own process (fetch, then load and rebuild);
fetch figures come from its summary, peak RSS from the OS. `--fetch-only` times the connector
alone in this process (no load), to tell fetching from loading.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SERVER = r"""
import sys, time
from datetime import UTC, datetime, timedelta
from tests.vendor_server import VendorServer
from tests.models.connectors.fake_github import FakeGitHub
runs, per_run, fail_every = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
with VendorServer() as server:
    FakeGitHub(server, runs=runs, jobs_per_run=per_run, fail_every=fail_every, deployments=20,
               start=datetime(2026, 10, 1, tzinfo=UTC), spacing=timedelta(minutes=30))
    print(server.url, flush=True)
    sys.stdin.read()
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--jobs-per-run", type=int, default=100)
    ap.add_argument("--fail-every", type=int, default=50)
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO), "BENCH_GH_TOKEN": "bench-token"}
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(args.runs),
                               str(args.jobs_per_run), str(args.fail_every)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
                              cwd=REPO)
    try:
        url = server.stdout.readline().strip()
        work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-ingest-"))
        work.mkdir(parents=True, exist_ok=True)
        config = work / "followthrough.toml"
        config.write_text(f'[sources.github]\napi_url = "{url}"\n'
                          'repos = ["quayside-dev/ledger-api"]\ntoken_env = "BENCH_GH_TOKEN"\n'
                          'page_size = 100\n')
        cmd = [str(REPO / ".venv" / "bin" / "followthrough"), "ingest", "--config", str(config),
               "--exports", str(work / "exports"), "--warehouse", str(work / "w.duckdb"),
               "--since", "2026-09-30", "-q"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t0 = time.perf_counter()
        res = subprocess.run(cmd, env={**env, "FOLLOWTHROUGH_START_DATE": "2026-09-01"},
                             capture_output=True, text=True, cwd=work)
        seconds = time.perf_counter() - t0
        peak_mb = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
        if res.returncode != 0:
            print(res.stdout, res.stderr, file=sys.stderr)
            return 1
        fetched = re.search(r"fetched raw/github_actions: ([\d,]+) record\(s\), ([\d,]+) file\(s\)"
                            r" written, ([\d,]+) request\(s\) in ([\d.]+) s", res.stdout)
        records, files, requests, fetch_s = (fetched.group(i) for i in range(1, 5))
        jobs = re.search(r"core\.ci_jobs\s+([\d,]+)", res.stdout).group(1)
        out = {
            "runs": args.runs, "jobs": args.runs * args.jobs_per_run,
            "fetched_records": int(records.replace(",", "")),
            "requests": int(requests.replace(",", "")), "files_written": int(files.replace(",", "")),
            "fetch_s": float(fetch_s),
            "fetch_records_per_s": round(int(records.replace(",", "")) / float(fetch_s)),
            "ingest_command_s": round(seconds, 1), "peak_rss_mb": round(peak_mb),
            "core_ci_jobs": int(jobs.replace(",", "")),
        }
        print(json.dumps(out, indent=2))
        return 0
    finally:
        server.stdin.close()
        server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
