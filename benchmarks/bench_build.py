"""Time `followthrough build` as a user runs it (a whole process), and what a second run changes.

    .venv/bin/python benchmarks/bench_build.py [--scale 1] [--seed 7] [--workdir DIR]
        [--against CHECKOUT] [--repeat 2]

Generates the sample organisation unless WORKDIR holds one, then per round: a first build into
a new warehouse, a second build over the same files (no new data), and whether any
raw/core/models/marts row changed between them. With `--against` the same rounds also run the
code of another checkout (e.g. `git worktree add /tmp/base main`), alternating with this one so
both see the same machine load; the ratios of the medians are printed, and the two warehouses
are compared table by table.
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


def run_build(code: Path, exports: Path, warehouse: Path) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOLLOWTHROUGH_")}
    env["PYTHONPATH"] = str(code)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "followthrough.cli", "build", "--exports", str(exports),
                    "--warehouse", str(warehouse)], cwd=code, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workdir", type=Path, default=Path("bench-build"))
    ap.add_argument("--against", type=Path, default=None, help="another checkout to compare with")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    exports = args.workdir / "exports"
    if not (exports / "groundtruth.json").exists():
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "followthrough.cli", "generate", "--seed",
                        str(args.seed), "--scale", str(args.scale), str(exports)], check=True,
                       stdout=subprocess.DEVNULL)
        print(f"generate: {time.perf_counter() - t0:.1f} s")
    codes = {"this": REPO} | ({"against": args.against.resolve()} if args.against else {})
    times: dict[str, dict[str, list[float]]] = {n: {"first": [], "second": []} for n in codes}
    for _ in range(args.repeat):
        for name, code in codes.items():
            warehouse = args.workdir / f"{name}.duckdb"
            for p in (warehouse, warehouse.with_suffix(".duckdb.wal")):
                p.unlink(missing_ok=True)
            times[name]["first"].append(run_build(code, exports, warehouse))
            before = table_hashes(warehouse)
            times[name]["second"].append(run_build(code, exports, warehouse))
            changed = [t for t, h in table_hashes(warehouse).items() if before.get(t) != h]
            print(f"{name}: first {times[name]['first'][-1]:.1f} s, second "
                  f"{times[name]['second'][-1]:.1f} s, tables changed by the second: "
                  f"{changed or 'none'}")
    for kind in ("first", "second"):
        line = ", ".join(f"{n} median {statistics.median(t[kind]):.1f} s" for n, t in times.items())
        if args.against:
            ratio = statistics.median(times["this"][kind]) / statistics.median(
                times["against"][kind])
            line += f"; this / against = {ratio:.2f}"
        print(f"{kind} build: {line}")
    if args.against:
        subprocess.run([sys.executable, str(REPO / "benchmarks" / "compare_warehouses.py"),
                        str(args.workdir / "against.duckdb"), str(args.workdir / "this.duckdb")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
