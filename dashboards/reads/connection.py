"""Opening the warehouse for the dashboard, free of any Streamlit import.

The dashboard must never hold the DuckDB file open: Dagster's writer needs the exclusive lock.
Every query therefore opens the file read-only, reads, and closes before returning.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from warehouse.db import warehouse_path, yield_to_writer

# The variable warehouse.db.warehouse_path reads; `followthrough serve` hands the file over in it.
WAREHOUSE_ENV = "FOLLOWTHROUGH_WAREHOUSE"
BUILD_HINT = "Build it with `followthrough build` (or `make demo` for the sample organisation)."


class WarehouseError(Exception):
    """Base for conditions the dashboard explains to the user instead of showing a traceback."""


class WarehouseMissing(WarehouseError):
    """The DuckDB file does not exist yet."""


class WarehouseBusy(WarehouseError):
    """A writer (usually a Dagster run) holds the lock on the DuckDB file."""


class TableMissing(WarehouseError):
    """The file exists but the table this page needs has not been built."""

    def __init__(self, table: str, path: Path) -> None:
        super().__init__(f"table {table} not found in {path}")
        self.table = table
        self.path = path


def warehouse() -> Path:
    """The warehouse file, by the one rule of `warehouse.db.warehouse_path`."""
    return warehouse_path().expanduser()


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    if not path.is_file():
        raise WarehouseMissing(f"warehouse file {path} does not exist")
    yield_to_writer(path)  # a build running: let it find the file free between reads
    try:
        return duckdb.connect(str(path), read_only=True)
    except (duckdb.IOException, duckdb.ConnectionException) as exc:
        raise WarehouseBusy(f"warehouse {path} is locked by a writer: {exc}") from exc


def table_exists(path: Path, table: str) -> bool:
    """True when `schema.table` exists; raises WarehouseMissing/WarehouseBusy like queries do."""
    with opened(path) as con:
        return has_table(con, table)


def has_rows(path: Path, table: str) -> bool:
    """True when `schema.table` exists and holds a row: whether a step was built, without
    reading the table."""
    with opened(path) as con:
        if not has_table(con, table):
            return False
        return con.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None


def query(path: Path, sql: str, table: str, params: list[object] | None = None, *,
          times: tuple[str, ...] = ()) -> pd.DataFrame:
    """Run one read-only query and close the file at once; `table` names what a miss means.

    `times` are timestamp columns, returned as UTC-aware pandas datetimes."""
    con = _connect(path)
    try:
        return fetch(con, path, sql, table, params, times=times)
    finally:
        con.close()


@contextmanager
def opened(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The file open read-only for a few statements of one read, closed on leaving: opening
    costs more than a small query, so a reader needing two looks pays it once."""
    con = _connect(path)
    try:
        yield con
    finally:
        con.close()


def fetch(con: duckdb.DuckDBPyConnection, path: Path, sql: str, table: str,
          params: list[object] | None = None, *, times: tuple[str, ...] = ()) -> pd.DataFrame:
    """`query` on a connection already open (see `opened`)."""
    try:
        df = con.execute(sql, params or []).to_arrow_table().to_pandas()
    except duckdb.CatalogException as exc:
        raise TableMissing(table, path) from exc
    for col in times:
        df[col] = pd.to_datetime(df[col], utc=True)
    return df


def has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether `schema.table` exists, on a connection already open."""
    schema, name = table.split(".", 1)
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, name],
    ).fetchone()
    return bool(row and row[0])


def grouped(path: Path, table: str, key: str, columns: str, order: str,
            times: tuple[str, ...] = ()) -> pd.DataFrame:
    """A mart stored per `grouping_set` ('all' or one value of `key`): every row of it."""
    return query(path, f"SELECT grouping_set, {key}, {columns} FROM {table} ORDER BY {order}",
                 table, times=times)
