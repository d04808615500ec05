"""Every setting followthrough reads, parsed in one place, once per command or run.

Pure Python (no Dagster): the CLI, the Dagster settings resource and the dashboard all build
their `Settings` here.

Each value comes from an explicit override (a command-line flag), else a `FOLLOWTHROUGH_*`
environment variable, else its default. A bad value raises `SettingError` naming the variable,
the value and the form expected, so the CLI can print one line instead of a traceback.
The follow-through thresholds are stored with each build (`models.follow_through_settings`), so
the dashboard and SQL read the values a build used rather than the environment of the reader.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from models.analytics.follow_through import FollowThroughSettings

PREFIX = "FOLLOWTHROUGH_"
DEFAULT_WAREHOUSE = "warehouse.duckdb"
DEFAULT_EXPORTS = "sample-org"
DEFAULT_START_DATE = date(2025, 1, 1)


class SettingError(ValueError):
    """A setting holds a value followthrough cannot use."""

    def __init__(self, variable: str, value: str, expected: str) -> None:
        super().__init__(f"{variable}={value!r}: expected {expected}")
        self.variable, self.value, self.expected = variable, value, expected


def _number(var: str, raw: str, *, lower: float = 0.0, upper: float | None = None,
            lower_open: bool = False) -> float:
    bounds = f"a number {'>' if lower_open else '>='} {lower:g}"
    if upper is not None:
        bounds = f"a number in {'(' if lower_open else '['}{lower:g}, {upper:g}]"
    try:
        value = float(raw)
    except ValueError:
        raise SettingError(var, raw, f"{bounds} (e.g. 4.3)") from None
    if value != value or value < lower or (lower_open and value == lower) or (
            upper is not None and value > upper) or value == float("inf"):
        raise SettingError(var, raw, bounds)
    return value


def _count(var: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingError(var, raw, "a whole number >= 0 (e.g. 10)") from None
    if value < 0:
        raise SettingError(var, raw, "a whole number >= 0 (e.g. 10)")
    return value


def _timestamp(var: str, raw: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise SettingError(var, raw, "an ISO-8601 timestamp (e.g. 2026-03-01T00:00:00Z)") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _date(var: str, raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise SettingError(var, raw, "a date YYYY-MM-DD (e.g. 2025-05-01)") from None


def _path(var: str, raw: str) -> Path:
    if "\x00" in raw:
        raise SettingError(var, raw, "a file system path")
    return Path(raw).expanduser()


RAW_PAYLOADS = ("small", "all", "none")


def _payloads(var: str, raw: str) -> str:
    value = raw.lower()
    if value not in RAW_PAYLOADS:
        raise SettingError(var, raw, "one of small, all, none")
    return value


def _threshold_parser(name: str) -> Callable[[str, str], Any]:
    """How one follow-through threshold is read: days, hours and weeks may be fractional."""
    if name == "as_of":
        return _timestamp
    if name == "min_ci_runs":
        return _count
    if name == "fuzzy_threshold":
        return lambda var, raw: _number(var, raw, upper=1.0, lower_open=True)
    return _number


@dataclass(frozen=True)
class Settings:
    """What a command or a Dagster run works with; build one with `Settings.load`."""

    warehouse: Path = Path(DEFAULT_WAREHOUSE)
    exports: Path = Path(DEFAULT_EXPORTS)
    postmortems: Path | None = None
    start_date: date = DEFAULT_START_DATE
    # Which raw tables keep each record's vendor payload: "small" (all but the per-job CI
    # tables, whose payloads would multiply the warehouse size; their landed files keep them),
    # "all", or "none".
    raw_payloads: str = "small"
    follow_through: FollowThroughSettings = field(default_factory=FollowThroughSettings)

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, *, only: Iterable[str] | None = None,
             **overrides: Any) -> Settings:
        """Read the environment (or `env`), then apply non-None `overrides` (flags) on top.

        `only` names the variables (without prefix) a command needs, so an unrelated bad
        variable does not stop, say, a read-only query.
        """
        env = os.environ if env is None else env
        if only is not None:
            env = _only(env, *(n.upper() for n in only))

        def raw(name: str) -> str | None:
            value = env.get(PREFIX + name.upper())
            return None if value is None or value.strip() == "" else value.strip()

        values: dict[str, Any] = {}
        for name, parse in (("warehouse", _path), ("exports", _path), ("postmortems", _path),
                            ("start_date", _date), ("raw_payloads", _payloads)):
            text = raw(name)
            if text is not None:
                values[name] = parse(PREFIX + name.upper(), text)
        thresholds: dict[str, Any] = {}
        for f in fields(FollowThroughSettings):
            text = raw(f.name)
            if text is not None:
                thresholds[f.name] = _threshold_parser(f.name)(PREFIX + f.name.upper(), text)
        values["follow_through"] = FollowThroughSettings(**thresholds)
        settings = cls(**values)
        return settings.with_overrides(**overrides)

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with flags applied; None means "not given on the command line"."""
        given = {k: v for k, v in overrides.items() if v is not None}
        for key in ("warehouse", "exports", "postmortems"):
            if key in given:
                given[key] = Path(given[key]).expanduser()
        return replace(self, **given) if given else self

    def environment(self) -> dict[str, str]:
        """These settings as `FOLLOWTHROUGH_*` variables, for a child process (the dashboard)."""
        out = {
            PREFIX + "WAREHOUSE": str(self.warehouse.resolve()),
            PREFIX + "EXPORTS": str(self.exports),
            PREFIX + "START_DATE": self.start_date.isoformat(),
            PREFIX + "RAW_PAYLOADS": self.raw_payloads,
        }
        if self.postmortems is not None:
            out[PREFIX + "POSTMORTEMS"] = str(self.postmortems)
        for f in fields(FollowThroughSettings):
            value = getattr(self.follow_through, f.name)
            if value is not None:
                out[PREFIX + f.name.upper()] = (
                    value.isoformat() if isinstance(value, datetime) else repr(value)
                )
        return out


def warehouse_path(path: str | os.PathLike[str] | None = None,
                   env: Mapping[str, str] | None = None) -> Path:
    """The warehouse file: explicit path, else $FOLLOWTHROUGH_WAREHOUSE, else ./warehouse.duckdb."""
    if path:
        return Path(path).expanduser()
    return Settings.load(env, only=("WAREHOUSE",)).warehouse


def _only(env: Mapping[str, str], *names: str) -> dict[str, str]:
    return {PREFIX + n: env[PREFIX + n] for n in names if PREFIX + n in env}
