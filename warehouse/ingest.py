"""Ingesting an export directory (the `files` source) into `raw`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import duckdb

from warehouse.loader import LoadResult, Source, discover, load_files
from warehouse.sources import (
    ALL_SOURCES,
    GITHUB_LOGS,
    POSTMORTEMS,
    make_postmortem_reader,
    read_log,
)


def ingest_source(
    conn: duckdb.DuckDBPyConnection,
    root: Path,
    source: Source,
    *,
    dates: Sequence[date] | None = None,
    force: bool = False,
) -> LoadResult:
    if not root.is_dir():
        raise FileNotFoundError(f"export directory {root} does not exist")
    root = root.resolve()  # once, so every discovered path is absolute and canonical
    paths = discover(root, source, dates if source.dated else None)
    reader = None
    if source is GITHUB_LOGS:
        reader = read_log
    elif source is POSTMORTEMS:
        reader = make_postmortem_reader(root)
    return load_files(conn, source, paths, read=reader, force=force)


def ingest(
    conn: duckdb.DuckDBPyConnection,
    root: Path,
    sources: Sequence[Source] = ALL_SOURCES,
    *,
    dates: Sequence[date] | None = None,
    force: bool = False,
) -> list[LoadResult]:
    return [ingest_source(conn, root, s, dates=dates, force=force) for s in sources]
