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

from models.connectors.config import SOURCE_TYPES, Config, load_config, parse_config
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


class SourceResource(dg.ConfigurableResource):
    """One vendor account from `followthrough.toml` (`values` is its `[sources.NAME]` table,
    None when the file does not configure it). Tokens are read from the environment variables
    the table names when a fetch starts, and are never part of the resource's config."""

    name: str
    values: dict[str, Any] | None = None
    config_file: str = ""

    @property
    def configured(self) -> bool:
        return self.values is not None

    def source_config(self) -> Any:
        from pathlib import Path

        if self.values is None:
            return None
        path = Path(self.config_file or "followthrough.toml")
        return parse_config({"sources": {self.name: self.values}}, path).sources[self.name]

    def fetch(self, exports: Any, *, since: Any, progress: Any = None) -> Any:
        """Fetch new records into the export directory; returns a FetchResult."""
        from models.connectors import registry
        from models.connectors.base import FetchContext
        from models.connectors.landing import Landing

        ctx = FetchContext(Landing(exports), since=since)
        if progress is not None:
            ctx.progress = progress
        return registry.run(self.name, self.source_config(), ctx)


def source_resources(config: Config) -> dict[str, SourceResource]:
    """`source_<name>` for every source the project knows, configured or not."""
    path = str(config.path) if config.path else ""
    out: dict[str, SourceResource] = {}
    for name in SOURCE_TYPES:
        cfg = config.sources.get(name)
        values = None
        if cfg is not None:
            values = {k: list(v) if isinstance(v, tuple) else v
                      for k, v in cfg.__dict__.items()}
        out[f"source_{name}"] = SourceResource(name=name, values=values, config_file=path)
    return out


def resources_for(settings: Settings, config: Config | None = None) -> dict[str, Any]:
    """The resources every asset and check of this project may ask for.

    `config` is the sources file; by default `$FOLLOWTHROUGH_CONFIG` or ./followthrough.toml."""
    if config is None:
        config = load_config()
    return {
        "settings": SettingsResource.of(settings),
        "duckdb": DuckDBResource(database=str(settings.warehouse)),
        # Only the `models` and `marts` polars assets hand frames between assets through DuckDB.
        "polars_io": PolarsIOManager(database=str(settings.warehouse)),
        **source_resources(config),
    }


@contextmanager
def warehouse(resource: DuckDBResource) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to an up-to-date warehouse, in UTC."""
    with resource.get_connection() as conn:
        conn.execute("SET TimeZone = 'UTC'")
        migrate(conn)
        yield conn
