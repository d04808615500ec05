"""What every connector gets and returns: `fetch(config, ctx) -> FetchResult`."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from models.connectors.config import SourceConfig
from models.connectors.http import RetryPolicy
from models.connectors.landing import Landing

Progress = Callable[[str, int, int | None], None]
FETCH_CHECK = "fetch_succeeded"  # the raw assets' check that reports a fetch's outcome


class MissingSecret(ValueError):
    def __init__(self, source: str, key: str, variable: str) -> None:
        super().__init__(
            f"{source}: environment variable {variable} (sources.{source}.{key}) is not set"
        )
        self.source = source
        self.variable = variable


def _no_progress(stage: str, done: int, total: int | None) -> None:
    return None


@dataclass
class FetchContext:
    landing: Landing
    since: datetime  # where a source with no saved cursor starts
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    sleep: Callable[[float], None] = time.sleep
    progress: Progress = _no_progress

    def policy(self, cfg: SourceConfig) -> RetryPolicy:
        return RetryPolicy(max_attempts=cfg.max_attempts, timeout_s=cfg.timeout_s)

    def secret(self, source: str, cfg: Any, key: str = "token_env") -> str:
        variable = getattr(cfg, key)
        value = self.env.get(variable) if variable else None
        if not value:
            raise MissingSecret(source, key, variable or "(none named)")
        return value

    def start(self, cursor: str | None, overlap_minutes: float) -> datetime:
        """Window start: the saved cursor less the overlap, or `since` on the first run."""
        if not cursor:
            return self.since
        at = parse_time(cursor)
        if at is None:
            return self.since
        return at - timedelta(minutes=overlap_minutes)


@dataclass
class FetchResult:
    source: str
    records: int = 0
    files: int = 0
    requests: int = 0
    waited_s: float = 0.0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        extra = f"; waited {self.waited_s:.0f} s for rate limits" if self.waited_s >= 1 else ""
        return (f"{self.source}: {self.records:,} record(s) in {self.files:,} file(s) written, "
                f"{self.requests:,} request(s), {self.seconds:.1f} s{extra}")


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def since_time(value: str, now: datetime | None = None) -> datetime:
    """`30d`, `12h`, `2w` before now, or a date/timestamp: where a first fetch starts."""
    now = now or datetime.now(UTC)
    value = value.strip()
    units = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    if value and value[-1] in units and value[:-1].replace(".", "", 1).isdigit():
        return now - timedelta(**{units[value[-1]]: float(value[:-1])})
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--since {value!r}: expected e.g. 30d, 12h, 2w or a date "
                         "(2026-01-31)") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)
