"""Time `followthrough build` as a user runs it (a whole process), and what a second run changes.

    .venv/bin/python benchmarks/bench_build.py [--scale 1] [--seed 7] [--workdir DIR]
        [--against CHECKOUT] [--repeat 2] [--processes 1,2] [--second | --no-second]
        [--stage-of WAREHOUSE] [--day]

Generates the sample organisation unless WORKDIR holds one, then per round: a first build into
a new warehouse, a second build over the same files (no new data), and whether any
raw/core/models/marts row changed between them. `--processes 1,2` builds this checkout once per
count (`followthrough build --processes N`); without it, with the build's default. With
`--against` the same rounds also run the code of another checkout (e.g. `git worktree add
/tmp/base main`). All variants alternate within each round so they see the same machine load;
the ratios of the medians to the first variant are printed, and every warehouse is compared
table by table with the first variant's. `--stage-of` times only the excerpt stage instead.
`--day` times the one-day incremental build instead (`followthrough bench`'s
`incremental_day_s`): each variant builds every export but the last day once, then per round a
copy of that warehouse builds again with the last day's files added; the last round's
warehouses are compared with a build from scratch of the same folder.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_warehouses import table_hashes

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def run_build(code: Path, exports: Path, warehouse: Path, processes: int | None = None) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOLLOWTHROUGH_")}
    env["PYTHONPATH"] = str(code)
    extra = ["--processes", str(processes)] if processes else []
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "followthrough.cli", "build", "--exports", str(exports),
                    "--warehouse", str(warehouse), *extra], cwd=code, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


# The excerpt stage alone, in a fresh process, on a warehouse whose failures are all pending:
# this checkout's partitions over N processes and their merge, or any checkout's one-step path.
_STAGE_PARTS = """
import sys, time
from pathlib import Path
import duckdb
from models.settings import Settings
from pipelines.run import _instance, _parts_job, materialize_parts
from warehouse.failures import merge_staged_excerpts, staging_dir
db = Path(sys.argv[1])
# as in a build, where this process has run Dagster before the stage; workers start cold
_parts_job(str(db)), _instance()
t0 = time.perf_counter()
out = materialize_parts(Settings(warehouse=db, exports=db.parent), processes=int(sys.argv[2]))
assert not out.failures, [f.line() for f in out.failures]
conn = duckdb.connect(str(db))
merge_staged_excerpts(conn, staging_dir(db))
conn.close()
print(time.perf_counter() - t0)
"""
_STAGE_ONE_STEP = """
import sys, time
import duckdb
from models.recurrence.excerpts import excerpt_failures
from warehouse.failures import pending_failures, store_excerpts
t0 = time.perf_counter()
conn = duckdb.connect(sys.argv[1])
store_excerpts(conn, excerpt_failures(pending_failures(conn)))
conn.close()
print(time.perf_counter() - t0)
"""


def run_stage(code: Path, source: Path, warehouse: Path, processes: int | None) -> float:
    """Seconds the excerpt stage takes on a copy of `source` with no excerpt stored."""
    import shutil

    shutil.rmtree(warehouse.with_name(warehouse.name + ".staging"), ignore_errors=True)
    shutil.copyfile(source, warehouse)
    conn = duckdb.connect(str(warehouse))
    conn.execute("DELETE FROM models.failure_excerpts")
    conn.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOLLOWTHROUGH_")}
    env["PYTHONPATH"] = str(code)
    script, extra = (_STAGE_PARTS, [str(processes)]) if processes else (_STAGE_ONE_STEP, [])
    out = subprocess.run([sys.executable, "-c", script, str(warehouse), *extra], cwd=code,
                         env=env, check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def day_only(args: argparse.Namespace, exports: Path,
             variants: dict[str, tuple[Path, int | None]]) -> int:
    """The one-day incremental build of each variant, alternating, whole processes."""
    import shutil

    from followthrough.benchrun import day_of, link_tree

    days = {day_of(Path(d, f).relative_to(exports)) for d, _, fs in os.walk(exports) for f in fs}
    last = max(d for d in days if d)
    folder = args.workdir / "day-exports"  # one folder: raw rows keep the absolute paths

    def set_day(present: bool) -> int:
        for dirpath, _, files in os.walk(folder):
            for name in files:
                path = Path(dirpath, name)
                if day_of(path.relative_to(folder)) == last:
                    path.unlink()
        return link_tree(exports, folder, lambda rel: day_of(rel) == last) if present else 0

    if not folder.exists():
        link_tree(exports, folder, lambda rel: day_of(rel) != last)
    set_day(False)
    for name, (code, processes) in variants.items():
        base = args.workdir / f"day-base-{name}.duckdb"
        if not base.exists():
            t = run_build(code, folder, base, processes)
            print(f"{name}: build without {last}: {t:.1f} s", flush=True)
    times: dict[str, list[float]] = {n: [] for n in variants}
    for _ in range(args.repeat):
        for name, (code, processes) in variants.items():
            warehouse = args.workdir / f"day-{name}.duckdb"
            shutil.rmtree(warehouse.with_name(warehouse.name + ".staging"), ignore_errors=True)
            shutil.copyfile(args.workdir / f"day-base-{name}.duckdb", warehouse)
            files = set_day(True)
            times[name].append(run_build(code, folder, warehouse, processes))
            set_day(False)
            print(f"{name}: {files} files of {last} added, build {times[name][-1]:.1f} s",
                  flush=True)
    first = next(iter(variants))
    med = {n: statistics.median(t) for n, t in times.items()}
    print("incremental day: " + ", ".join(f"{n} median {m:.1f} s" for n, m in med.items())
          + "".join(f"; {n} / {first} = {m / med[first]:.2f}" for n, m in med.items()
                    if n != first))
    set_day(True)
    scratch = args.workdir / "day-scratch.duckdb"
    scratch.unlink(missing_ok=True)
    run_build(REPO, folder, scratch)
    for name in variants:
        print(f"{name} vs a build from scratch:", flush=True)
        subprocess.run([sys.executable, str(REPO / "benchmarks" / "compare_warehouses.py"),
                        str(args.workdir / f"day-{name}.duckdb"), str(scratch)])
    set_day(False)
    return 0


def stage_only(args: argparse.Namespace, counts: list[int]) -> int:
    variants: dict[str, tuple[Path, int | None]] = {f"this-p{n}": (REPO, n) for n in counts}
    if args.against:
        variants["against"] = (args.against.resolve(), None)
    times: dict[str, list[float]] = {n: [] for n in variants}
    for _ in range(args.repeat):
        for name, (code, processes) in variants.items():
            times[name].append(run_stage(code, args.stage_of, args.workdir / f"stage-{name}.duckdb",
                                         processes))
            print(f"{name}: excerpt stage {times[name][-1]:.1f} s", flush=True)
    base = next(iter(variants))
    med = {n: statistics.median(t) for n, t in times.items()}
    print("excerpt stage: " + ", ".join(f"{n} median {m:.1f} s" for n, m in med.items()) + "; "
          + ", ".join(f"{n} / {base} = {m / med[base]:.2f}" for n, m in med.items() if n != base))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workdir", type=Path, default=Path("bench-build"))
    ap.add_argument("--against", type=Path, default=None, help="another checkout to compare with")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--processes", default="",
                    help="comma-separated process counts to build this checkout with, e.g. 1,2")
    ap.add_argument("--second", action=argparse.BooleanOptionalAction, default=True,
                    help="also time a second build over the same files (default: yes)")
    ap.add_argument("--stage-of", type=Path, default=None, metavar="WAREHOUSE",
                    help="time only the excerpt stage, on copies of this built warehouse with "
                    "every excerpt removed (with --processes; --against runs its one-step path)")
    ap.add_argument("--day", action="store_true",
                    help="time the one-day incremental build instead (see above)")
    args = ap.parse_args()
    counts = [int(n) for n in args.processes.split(",") if n.strip()]
    if args.stage_of:
        args.workdir.mkdir(parents=True, exist_ok=True)
        return stage_only(args, counts or [1, 2])
    exports = args.workdir / "exports"
    if not (exports / "groundtruth.json").exists():
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "followthrough.cli", "generate", "--seed",
                        str(args.seed), "--scale", str(args.scale), str(exports)], check=True,
                       stdout=subprocess.DEVNULL)
        print(f"generate: {time.perf_counter() - t0:.1f} s")
    variants: dict[str, tuple[Path, int | None]] = (
        {f"this-p{n}": (REPO, n) for n in counts} if counts else {"this": (REPO, None)})
    if args.against:
        variants["against"] = (args.against.resolve(), None)
    if args.day:
        return day_only(args, exports, variants)
    kinds = ("first", "second") if args.second else ("first",)
    times: dict[str, dict[str, list[float]]] = {n: {k: [] for k in kinds} for n in variants}
    for _ in range(args.repeat):
        for name, (code, processes) in variants.items():
            warehouse = args.workdir / f"{name}.duckdb"
            for p in (warehouse, warehouse.with_suffix(".duckdb.wal")):
                p.unlink(missing_ok=True)
            times[name]["first"].append(run_build(code, exports, warehouse, processes))
            line = f"{name}: first {times[name]['first'][-1]:.1f} s"
            if args.second:
                before = table_hashes(warehouse)
                times[name]["second"].append(run_build(code, exports, warehouse, processes))
                changed = [t for t, h in table_hashes(warehouse).items() if before.get(t) != h]
                line += (f", second {times[name]['second'][-1]:.1f} s, tables changed by the "
                         f"second: {changed or 'none'}")
            print(line, flush=True)
    base = next(iter(variants))
    for kind in kinds:
        med = {n: statistics.median(t[kind]) for n, t in times.items()}
        line = ", ".join(f"{n} median {m:.1f} s" for n, m in med.items())
        ratios = ", ".join(f"{n} / {base} = {m / med[base]:.2f}" for n, m in med.items()
                           if n != base)
        if "against" in med and base != "against":
            ratios += "".join(f", {n} / against = {m / med['against']:.2f}"
                              for n, m in med.items() if n not in (base, "against"))
        print(f"{kind} build: {line}" + (f"; {ratios}" if ratios else ""))
    for name in variants:
        if name != base:
            print(f"{base} vs {name}:", flush=True)
            subprocess.run([sys.executable, str(REPO / "benchmarks" / "compare_warehouses.py"),
                            str(args.workdir / f"{base}.duckdb"),
                            str(args.workdir / f"{name}.duckdb")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
