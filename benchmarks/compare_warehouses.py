"""Which tables of two warehouses hold different rows (order-independent hashes).

    .venv/bin/python benchmarks/compare_warehouses.py BEFORE.duckdb AFTER.duckdb

Load times are left out. Numbers are compared as DOUBLE, so a column whose type widened
(INTEGER to DOUBLE) but whose values did not change counts as unchanged; the strict hash is
printed beside it. Exit 1 when a table present in both differs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "UBIGINT",
           "UINTEGER", "USMALLINT", "UTINYINT")
IGNORED = ("loaded_at", "quarantined_at", "checked_at", "mtime_ns")


def table_hashes(path: Path) -> dict[str, tuple[int, int, int]]:
    """`schema.table` -> (rows, strict hash, numeric-normalised hash)."""
    conn = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('raw', 'core', 'models', 'marts') ORDER BY ALL"
        ).fetchall()
        for schema, name in tables:
            cols = conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                [schema, name]).fetchall()
            cols = [(c, t) for c, t in cols if c not in IGNORED]
            strict = ", ".join(f'"{c}"' for c, _ in cols)
            loose = ", ".join(f'"{c}"::DOUBLE' if t in NUMERIC else f'"{c}"' for c, t in cols)
            out[f"{schema}.{name}"] = conn.execute(
                f"SELECT count(*), coalesce(sum(hash({strict})), 0), "
                f"coalesce(sum(hash({loose})), 0) FROM {schema}.{name}"
            ).fetchone()
        return out
    finally:
        conn.close()


def main() -> int:
    before, after = (table_hashes(Path(p)) for p in sys.argv[1:3])
    differ = 0
    for name in sorted(set(before) | set(after)):
        a, b = before.get(name), after.get(name)
        if a is None or b is None:
            print(f"{name}: only in {'after' if a is None else 'before'}")
        elif a[2] != b[2]:
            differ += 1
            print(f"{name}: DIFFERENT rows {a[0]} -> {b[0]}")
        elif a[1] != b[1]:
            print(f"{name}: same values, column types changed")
    same = sum(1 for n in before if n in after and before[n][2] == after[n][2])
    print(f"{same} of {len(set(before) & set(after))} shared tables hold the same rows")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
