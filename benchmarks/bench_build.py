"""Time `followthrough build` as a user runs it (a whole process), and what a second run changes.

    .venv/bin/python benchmarks/bench_build.py [--scale 1] [--seed 7] [--workdir DIR]
        [--against CHECKOUT] [--repeat 2] [--processes 1,2] [--second | --no-second]

Generates the sample organisation unless WORKDIR holds one, then per round: a first build into
a new warehouse, a second build over the same files (no new data), and whether any
raw/core/models/marts row changed between them. `--processes 1,2` builds this checkout once per
count (`followthrough build --processes N`); without it, with the build's default. With
`--against` the same rounds also run the code of another checkout (e.g. `git worktree add
/tmp/base main`). All variants alternate within each round so they see the same machine load;
the ratios of the medians to the first variant are printed, and every warehouse is compared
table by table with the first variant's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_warehouses import table_hashes

REPO = Path(__file__).resolve().parents[1]


def run_build(code: Path, exports: Path, warehouse: Path, processes: int | None = None) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOLLOWTHROUGH_")}
    env["PYTHONPATH"] = str(code)
    extra = ["--processes", str(processes)] if processes else []
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "followthrough.cli", "build", "--exports", str(exports),
                    "--warehouse", str(warehouse), *extra], cwd=code, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


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
    args = ap.parse_args()
    exports = args.workdir / "exports"
    if not (exports / "groundtruth.json").exists():
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "followthrough.cli", "generate", "--seed",
                        str(args.seed), "--scale", str(args.scale), str(exports)], check=True,
                       stdout=subprocess.DEVNULL)
        print(f"generate: {time.perf_counter() - t0:.1f} s")
    counts = [int(n) for n in args.processes.split(",") if n.strip()]
    variants: dict[str, tuple[Path, int | None]] = (
        {f"this-p{n}": (REPO, n) for n in counts} if counts else {"this": (REPO, None)})
    if args.against:
        variants["against"] = (args.against.resolve(), None)
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
