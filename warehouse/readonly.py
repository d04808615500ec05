"""Ad-hoc SQL on the warehouse that can only read it.

Three layers: only SELECT/EXPLAIN statements are accepted (a clear refusal otherwise), the file
is opened read-only, and external access (files, ATTACH, extensions) is disabled and locked.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import duckdb

from warehouse.db import warehouse_path, yield_to_writer

_ALLOWED = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
_REFUSALS = {
    duckdb.StatementType.ATTACH: "ATTACH is refused: only the warehouse itself can be queried",
    duckdb.StatementType.DETACH: "DETACH is refused",
    duckdb.StatementType.COPY: "COPY is refused: the warehouse is read-only and local files are off limits",
    duckdb.StatementType.LOAD: "INSTALL/LOAD is refused: extensions cannot be installed or loaded",
    duckdb.StatementType.SET: "SET is refused: settings are fixed for read-only queries",
    duckdb.StatementType.PRAGMA: "PRAGMA is refused",
    duckdb.StatementType.EXPORT: "EXPORT is refused",
}


class SqlRefused(ValueError):
    """The statement would write, reach outside the warehouse, or change settings."""


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]


def check_statements(sql: str) -> None:
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise SqlRefused(f"cannot parse SQL: {exc}") from exc
    if not statements:
        raise SqlRefused("no SQL statement given")
    for st in statements:
        if st.type in _ALLOWED:
            continue
        reason = _REFUSALS.get(
            st.type,
            f"{st.type.name} statements are refused: `followthrough sql` is read-only "
            "(SELECT, WITH ... SELECT, DESCRIBE, SUMMARIZE and EXPLAIN are allowed)",
        )
        raise SqlRefused(reason)


def query(sql: str, path: str | os.PathLike[str] | None = None) -> QueryResult:
    """Run read-only SQL; the result of the last statement is returned."""
    check_statements(sql)
    target = warehouse_path(path)
    if not target.exists():
        raise FileNotFoundError(
            f"no warehouse at {target}: build one with `followthrough build` or `make demo`"
        )
    yield_to_writer(target)
    conn = duckdb.connect(str(target), read_only=True, config={"enable_external_access": False})
    try:
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute("SET lock_configuration = true")
        try:
            rel = conn.execute(sql)
        except duckdb.PermissionException as exc:
            raise SqlRefused(
                f"refused: the query tries to reach outside the warehouse ({exc})"
            ) from exc
        columns = [d[0] for d in rel.description or []]
        rows = rel.fetchall()
    finally:
        conn.close()
    return QueryResult(columns, rows)
