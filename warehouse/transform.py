"""The SQL layer: each file `sql/<schema>/<table>.sql` is one SELECT whose rows replace
`<schema>.<table>` (whose columns the migrations own) in a single transaction.

What a step reads is parsed from its SQL by DuckDB itself, so the dependency graph (and with it
the build order) cannot drift from the queries.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import duckdb

from warehouse.db import transaction

SCHEMAS = ("core", "models", "marts")
_NAME = re.compile(r"^([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Step:
    schema: str
    table: str
    sql: str

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def reads(self) -> frozenset[str]:
        """The `schema.table` names the SELECT reads (CTE names excluded)."""
        return tables_read(self.sql)


@cache
def _parser() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()  # in memory: only its SQL parser is used


@cache
def tables_read(sql: str) -> frozenset[str]:
    """Schema-qualified base tables referenced anywhere in one SELECT, per DuckDB's parser."""
    cursor = _parser().cursor()
    try:
        tree = json.loads(cursor.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    finally:
        cursor.close()
    if tree.get("error"):
        raise ValueError(f"SQL does not parse: {tree.get('error_message')}")
    found: set[str] = set()
    stack: list[object] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("type") == "BASE_TABLE" and node.get("schema_name"):
                found.add(f"{node['schema_name']}.{node['table_name']}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return frozenset(found)


@cache
def steps(schema: str) -> tuple[Step, ...]:
    folder = resources.files("warehouse").joinpath("sql", schema)
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        m = _NAME.match(entry.name)
        if m:
            found.append(Step(schema, m.group(1), entry.read_text(encoding="utf-8")))
    return tuple(found)


def all_steps() -> tuple[Step, ...]:
    return tuple(s for schema in SCHEMAS for s in steps(schema))


def step(qualified: str) -> Step:
    schema, table = qualified.split(".", 1)
    for s in steps(schema):
        if s.table == table:
            return s
    raise KeyError(f"no SQL for {qualified}")


def rebuild(conn: duckdb.DuckDBPyConnection, s: Step) -> int:
    """Replace one table's rows with its SELECT; returns the new row count."""
    with transaction(conn):
        conn.execute(f"DELETE FROM {s.qualified}")
        conn.execute(f"INSERT INTO {s.qualified} BY NAME {s.sql}")
        count = conn.execute(f"SELECT count(*) FROM {s.qualified}").fetchone()
    return int(count[0]) if count else 0
