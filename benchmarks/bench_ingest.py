"""Connector load benchmarks: fetch from a vendor API on 127.0.0.1, land the files, load them.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_ingest.py [--vendor jira ...]
        [--jira-issues 10000] [--workdir DIR]

The fake vendor API (tests/models/connectors/fake_*.py, serving the vendors' published payload
shapes with their real pagination) runs in a process of its own, and every fetch runs in a fresh
process, so the peak RSS reported is the connector's alone. Each vendor is measured at a small
and a large size: when pages are streamed and files flushed as they fill, the peak RSS barely
moves while the record count grows five-fold.

Each vendor has a `bench_<vendor>(size, workdir) -> dict` function; add yours beside `bench_jira`
and to VENDORS.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

_SPAWN = mp.get_context("spawn")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _serve(factory: Callable[[Any], Any], ready: Any, stop: Any) -> None:
    from tests.vendor_server import VendorServer

    with VendorServer() as server:
        # Answer without Nagle's delay: the handler writes headers and body separately, and a
        # delayed ACK would otherwise cost ~40 ms a request on loopback.
        server._server.RequestHandlerClass.disable_nagle_algorithm = True
        factory(server)
        ready.put(server.url)
        stop.wait()


class _Served:
    """A fake vendor API in a child process, for the duration of a `with` block."""

    def __init__(self, factory: Callable[[Any], Any]) -> None:
        self.factory = factory

    def __enter__(self) -> str:
        self.ready = _SPAWN.Queue()
        self.stop = _SPAWN.Event()
        self.proc = _SPAWN.Process(target=_serve, args=(self.factory, self.ready, self.stop))
        self.proc.start()
        return str(self.ready.get(timeout=60))

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.proc.join(timeout=10)


def _in_fresh_process(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    with ProcessPoolExecutor(max_workers=1, mp_context=_SPAWN) as pool:
        return pool.submit(fn, *args).result()


# -- Jira -----------------------------------------------------------------------------------
class _JiraFactory:
    def __init__(self, issues: int) -> None:
        self.issues = issues

    def __call__(self, server: Any) -> Any:
        from tests.models.connectors.fake_jira import FakeJira

        # One issue an hour: 10,000 issues span 14 created months. Real page limits for the
        # changelog bulk fetch and comments.
        return FakeJira(server, issues=self.issues, start=datetime(2024, 1, 1, tzinfo=UTC),
                        spacing=timedelta(hours=1), bulk_page=1000, comment_page=100)


def _fetch_and_load_jira(url: str, root: str, db: str) -> dict[str, Any]:
    from models.connectors.base import FetchContext
    from models.connectors.config import JiraConfig
    from models.connectors.landing import Landing
    from models.connectors.registry import run
    from tests.models.connectors.fake_jira import FakeJira
    from warehouse.db import connect
    from warehouse.ingest import ingest
    from warehouse.sources import JIRA

    base = _peak_rss_mb()
    cfg = JiraConfig(site_url=url, jql="project = LEDG", page_size=100)
    ctx = FetchContext(landing=Landing(Path(root)), since=datetime(2023, 12, 1, tzinfo=UTC),
                       now=datetime(2026, 1, 1, tzinfo=UTC),
                       env={"JIRA_EMAIL": FakeJira.email, "JIRA_API_TOKEN": FakeJira.token})
    t0 = time.perf_counter()
    result = run("jira", cfg, ctx)
    fetch_s = time.perf_counter() - t0
    fetch_peak = _peak_rss_mb()
    conn = connect(db)
    t0 = time.perf_counter()
    loaded = ingest(conn, Path(root), [JIRA])[0]
    load_s = time.perf_counter() - t0
    events = conn.execute("SELECT count(*) FROM raw.jira_events").fetchone()[0]
    conn.close()
    return {"records": result.records, "requests": result.requests, "files": result.files,
            "fetch_s": fetch_s, "baseline_rss_mb": base, "fetch_peak_rss_mb": fetch_peak,
            "load_s": load_s, "loaded_records": loaded.records, "events": events,
            "notes": result.notes}


def bench_jira(issues: int, workdir: Path) -> dict[str, Any]:
    root = workdir / f"jira-{issues}"
    shutil.rmtree(root, ignore_errors=True)
    db = workdir / f"jira-{issues}.duckdb"
    db.unlink(missing_ok=True)
    with _Served(_JiraFactory(issues)) as url:
        return _in_fresh_process(_fetch_and_load_jira, url, str(root), str(db))


VENDORS: dict[str, tuple[Callable[[int, Path], dict[str, Any]], str, int]] = {
    "jira": (bench_jira, "issues", 10_000),
}


def _report(vendor: str, unit: str, size: int, r: dict[str, Any]) -> None:
    print(f"{vendor:<8} {size:>7,} {unit}: fetch {r['fetch_s']:6.1f} s "
          f"({r['records'] / r['fetch_s']:7,.0f} {unit}/s, {r['requests']:,} requests, "
          f"{r['files']} files written), peak RSS {r['fetch_peak_rss_mb']:6.1f} MB "
          f"(after imports {r['baseline_rss_mb']:.1f} MB); load {r['load_s']:5.1f} s "
          f"({r['loaded_records'] / max(r['load_s'], 1e-9):7,.0f} {unit}/s, "
          f"{r['events']:,} events)")
    for note in r["notes"]:
        print(f"         note: {note}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--vendor", action="append", choices=sorted(VENDORS))
    parser.add_argument("--jira-issues", type=int, default=VENDORS["jira"][2])
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    workdir.mkdir(parents=True, exist_ok=True)
    sizes = {"jira": args.jira_issues}
    for vendor in args.vendor or sorted(VENDORS):
        fn, unit, _ = VENDORS[vendor]
        large = sizes[vendor]
        for size in (max(1, large // 5), large):
            _report(vendor, unit, size, fn(size, workdir))
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
