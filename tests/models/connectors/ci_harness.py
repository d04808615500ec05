"""Helpers the GitLab and Buildkite connector tests share: landed files, rows, times."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb


def files(root: Path) -> dict[str, bytes]:
    """Every landed file but the cursors, by its path under the root."""
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and ".state" not in p.parts}


def rows(conn: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = conn.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
