"""Resources shared by the asset modules: the warehouse and the export directory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from warehouse.db import migrate, warehouse_path

DEFAULT_START_DATE = "2025-01-01"


def partitions_start() -> str:
    """First day of the daily partitions; set FOLLOWTHROUGH_START_DATE to your history's start."""
    value = os.environ.get("FOLLOWTHROUGH_START_DATE", DEFAULT_START_DATE)
    date.fromisoformat(value)
    return value


DAILY = dg.DailyPartitionsDefinition(start_date=partitions_start(), end_offset=1)


class ExportsResource(dg.ConfigurableResource):
    """The directory the `files` source reads (docs/export-format.md), and optionally a
    postmortem folder kept elsewhere (a checkout of the team's postmortem repository)."""

    path: str
    postmortems_path: str | None = None

    @property
    def root(self) -> Path:
        return Path(self.path)

    @property
    def postmortems(self) -> Path | None:
        return Path(self.postmortems_path) if self.postmortems_path else None


def default_exports() -> str:
    return os.environ.get("FOLLOWTHROUGH_EXPORTS") or "sample-org"


def default_resources(warehouse: str | os.PathLike[str] | None = None,
                      exports: str | os.PathLike[str] | None = None) -> dict[str, object]:
    return {
        "duckdb": DuckDBResource(database=str(warehouse_path(warehouse))),
        "exports": ExportsResource(
            path=str(exports or default_exports()),
            postmortems_path=os.environ.get("FOLLOWTHROUGH_POSTMORTEMS") or None,
        ),
    }


@contextmanager
def warehouse(resource: DuckDBResource) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to an up-to-date warehouse, in UTC."""
    with resource.get_connection() as conn:
        conn.execute("SET TimeZone = 'UTC'")
        migrate(conn)
        yield conn
