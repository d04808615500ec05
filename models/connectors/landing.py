"""Fetched pages land as files in the export format, so the `files` loader maps them.

Each record lives in exactly one file, chosen by something that never changes (the day it was
created, its repository); a record fetched again replaces itself in that file. Files and cursors
are written atomically, so a run killed at any point leaves whole files, and the rerun — starting
from the last saved cursor, with overlap — ends with the same files as an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

STATE_DIR = ".state"


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def slug(text: str) -> str:
    """A file-name-safe form of a repository, project or channel name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "__", text).strip("_") or "_"


def day_of(timestamp: str | None) -> str:
    """UTC day (YYYY-MM-DD) of an ISO timestamp; 'undated' when there is none."""
    if not timestamp:
        return "undated"
    try:
        dt = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return timestamp[:10] if re.match(r"\d{4}-\d{2}-\d{2}", timestamp) else "undated"
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC)
    return dt.date().isoformat()


def month_of(timestamp: str | None) -> str:
    day = day_of(timestamp)
    return day[:7] if day != "undated" else day


@dataclass(frozen=True)
class Shape:
    """How a landed file wraps its records: `container` is the key path to the list."""

    container: tuple[str, ...]
    extra: dict[str, Any] = field(default_factory=dict)

    def wrap(self, records: list[Any]) -> Any:
        doc: Any = records
        for key in reversed(self.container):
            doc = {key: doc}
        if isinstance(doc, dict):
            doc = {**self.extra, **doc}
        return doc

    def unwrap(self, doc: Any) -> list[Any]:
        cur = doc
        for key in self.container:
            if not isinstance(cur, dict):
                return []
            cur = cur.get(key, [])
        return cur if isinstance(cur, list) else []


BARE = Shape(())


class Landing:
    """The export directory the connectors write into."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.files_written = 0
        self.records_written = 0
        self._staged: dict[str, tuple[list[Any], Callable[[Any], Any], Shape]] = {}

    def path(self, rel: str) -> Path:
        return self.root / rel

    def read_records(self, rel: str, shape: Shape) -> list[Any]:
        path = self.path(rel)
        if not path.is_file():
            return []
        try:
            return shape.unwrap(json.loads(path.read_bytes()))
        except (OSError, ValueError):
            return []  # a damaged landed file is rewritten whole from what is fetched now

    def merge(self, rel: str, records: Iterable[Any], key: Callable[[Any], Any],
              shape: Shape = BARE) -> int:
        """Add or replace records (by key) in one landed file; returns how many were new."""
        incoming = list(records)
        if not incoming:
            return 0
        existing = self.read_records(rel, shape)
        by_key: dict[str, Any] = {str(key(r)): r for r in existing}
        before = len(by_key)
        changed = False
        for r in incoming:
            k = str(key(r))
            if by_key.get(k) != r:
                by_key[k] = r
                changed = True
        if not changed:
            return 0
        ordered = [by_key[k] for k in sorted(by_key, key=_natural)]
        doc = shape.wrap(ordered)
        if isinstance(doc, dict) and "total_count" in shape.extra:
            doc["total_count"] = len(ordered)
        atomic_write(self.path(rel), json.dumps(doc, ensure_ascii=False, indent=None,
                                                separators=(",", ":")).encode("utf-8"))
        self.files_written += 1
        self.records_written += len(incoming)
        return len(by_key) - before

    def stage(self, rel: str, records: Iterable[Any], key: Callable[[Any], Any],
              shape: Shape = BARE) -> None:
        """Collect records for `merge` at the next `flush`: a day's pages write each file once."""
        entry = self._staged.get(rel)
        if entry is None:
            self._staged[rel] = (list(records), key, shape)
        else:
            entry[0].extend(records)

    def flush(self) -> None:
        """Write every staged file; call before saving a cursor that counts them as landed."""
        staged, self._staged = self._staged, {}
        for rel, (records, key, shape) in staged.items():
            self.merge(rel, records, key, shape)

    def write_bytes(self, rel: str, data: bytes) -> None:
        path = self.path(rel)
        if path.is_file() and path.read_bytes() == data:
            return
        atomic_write(path, data)
        self.files_written += 1

    def exists(self, rel: str) -> bool:
        return self.path(rel).is_file()

    def load_state(self, source: str) -> dict[str, Any]:
        path = self.root / STATE_DIR / f"{source}.json"
        try:
            data = json.loads(path.read_bytes())
        except FileNotFoundError:
            return {}
        except ValueError as exc:
            raise ValueError(f"{path}: cursor file is damaged ({exc}); delete it to "
                             "re-read the whole window") from None
        return data if isinstance(data, dict) else {}

    def save_state(self, source: str, state: dict[str, Any]) -> None:
        atomic_write(self.root / STATE_DIR / f"{source}.json",
                     json.dumps(state, indent=2, sort_keys=True).encode("utf-8"))


def _natural(k: str) -> tuple[int, int | str]:
    return (0, int(k)) if k.isdigit() else (1, k)
