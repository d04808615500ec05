"""Build time of the sample organisation's warehouse, and what a second run changes.

    .venv/bin/python benchmarks/bench_build.py [--scale 1] [--seed 7] [--workdir DIR]

Prints generation time, first build time, row counts per core table, the time-to-ticket median,
then a second build over the same files: its time and whether any raw/core/models/marts row
changed (an order-independent hash of every table before and after).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from followthrough.build import build
from sampleorg import generate


def table_hashes(path: Path) -> dict[str, tuple[int, int]]:
    conn = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('raw', 'core', 'models', 'marts') ORDER BY ALL"
        ).fetchall()
        for schema, name in tables:
            cols = [c for (c,) in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
                "AND table_name = ? AND column_name NOT IN ('loaded_at', 'quarantined_at')",
                [schema, name]).fetchall()]
            expr = ", ".join(f'"{c}"' for c in cols)
            out[f"{schema}.{name}"] = conn.execute(
                f"SELECT count(*), coalesce(sum(hash({expr})), 0) FROM {schema}.{name}"
            ).fetchone()
        return out
    finally:
        conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="ft-bench-"))
    exports, warehouse = work / "exports", work / "warehouse.duckdb"
    if not (exports / "groundtruth.json").exists():
        shutil.rmtree(exports, ignore_errors=True)
        t0 = time.perf_counter()
        generate(exports, seed=args.seed, scale=args.scale)
        print(f"generate: {time.perf_counter() - t0:.1f} s")
    warehouse.unlink(missing_ok=True)
    first = build(warehouse, exports)
    print("\n".join(first.lines()))
    before = table_hashes(warehouse)
    t0 = time.perf_counter()
    second = build(warehouse, exports)
    elapsed = time.perf_counter() - t0
    after = table_hashes(warehouse)
    changed = [name for name in before if before[name] != after.get(name)]
    print(f"second build: {elapsed:.1f} s, files loaded {sum(r.files_loaded for r in second.loads)}, "
          f"tables changed: {changed or 'none'}")


if __name__ == "__main__":
    main()
