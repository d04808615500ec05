"""Ingesting an export directory (the `files` source) into `raw`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import duckdb

from warehouse.loader import LoadResult, Source, discover, load_files
from warehouse.sources import (
    ALL_SOURCES,
    LOG_SOURCES,
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
    postmortems: Path | None = None,
    payloads: str = "small",
) -> LoadResult:
    """Load one source; `postmortems` names a postmortem folder other than `<root>/postmortems`."""
    if not root.is_dir():
        raise FileNotFoundError(f"export directory {root} does not exist")
    root = root.resolve()  # once, so every discovered path is absolute and canonical
    reader = None
    if source is POSTMORTEMS:
        folder = (postmortems or root / "postmortems").resolve()
        if postmortems is not None and not folder.is_dir():
            raise FileNotFoundError(f"postmortem folder {postmortems} does not exist")
        paths = discover(folder, source) if folder.is_dir() else []
        reader = make_postmortem_reader(folder)
    else:
        paths = discover(root, source, dates if source.dated else None)
        if source in LOG_SOURCES:
            reader = read_log
    return load_files(conn, source, paths, read=reader, force=force, payloads=payloads)


def ingest(
    conn: duckdb.DuckDBPyConnection,
    root: Path,
    sources: Sequence[Source] = ALL_SOURCES,
    *,
    dates: Sequence[date] | None = None,
    force: bool = False,
    postmortems: Path | None = None,
    payloads: str = "small",
) -> list[LoadResult]:
    """Load `sources` from `root`; `payloads` says which raw tables keep vendor payloads
    (`small`, `all`, `none`: the FOLLOWTHROUGH_RAW_PAYLOADS setting)."""
    return [
        ingest_source(conn, root, s, dates=dates, force=force, postmortems=postmortems,
                      payloads=payloads)
        for s in sources
    ]
