"""The SQL layer: each file `sql/<schema>/<table>.sql` is one SELECT whose rows replace
`<schema>.<table>` (whose columns the migrations own) in a single transaction.

What a step reads is parsed from its SQL by DuckDB itself, so the dependency graph (and with it
the build order) cannot drift from the queries.

A large table may be rebuilt by key: beside its SQL, `<table>.keys.sql` selects the keys whose
rows may differ since the table was last rebuilt, given `changed_files` (the raw.files loaded
since then); only those keys' rows are deleted and selected again. The whole table is rebuilt
when that does not hold: no earlier rebuild by this SQL, a file reloaded (rows it held may be
gone from raw, so in no list), or so many keys that the whole SELECT costs less.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

import duckdb

from warehouse.db import transaction

SCHEMAS = ("core", "models", "marts")
_NAME = re.compile(r"^([a-z0-9_]+)\.sql$")
# Above this share of a table's rows, rebuilding it whole is cheaper than by key.
WHOLE_ABOVE = 0.2


@dataclass(frozen=True)
class Step:
    schema: str
    table: str
    sql: str
    keys_sql: str | None = None  # `<table>.keys.sql`: the keys to redo (rebuilt by key)

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
            found.append(Step(schema, m.group(1), entry.read_text(encoding="utf-8"),
                              _keys_text(folder, m.group(1))))
    return tuple(found)


# A keys file holding only this comment uses the named file of the same folder.
_SAME_KEYS = re.compile(r"^--\s*same keys as ([a-z0-9_]+\.keys\.sql)\s*$", re.M)


def _keys_text(folder: Traversable, table: str) -> str | None:
    keys = folder.joinpath(f"{table}.keys.sql")
    if not keys.is_file():
        return None
    text = keys.read_text(encoding="utf-8")
    same = _SAME_KEYS.search(text)
    return folder.joinpath(same.group(1)).read_text(encoding="utf-8") if same else text


def all_steps() -> tuple[Step, ...]:
    return tuple(s for schema in SCHEMAS for s in steps(schema))


def step(qualified: str) -> Step:
    schema, table = qualified.split(".", 1)
    for s in steps(schema):
        if s.table == table:
            return s
    raise KeyError(f"no SQL for {qualified}")


def rebuild(conn: duckdb.DuckDBPyConnection, s: Step) -> int:
    """Replace one table's rows with its SELECT (only the changed keys' rows when the step is
    rebuilt by key and may be); returns the new row count."""
    with transaction(conn):
        if s.keys_sql is None or not _rebuild_keys(conn, s):
            conn.execute(f"DELETE FROM {s.qualified}")
            conn.execute(f"INSERT INTO {s.qualified} BY NAME {s.sql}")
        if s.keys_sql is not None:
            conn.execute(
                "INSERT OR REPLACE INTO meta.table_builds "
                "SELECT ?, ?, (SELECT max(loaded_at) FROM raw.files), now()",
                [s.qualified, _digest(s)])
        count = conn.execute(f"SELECT count(*) FROM {s.qualified}").fetchone()
    return int(count[0]) if count else 0


def _digest(s: Step) -> str:
    return hashlib.sha256(f"{s.sql}\0{s.keys_sql}".encode()).hexdigest()


def _rebuild_keys(conn: duckdb.DuckDBPyConnection, s: Step) -> bool:
    """Redo the rows of the keys `s.keys_sql` selects, inside the caller's transaction;
    False (nothing done) when the table must be rebuilt whole."""
    row = conn.execute(
        "SELECT b.files_upto, "
        "EXISTS (SELECT 1 FROM meta.reloaded_files r WHERE r.reloaded_at > b.files_upto) "
        "FROM meta.table_builds b WHERE b.table_name = ? AND b.sql_sha256 = ?",
        [s.qualified, _digest(s)]).fetchone()
    if row is None or row[0] is None or row[1]:
        return False
    conn.execute("CREATE OR REPLACE TEMP TABLE changed_files AS "
                 "SELECT path FROM raw.files WHERE loaded_at > ?", [row[0]])
    try:
        conn.execute(f"CREATE OR REPLACE TEMP TABLE changed_keys AS {s.keys_sql}")
        names = [d[0] for d in conn.execute("SELECT * FROM changed_keys LIMIT 0").description]
        keys = ", ".join(f'"{n}"' for n in names)
        changed = conn.execute("SELECT count(*) FROM changed_keys").fetchone()[0]
        total = conn.execute(f"SELECT count(*) FROM {s.qualified}").fetchone()[0]
        if changed > WHOLE_ABOVE * total:
            return False
        if changed:
            conn.execute(f"DELETE FROM {s.qualified} WHERE ({keys}) IN "
                         f"(SELECT {keys} FROM changed_keys)")
            conn.execute(f"INSERT INTO {s.qualified} BY NAME SELECT * FROM ({s.sql}) "
                         f"WHERE ({keys}) IN (SELECT {keys} FROM changed_keys)")
        return True
    finally:
        conn.execute("DROP TABLE IF EXISTS changed_keys")
        conn.execute("DROP TABLE IF EXISTS changed_files")
