"""What the Jira, Linear and PagerDuty connector tests share: a fetch context that records waits,
the landed tree, and a real warehouse loaded from it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from models.connectors.base import FetchContext
from models.connectors.landing import Landing
from warehouse.db import connect
from warehouse.ingest import ingest
from warehouse.loader import Source
from warehouse.transform import rebuild, step

VENDORS = Path(__file__).resolve().parents[2] / "fixtures" / "vendors"


def templates_dir(kind: str, request: pytest.FixtureRequest) -> Path:
    """`own`: the project's payloads; `published`: the vendors' examples in shared/contracts."""
    if kind == "own":
        return VENDORS
    shared = request.getfixturevalue("shared_dir")
    return shared / "contracts"


def context(root: Path, since: datetime, now: datetime, env: Mapping[str, str],
            waits: list[float]) -> FetchContext:
    return FetchContext(landing=Landing(root), since=since, now=now, env=dict(env),
                        sleep=waits.append)


def tree(root: Path) -> dict[str, bytes]:
    """Every landed file (cursors included) by its path under the root."""
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def warehouse(path: Path, root: Path, sources: Sequence[Source],
              core: Sequence[str] = ()) -> duckdb.DuckDBPyConnection:
    conn = connect(path)
    results = ingest(conn, root, sources)
    problems = [p for r in results for p in r.problems]
    assert not problems, problems
    for table in core:
        rebuild(conn, step(table))
    return conn


def rows(conn: duckdb.DuckDBPyConnection, table: str, order: str) -> list[tuple[Any, ...]]:
    """A table's rows without `source_path` (which names the landing root)."""
    cols = [c[0] for c in conn.execute(f"DESCRIBE {table}").fetchall()
            if c[0] not in ("source_path", "payload")]
    return conn.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY {order}").fetchall()
