"""Dashboard read latency per reader, as `followthrough bench` measures it, and where it goes.

    .venv/bin/python benchmarks/bench_dashboard.py WAREHOUSE [--repeats 20] [--rounds 10]
        [--against CHECKOUT] [--breakdown] [--json OUT]

Every `load_*` reader of dashboards/reads that needs only the warehouse path, plus
`failure_clusters.load_excerpt`, is timed as the app runs it: open the DuckDB file read-only,
query, close. The readers a page runs for one user choice (a cluster, a postmortem, a page of
rows), listed by `dashboards.reads.drilldowns.sample_reads`, are timed the same way and reported
apart, and once more together with the others, so a reader moved behind a choice is still
counted.

With `--against CHECKOUT` the same readers of another checkout (e.g. the commit before a change)
run in their own subprocesses, alternating with this checkout's, `--rounds` times; each side gets
`--repeats` runs per reader in all. The machine is noisy: compare the two columns of one run,
not figures of different runs.

`--breakdown` replays each reader's queries and splits its time into opening (and closing) the
file, running the query into Arrow, converting to pandas, and the rest (Python after the query);
with the rows and Arrow bytes it returned.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
Reader = Callable[[Path], Any]


def percentile(values: list[float], q: float) -> float:
    """Nearest rank, as followthrough.benchrun computes it."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def path_readers() -> Iterator[tuple[str, Reader]]:
    """The readers `followthrough bench` times: every one-argument `load_*` of dashboards/reads
    (benchrun's own list, from the checkout on PYTHONPATH)."""
    from followthrough.benchrun import dashboard_reads

    return dashboard_reads()


def excerpt_reader(warehouse: Path) -> list[tuple[str, Reader]]:
    """load_excerpt of the first excerpt by job id, as benchrun picks it."""
    import duckdb

    from dashboards.reads.failure_clusters import load_excerpt

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        row = con.execute("SELECT provider, job_id FROM models.failure_excerpts "
                          "ORDER BY job_id LIMIT 1").fetchone()
    finally:
        con.close()
    if row is None:
        return []
    return [("failure_clusters.load_excerpt",
             lambda p, r=row: load_excerpt(p, r[0], int(r[1])))]


def choice_readers(warehouse: Path) -> list[tuple[str, Reader]]:
    """The readers behind one user choice, with representative arguments; none in a checkout
    that has no `dashboards.reads.drilldowns`."""
    try:
        drill = importlib.import_module("dashboards.reads.drilldowns")
    except ModuleNotFoundError:
        return []
    return list(drill.sample_reads(warehouse))


def time_readers(readers: list[tuple[str, Reader]], warehouse: Path,
                 repeats: int) -> dict[str, list[float]]:
    """Milliseconds of each run, reader by reader, `repeats` runs in a row as benchrun does."""
    from dashboards.reads.connection import TableMissing

    out: dict[str, list[float]] = {}
    for name, fn in readers:
        mine: list[float] = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            try:
                fn(warehouse)
            except TableMissing:
                break
            mine.append((time.perf_counter() - t0) * 1000)
        if mine:
            out[name] = mine
    return out


class _Recorder:
    """Stands in for the duckdb module in dashboards.reads.connection, noting each query."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.opens: list[list[tuple[str, list[object]]]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def connect(self, *args: Any, **kwargs: Any) -> Any:
        con = self.real.connect(*args, **kwargs)
        mine: list[tuple[str, list[object]]] = []
        self.opens.append(mine)

        class Conn:
            def execute(self, sql: str, params: Any = None) -> Any:
                mine.append((sql, list(params or [])))
                return con.execute(sql, params or [])

            def __getattr__(self, name: str) -> Any:
                return getattr(con, name)

        return Conn()


def breakdown(readers: list[tuple[str, Reader]], warehouse: Path,
              repeats: int) -> dict[str, dict[str, float]]:
    """Median ms of open+close, query to Arrow, Arrow to pandas, and the rest, per reader."""
    import duckdb

    from dashboards.reads import connection

    out: dict[str, dict[str, float]] = {}
    for name, fn in readers:
        rec = _Recorder(duckdb)
        connection.duckdb = rec  # type: ignore[assignment]
        try:
            fn(warehouse)
        except connection.TableMissing:
            continue
        finally:
            connection.duckdb = duckdb  # type: ignore[assignment]
        opens, runs, converts, totals = [], [], [], []
        rows = arrow_mb = 0.0
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn(warehouse)
            totals.append(time.perf_counter() - t0)
            o = r = c = 0.0
            for queries in rec.opens:
                t0 = time.perf_counter()
                con = duckdb.connect(str(warehouse), read_only=True)
                o += time.perf_counter() - t0
                for sql, params in queries:
                    t1 = time.perf_counter()
                    table = con.execute(sql, params).to_arrow_table()
                    t2 = time.perf_counter()
                    table.to_pandas()
                    r += t2 - t1
                    c += time.perf_counter() - t2
                    rows, arrow_mb = table.num_rows, table.nbytes / 1e6
                t3 = time.perf_counter()
                con.close()
                o += time.perf_counter() - t3
            opens.append(o)
            runs.append(r)
            converts.append(c)
        total = statistics.median(totals) * 1000
        parts = {"open_close": statistics.median(opens) * 1000,
                 "query_arrow": statistics.median(runs) * 1000,
                 "to_pandas": statistics.median(converts) * 1000}
        out[name] = {"total": total, **parts,
                     "rest": total - sum(parts.values()),
                     "queries": sum(map(len, rec.opens)), "rows_last_query": rows,
                     "arrow_mb_last_query": arrow_mb}
    return out


def child(warehouse: Path, repeats: int) -> dict[str, Any]:
    """One side's runs: every reader `repeats` times, in this process's checkout."""
    path = path_readers()
    base = [*path, *excerpt_reader(warehouse)]
    choice = choice_readers(warehouse)
    return {"path": time_readers(base, warehouse, repeats),
            "choice": time_readers(choice, warehouse, repeats)}


def _run_side(checkout: Path, warehouse: Path, repeats: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), str(warehouse), "--child",
         "--repeats", str(repeats)],
        cwd=checkout, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"bench child in {checkout} failed:\n{proc.stderr}")
    return json.loads(proc.stdout)


def _merge(into: dict[str, dict[str, list[float]]], got: dict[str, Any]) -> None:
    for kind, per in got.items():
        for name, times in per.items():
            into.setdefault(kind, {}).setdefault(name, []).extend(times)


def summary(times: dict[str, dict[str, list[float]]]) -> dict[str, Any]:
    """p50/p95 as benchrun computes them, over its readers and with the choice readers too."""
    path = [t for ts in times.get("path", {}).values() for t in ts]
    both = path + [t for ts in times.get("choice", {}).values() for t in ts]
    out: dict[str, Any] = {}
    for label, xs in (("bench_readers", path), ("with_choice_readers", both)):
        if xs:
            out[label] = {"p95_ms": percentile(xs, 95), "p50_ms": percentile(xs, 50),
                          "max_ms": max(xs), "queries": len(xs)}
    return out


def _fmt(xs: list[float] | None) -> str:
    if not xs:
        return f"{'—':>8} {'—':>8}"
    return f"{statistics.median(xs):8.1f} {percentile(xs, 95):8.1f}"


def report(sides: dict[str, dict[str, dict[str, list[float]]]]) -> None:
    labels = list(sides)
    head = "".join(f" {lab[:17]:>17}" for lab in labels)
    ratio = len(labels) == 2
    print(f"{'reader (median ms, p95 ms)':<52}{head}" + ("  median ratio" if ratio else ""))
    for kind in ("path", "choice"):
        names = sorted({n for s in sides.values() for n in s.get(kind, {})})
        if not names:
            continue
        print(f"-- {'readers benchrun times' if kind == 'path' else 'readers behind a choice'}")
        for name in names:
            got = [sides[lab].get(kind, {}).get(name) for lab in labels]
            cells = "".join(f" {_fmt(xs)}" for xs in got)
            if ratio and got[0] and got[1]:
                cells += f"  {statistics.median(got[0]) / statistics.median(got[1]):12.2f}"
            print(f"{name:<52}{cells}")
    for lab in labels:
        for what, s in summary(sides[lab]).items():
            print(f"{lab}: {what}: p95 {s['p95_ms']:.1f} ms, p50 {s['p50_ms']:.1f} ms, "
                  f"max {s['max_ms']:.1f} ms over {s['queries']} reads")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("warehouse", type=Path)
    ap.add_argument("--repeats", type=int, default=20, help="runs per reader and side")
    ap.add_argument("--rounds", type=int, default=10, help="alternations with --against")
    ap.add_argument("--against", type=Path, help="another checkout to time side by side")
    ap.add_argument("--breakdown", action="store_true", help="where each reader's time goes")
    ap.add_argument("--json", type=Path, help="write every run's milliseconds here")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    warehouse = args.warehouse.resolve()
    if not warehouse.is_file():
        raise SystemExit(f"no warehouse file at {warehouse}")
    if args.child:
        print(json.dumps(child(warehouse, args.repeats)))
        return
    if args.breakdown:
        readers = [*path_readers(), *excerpt_reader(warehouse), *choice_readers(warehouse)]
        parts = breakdown(readers, warehouse, max(3, args.repeats // 4))
        cols = ("total", "open_close", "query_arrow", "to_pandas", "rest")
        print(f"{'reader (median ms)':<52}" + "".join(f"{c:>12}" for c in cols)
              + f"{'rows':>9}{'arrow MB':>9}")
        for name, p in sorted(parts.items(), key=lambda kv: -kv[1]["total"]):
            print(f"{name:<52}" + "".join(f"{p[c]:12.1f}" for c in cols)
                  + f"{int(p['rows_last_query']):9d}{p['arrow_mb_last_query']:9.2f}")
        if args.json:
            args.json.write_text(json.dumps(parts, indent=1))
        return
    sides: dict[str, dict[str, dict[str, list[float]]]] = {}
    checkouts = [("this", HERE)]
    if args.against:
        checkouts.append(("against", args.against.resolve()))
    rounds = max(1, args.rounds if args.against else 1)
    per_round = max(1, -(-args.repeats // rounds))
    for r in range(rounds):
        order = checkouts if r % 2 == 0 else checkouts[::-1]
        for label, checkout in order:
            _merge(sides.setdefault(label, {}), _run_side(checkout, warehouse, per_round))
    report({("new" if lab == "this" else "old") if args.against else lab: s
            for lab, s in sides.items()})
    if args.json:
        args.json.write_text(json.dumps({"warehouse": str(warehouse), "sides": sides,
                                         "summary": {k: summary(v) for k, v in sides.items()}},
                                        indent=1))


if __name__ == "__main__":
    main()
