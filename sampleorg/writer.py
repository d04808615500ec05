"""Output helpers: compact JSON files and fast, vendor-flavoured timestamp strings.

Timestamps are plain integer/float epoch seconds inside the generator; formatting them is the
hottest path (millions of strings), so day prefixes are cached instead of going through datetime.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

_DUMPS = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_DAY_CACHE: dict[int, str] = {}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _day(days: int) -> str:
    s = _DAY_CACHE.get(days)
    if s is None:
        s = (_EPOCH + timedelta(days=days)).strftime("%Y-%m-%d")
        _DAY_CACHE[days] = s
    return s


def day_str(ts: float) -> str:
    """UTC calendar date of an epoch timestamp, `YYYY-MM-DD`."""
    return _day(int(ts) // 86400)


_HMS: list[str] = []


def _hms(sec: int) -> str:
    if not _HMS:
        _HMS.extend(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400))
    return _HMS[sec]


def iso_z(ts: float) -> str:
    """GitHub/PagerDuty style: `2025-06-03T14:02:11Z`."""
    t = int(ts)
    return f"{_day(t // 86400)}T{_hms(t % 86400)}Z"


def iso_ms_z(ts: float) -> str:
    """Linear style: `2025-06-03T14:02:11.123Z`."""
    t = int(ts)
    ms = round((ts - t) * 1000) % 1000
    return f"{_day(t // 86400)}T{_hms(t % 86400)}.{ms:03d}Z"


def iso_pacific(ts: float) -> str:
    """GitHub step style with a fixed -08:00 offset: `2020-01-20T09:42:40.000-08:00`."""
    t = int(ts) - 8 * 3600
    return f"{_day(t // 86400)}T{_hms(t % 86400)}.000-08:00"


def iso_jira(ts: float) -> str:
    """Jira style: `2025-06-03T14:02:11.123+0000`."""
    t = int(ts)
    ms = round((ts - t) * 1000) % 1000
    return f"{_day(t // 86400)}T{_hms(t % 86400)}.{ms:03d}+0000"


def log_ts(ts: float) -> str:
    """GitHub Actions log line prefix timestamp with 7 fractional digits."""
    t = int(ts)
    frac = int((ts - t) * 10_000_000)
    return f"{_day(t // 86400)}T{_hms(t % 86400)}.{frac:07d}Z"


def epoch(dt: datetime) -> float:
    """Epoch seconds of an aware datetime."""
    return (dt - _EPOCH).total_seconds()


def from_epoch(ts: float) -> datetime:
    return _EPOCH + timedelta(seconds=ts)


def dumps(obj: Any) -> str:
    """Compact, deterministic JSON (insertion order is fixed by construction)."""
    return _DUMPS(obj)


class NullStage:
    """A progress stage that reports nothing."""

    def __enter__(self) -> NullStage:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def advance(self, n: int = 1) -> None:
        pass

    def set(self, count: int) -> None:
        pass


class NullProgress:
    """The default progress reporter: silent. Any object with the same `stage` method will do
    (e.g. `followthrough.progress.Progress`); its stages need `advance`, `set` and `with`."""

    def stage(self, name: str, total: int | None = None, unit: str = "items") -> NullStage:
        return NullStage()


class OutputTree:
    """Writes files under the export root, creating folders once and counting bytes.

    Each file written advances `stage` by one (a progress stage; silent by default).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.bytes_written = 0
        self.files_written = 0
        self.stage: Any = NullStage()
        self._dirs: set[str] = set()

    def _ensure(self, rel_dir: str) -> None:
        if rel_dir not in self._dirs:
            os.makedirs(self.root / rel_dir, exist_ok=True)
            self._dirs.add(rel_dir)

    def write_text(self, rel_path: str, text: str) -> None:
        rel_dir = rel_path.rpartition("/")[0]
        if rel_dir:
            self._ensure(rel_dir)
        data = text.encode("utf-8")
        with open(self.root / rel_path, "wb") as fh:
            fh.write(data)
        self.bytes_written += len(data)
        self.files_written += 1
        self.stage.advance()

    def write_json(self, rel_path: str, obj: Any) -> None:
        self.write_text(rel_path, dumps(obj))
