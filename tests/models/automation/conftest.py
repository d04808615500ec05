"""A small seeded warehouse and the fake vendors, for the automation tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.models.automation.fakes import Trackers, seed_warehouse, start_trackers
from warehouse.db import connect


@pytest.fixture
def wh(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    conn = connect(tmp_path / "w.duckdb")
    seed_warehouse(conn)
    yield conn
    conn.close()


@pytest.fixture
def trackers() -> Iterator[Trackers]:
    with start_trackers() as t:
        yield t
