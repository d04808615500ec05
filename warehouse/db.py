"""Opening the warehouse and keeping its schema current.

Migrations are the numbered `.sql` files in `warehouse/migrations/`; `meta.schema_version`
records which ran, so opening a warehouse written by an older release upgrades it in place.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources

import duckdb

from models.settings import warehouse_path

_MIGRATION_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: readers never see a half-replaced table, a failure leaves the old rows."""
    conn.execute("BEGIN TRANSACTION")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every bundled migration, in order."""
    found = []
    for entry in resources.files("warehouse").joinpath("migrations").iterdir():
        m = _MIGRATION_NAME.match(entry.name)
        if m:
            found.append((int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    return sorted(found)


def current_version(conn: duckdb.DuckDBPyConnection) -> int:
    exists = conn.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'meta' AND table_name = 'schema_version'"
    ).fetchone()
    if not exists or not exists[0]:
        return 0
    row = conn.execute("SELECT max(version) FROM meta.schema_version").fetchone()
    return int(row[0] or 0) if row else 0


def migrate(conn: duckdb.DuckDBPyConnection, target: int | None = None) -> list[int]:
    """Apply pending migrations (each in its own transaction); return the versions applied."""
    applied = []
    have = current_version(conn)
    for version, name, sql in migrations():
        if version <= have or (target is not None and version > target):
            continue
        with transaction(conn):
            conn.execute(sql)
            conn.execute(
                "INSERT INTO meta.schema_version VALUES (?, ?, now())", [version, name]
            )
        applied.append(version)
    return applied


def connect(path: str | os.PathLike[str] | None = None) -> duckdb.DuckDBPyConnection:
    """A read-write connection to an up-to-date warehouse (created when missing)."""
    target = warehouse_path(path)
    if target.parent and not target.parent.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(str(target))
    conn.execute("SET TimeZone = 'UTC'")
    migrate(conn)
    return conn


def connect_readonly(path: str | os.PathLike[str] | None = None) -> duckdb.DuckDBPyConnection:
    target = warehouse_path(path)
    if not target.exists():
        raise FileNotFoundError(
            f"no warehouse at {target}: build one with `followthrough build` or `make demo`"
        )
    conn = duckdb.connect(str(target), read_only=True)
    conn.execute("SET TimeZone = 'UTC'")
    return conn


@contextmanager
def session(path: str | os.PathLike[str] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    conn = connect(path)
    try:
        yield conn
    finally:
        conn.close()
