"""Rebuilding `core` and `marts` tables from the SQL files in `warehouse/sql/`.

Each file `sql/<schema>/NN_<table>.sql` is one SELECT; its result replaces `<schema>.<table>`
(whose columns the migrations own) in a single transaction, so readers never see half a table.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from importlib import resources

import duckdb

_NAME = re.compile(r"^\d{2}_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Step:
    schema: str
    table: str
    sql: str

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"


def steps(schema: str) -> list[Step]:
    folder = resources.files("warehouse").joinpath("sql", schema)
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        m = _NAME.match(entry.name)
        if m:
            found.append(Step(schema, m.group(1), entry.read_text(encoding="utf-8")))
    return found


def step(qualified: str) -> Step:
    schema, table = qualified.split(".", 1)
    for s in steps(schema):
        if s.table == table:
            return s
    raise KeyError(f"no SQL for {qualified}")


def rebuild(conn: duckdb.DuckDBPyConnection, s: Step) -> int:
    """Replace one table's rows with its SELECT; returns the new row count."""
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute(f"DELETE FROM {s.qualified}")
        conn.execute(f"INSERT INTO {s.qualified} BY NAME {s.sql}")
        count = conn.execute(f"SELECT count(*) FROM {s.qualified}").fetchone()
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
    return int(count[0]) if count else 0


def rebuild_all(conn: duckdb.DuckDBPyConnection,
                schemas: tuple[str, ...] = ("core", "models", "marts"),
                ) -> dict[str, tuple[int, float]]:
    """Rebuild every table of the given layers in dependency order: name -> (rows, seconds)."""
    out: dict[str, tuple[int, float]] = {}
    for schema in schemas:
        for s in steps(schema):
            t0 = time.perf_counter()
            out[s.qualified] = (rebuild(conn, s), time.perf_counter() - t0)
    return out
