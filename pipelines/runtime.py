"""What every asset runs with: the settings resource, the warehouse connection, the resource set.

All of them are built from one `models.settings.Settings`, so the CLI, `dg dev` and the tests
hand assets the same values, and two assets of one run never read different thresholds.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import Field, PrivateAttr

from models.settings import PREFIX, Settings
from pipelines.io import PolarsIOManager
from warehouse.db import migrate


class SettingsResource(dg.ConfigurableResource):
    """The run's settings, parsed once when the run starts.

    `values` holds `FOLLOWTHROUGH_*` variables fixed by whoever built the resource (the CLI
    passes what it already parsed); the process environment supplies the rest.
    """

    values: dict[str, str] = Field(default_factory=dict)
    _settings: Settings | None = PrivateAttr(default=None)

    @classmethod
    def of(cls, settings: Settings) -> SettingsResource:
        return cls(values=settings.environment())

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._settings = self._load()

    def _load(self) -> Settings:
        env = {k: v for k, v in os.environ.items() if k.startswith(PREFIX)}
        return Settings.load({**env, **self.values})

    def get(self) -> Settings:
        if self._settings is None:  # used outside a run (direct asset invocation in tests)
            self._settings = self._load()
        return self._settings


def resources_for(settings: Settings) -> dict[str, Any]:
    """The resources every asset and check of this project may ask for."""
    return {
        "settings": SettingsResource.of(settings),
        "duckdb": DuckDBResource(database=str(settings.warehouse)),
        # Only the `models` and `marts` polars assets hand frames between assets through DuckDB.
        "polars_io": PolarsIOManager(database=str(settings.warehouse)),
    }


@contextmanager
def warehouse(resource: DuckDBResource) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to an up-to-date warehouse, in UTC."""
    with resource.get_connection() as conn:
        conn.execute("SET TimeZone = 'UTC'")
        migrate(conn)
        yield conn
