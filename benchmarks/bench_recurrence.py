"""Recurrence links and clusters against the sample organisation's planted truth.

    .venv/bin/python benchmarks/bench_recurrence.py [--scale 1] [--seed 7] [--workdir DIR]

Builds (or reuses) a generated organisation's warehouse, then prints precision and recall of
models.recurrences (earlier tickets, earlier postmortems, "fix did not hold") and how whole and
clean the planted patterns' clusters are.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from followthrough.commands.build import build
from models.settings import Settings
from sampleorg import generate
from sampleorg.evaluate import cluster_purity, recurrence_scores


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="ft-rec-"))
    exports, warehouse = work / "exports", work / "warehouse.duckdb"
    if not (exports / "groundtruth.json").exists():
        generate(exports, seed=args.seed, scale=args.scale)
    t0 = time.perf_counter()
    build(Settings(warehouse=warehouse, exports=exports))
    print(f"build: {time.perf_counter() - t0:.1f} s")
    for name, score in recurrence_scores(exports, warehouse).items():
        print(f"{name:<18} {score}")
    print(cluster_purity(exports, warehouse))


if __name__ == "__main__":
    main()
