"""Warehouse access and metrics for the dashboard, free of any Streamlit import.

The dashboard must never hold the DuckDB file open: Dagster's writer needs the exclusive lock.
Every query therefore opens the file read-only, reads, and closes before returning.
"""

from __future__ import annotations

import itertools
import math
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

WAREHOUSE_ENV = "FOLLOWTHROUGH_WAREHOUSE"
BENCHMARK_ENV = "FOLLOWTHROUGH_BENCHMARK_DAYS"
DEFAULT_WAREHOUSE = "warehouse.duckdb"
DEFAULT_BENCHMARK_DAYS = 4.3
BENCHMARK_LABEL = "vendor-reported industry figure"
BUILD_HINT = "Build it with `followthrough build` (or `make demo` for the sample organisation)."

NO_TEAM = "(no team)"
NO_SERVICE = "(no service)"

TIME_TO_TICKET_COLUMNS: tuple[str, ...] = (
    "action_item_id",
    "postmortem_id",
    "postmortem_title",
    "team",
    "service",
    "action_text",
    "owner",
    "priority",
    "identified_at",
    "ticket_key",
    "ticket_provider",
    "ticket_url",
    "ticket_created_at",
    "hours_to_ticket",
    "link_kind",
)


class WarehouseError(Exception):
    """Base for conditions the dashboard explains to the user instead of showing a traceback."""


class WarehouseMissing(WarehouseError):
    """The DuckDB file does not exist yet."""


class WarehouseBusy(WarehouseError):
    """A writer (usually a Dagster run) holds the lock on the DuckDB file."""


class TableMissing(WarehouseError):
    """The file exists but the table this page needs has not been built."""

    def __init__(self, table: str, path: Path) -> None:
        super().__init__(f"table {table} not found in {path}")
        self.table = table
        self.path = path


def warehouse_path(env: dict[str, str] | None = None) -> Path:
    """Resolve the warehouse file: FOLLOWTHROUGH_WAREHOUSE, else ./warehouse.duckdb."""
    env = os.environ if env is None else env
    return Path(env.get(WAREHOUSE_ENV) or DEFAULT_WAREHOUSE).expanduser()


def default_benchmark_days(env: dict[str, str] | None = None) -> float:
    """Benchmark from FOLLOWTHROUGH_BENCHMARK_DAYS; a malformed value falls back to 4.3."""
    env = os.environ if env is None else env
    raw = env.get(BENCHMARK_ENV, "").strip()
    if not raw:
        return DEFAULT_BENCHMARK_DAYS
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_BENCHMARK_DAYS
    return value if math.isfinite(value) and value > 0 else DEFAULT_BENCHMARK_DAYS


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    if not path.is_file():
        raise WarehouseMissing(f"warehouse file {path} does not exist")
    try:
        return duckdb.connect(str(path), read_only=True)
    except (duckdb.IOException, duckdb.ConnectionException) as exc:
        raise WarehouseBusy(f"warehouse {path} is locked by a writer: {exc}") from exc


def table_exists(path: Path, table: str) -> bool:
    """True when `schema.table` exists; raises WarehouseMissing/WarehouseBusy like queries do."""
    schema, name = table.split(".", 1)
    con = _connect(path)
    try:
        row = con.execute(
            "SELECT count(*) FROM information_schema.tables"
            " WHERE table_schema = ? AND table_name = ?",
            [schema, name],
        ).fetchone()
    finally:
        con.close()
    return bool(row and row[0])


def query(path: Path, sql: str, table: str, params: list[object] | None = None) -> pd.DataFrame:
    """Run one read-only query and close the file at once; `table` names what a miss means."""
    con = _connect(path)
    try:
        return con.execute(sql, params or []).to_arrow_table().to_pandas()
    except duckdb.CatalogException as exc:
        raise TableMissing(table, path) from exc
    finally:
        con.close()


def load_time_to_ticket(path: Path) -> pd.DataFrame:
    """All rows of marts.time_to_ticket, never-ticketed items included."""
    cols = ", ".join(TIME_TO_TICKET_COLUMNS)
    df = query(
        path,
        f"SELECT {cols} FROM marts.time_to_ticket"
        " ORDER BY identified_at NULLS LAST, action_item_id",
        "marts.time_to_ticket",
    )
    for col in ("identified_at", "ticket_created_at"):
        df[col] = pd.to_datetime(df[col], utc=True)
    df["hours_to_ticket"] = pd.to_numeric(df["hours_to_ticket"], errors="coerce")
    return df


def load_incidents(path: Path) -> pd.DataFrame:
    """core.incidents, for context pages; raises TableMissing when not built."""
    df = query(
        path,
        "SELECT incident_id, incident_number, title, service, team, priority, urgency, status,"
        " created_at, resolved_at, url FROM core.incidents ORDER BY created_at",
        "core.incidents",
    )
    for col in ("created_at", "resolved_at"):
        df[col] = pd.to_datetime(df[col], utc=True)
    return df


def load_postmortem_incident_ids(path: Path) -> set[str] | None:
    """Incident ids that have a postmortem, or None when core.postmortems is absent."""
    try:
        if not table_exists(path, "core.postmortems"):
            return None
        df = query(
            path,
            "SELECT DISTINCT incident_id FROM core.postmortems WHERE incident_id IS NOT NULL",
            "core.postmortems",
        )
    except TableMissing:
        return None
    return set(df["incident_id"].astype(str))


@dataclass(frozen=True)
class Headline:
    """Headline figures; every share uses *all* action items as denominator."""

    total: int
    ticketed: int
    timed: int  # ticketed items whose hours_to_ticket is known: the median's population
    never_ticketed: int
    median_hours: float | None
    km_median_hours: float | None
    within_24h: int
    beyond_benchmark: int
    benchmark_days: float

    @property
    def share_ticketed(self) -> float | None:
        return self.ticketed / self.total if self.total else None

    @property
    def share_never_ticketed(self) -> float | None:
        return self.never_ticketed / self.total if self.total else None

    @property
    def share_within_24h(self) -> float | None:
        return self.within_24h / self.total if self.total else None

    @property
    def share_beyond_benchmark(self) -> float | None:
        return self.beyond_benchmark / self.total if self.total else None

    @property
    def median_days(self) -> float | None:
        return None if self.median_hours is None else self.median_hours / 24.0

    @property
    def km_median_days(self) -> float | None:
        return None if self.km_median_hours is None else self.km_median_hours / 24.0


def _as_of(df: pd.DataFrame, as_of: datetime | None) -> pd.Timestamp:
    """Observation time for still-open items: now, or later if the data runs ahead of the clock."""
    stamp = pd.Timestamp(as_of or datetime.now(UTC))
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    latest = pd.concat([df["identified_at"], df["ticket_created_at"]]).max()
    if pd.notna(latest) and latest > stamp:
        return pd.Timestamp(latest)
    return stamp


def ticketed(df: pd.DataFrame) -> pd.Series:
    """Has a ticket. Not `hours_to_ticket IS NOT NULL`: that is also NULL when the ticket exists
    but the identification time is unknown, and such an item must not count as never ticketed."""
    return df["ticket_key"].notna() | df["hours_to_ticket"].notna()


def open_age_hours(df: pd.DataFrame, as_of: datetime | None = None) -> pd.Series:
    """Hours each never-ticketed item has been waiting at `as_of` (NaN if identified_at unknown)."""
    stamp = _as_of(df, as_of)
    age = (stamp - df["identified_at"]).dt.total_seconds() / 3600.0
    return age.where(~ticketed(df)).clip(lower=0.0)


def kaplan_meier_median(durations: np.ndarray, observed: np.ndarray) -> float | None:
    """Median time-to-event with right-censoring; None when survival never drops to 0.5.

    Never-ticketed items are censored at their current age, so they pull the median up instead
    of silently disappearing from it.
    """
    mask = ~np.isnan(durations)
    durations = durations[mask]
    observed = observed[mask].astype(bool)
    if durations.size == 0:
        return None
    survival = 1.0
    at_risk = durations.size
    for t in np.unique(durations):
        at_t = durations == t
        events = int(np.count_nonzero(at_t & observed))
        if events:
            survival *= 1.0 - events / at_risk
            if survival <= 0.5 + 1e-12:
                return float(t)
        at_risk -= int(np.count_nonzero(at_t))
    return None


def headline(df: pd.DataFrame, benchmark_days: float, as_of: datetime | None = None) -> Headline:
    """Headline metrics over marts.time_to_ticket rows.

    An item is beyond the benchmark when it was ticketed later than the benchmark, or is still
    unticketed and older than the benchmark (or of unknown age: it cannot be shown to be recent).
    """
    hours = df["hours_to_ticket"]
    ticketed_mask = ticketed(df)
    n_ticketed = int(ticketed_mask.sum())
    timed = int(hours.notna().sum())
    age = open_age_hours(df, as_of)
    beyond = int(beyond_benchmark_mask(df, benchmark_days, as_of).sum())

    # Ticketed items of unknown duration get NaN and drop out of the Kaplan–Meier estimate.
    durations = np.where(ticketed_mask, hours, age).astype(float)
    km = kaplan_meier_median(durations, ticketed_mask.to_numpy())
    return Headline(
        total=len(df),
        ticketed=n_ticketed,
        timed=timed,
        never_ticketed=len(df) - n_ticketed,
        median_hours=float(hours.median()) if timed else None,
        km_median_hours=km,
        within_24h=int((hours <= 24.0).sum()),
        beyond_benchmark=beyond,
        benchmark_days=benchmark_days,
    )


def _group_summary(df: pd.DataFrame, key: str, benchmark_days: float) -> pd.DataFrame:
    bench_hours = benchmark_days * 24.0
    g = df.assign(
        _ticketed=ticketed(df),
        _within=df["hours_to_ticket"] <= 24.0,
        _late=df["hours_to_ticket"] > bench_hours,
    ).groupby(key, dropna=False, sort=True)
    out = pd.DataFrame(
        {
            "items": g.size(),
            "ticketed": g["_ticketed"].sum().astype(int),
            "median_hours": g["hours_to_ticket"].median(),
            "within_24h": g["_within"].sum().astype(int),
            "ticketed_late": g["_late"].sum().astype(int),
        }
    )
    out["never_ticketed"] = out["items"] - out["ticketed"]
    out["share_never_ticketed"] = out["never_ticketed"] / out["items"]
    out["median_days"] = out["median_hours"] / 24.0
    return out.reset_index()


def by_team(df: pd.DataFrame, benchmark_days: float) -> pd.DataFrame:
    """Per-team counts and median; NULL teams are grouped as '(no team)' rather than dropped."""
    data = df.assign(team=df["team"].fillna(NO_TEAM))
    out = _group_summary(data, "team", benchmark_days)
    cols = [
        "team",
        "items",
        "ticketed",
        "never_ticketed",
        "share_never_ticketed",
        "median_hours",
        "median_days",
        "within_24h",
        "ticketed_late",
    ]
    return out[cols].sort_values(["items", "team"], ascending=[False, True], ignore_index=True)


def monthly_trend(df: pd.DataFrame, benchmark_days: float) -> pd.DataFrame:
    """Median time-to-ticket per month of identification; items without a date are left out."""
    dated = df[df["identified_at"].notna()]
    if dated.empty:
        return pd.DataFrame(
            columns=["month", "items", "ticketed", "never_ticketed", "median_hours", "median_days"]
        )
    month = dated["identified_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
    data = dated.assign(month=month.dt.to_timestamp())
    out = _group_summary(data, "month", benchmark_days)
    return out[
        [
            "month",
            "items",
            "ticketed",
            "never_ticketed",
            "share_never_ticketed",
            "median_hours",
            "median_days",
        ]
    ].sort_values("month", ignore_index=True)


# Bin edges in hours: roughly logarithmic so "same hour" and "three weeks" are both readable.
HISTOGRAM_EDGES_HOURS: tuple[float, ...] = (
    0.0,
    1.0,
    4.0,
    12.0,
    24.0,
    48.0,
    96.0,
    168.0,
    336.0,
    720.0,
    2160.0,
    math.inf,
)


def _hours_label(h: float) -> str:
    if math.isinf(h):
        return "∞"
    if h < 24:
        return f"{h:g} h"
    return f"{h / 24:g} d"


def distribution(df: pd.DataFrame) -> pd.DataFrame:
    """Ticketed items per log-ish time bin (days); ticketing at or before identification is 0."""
    hours = df["hours_to_ticket"].dropna().clip(lower=0.0)
    rows = []
    for lo, hi in itertools.pairwise(HISTOGRAM_EDGES_HOURS):
        count = int(((hours >= lo) & (hours < hi)).sum())
        label = f"{_hours_label(lo)} – {_hours_label(hi)}" if lo > 0 else f"< {_hours_label(hi)}"
        rows.append(
            {
                "bin": label,
                "start_days": lo / 24.0,
                "end_days": hi / 24.0,
                "items": count,
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class ItemFilter:
    """Filters of the action-item table; empty selections mean 'all'."""

    teams: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    status: str = "all"  # "all" | "ticketed" | "never ticketed"
    beyond_benchmark_only: bool = False


def beyond_benchmark_mask(
    df: pd.DataFrame, benchmark_days: float, as_of: datetime | None = None
) -> pd.Series:
    """Row-wise version of the headline's beyond-the-benchmark rule."""
    bench_hours = benchmark_days * 24.0
    age = open_age_hours(df, as_of)
    never = ~ticketed(df)
    return (df["hours_to_ticket"] > bench_hours) | (never & ~(age <= bench_hours))


def filter_items(
    df: pd.DataFrame,
    flt: ItemFilter,
    benchmark_days: float,
    as_of: datetime | None = None,
) -> pd.DataFrame:
    """Apply the action-item filters; NULL team/service match their '(no …)' labels."""
    mask = pd.Series(True, index=df.index)
    if flt.teams:
        mask &= df["team"].fillna(NO_TEAM).isin(flt.teams)
    if flt.services:
        mask &= df["service"].fillna(NO_SERVICE).isin(flt.services)
    if flt.status == "ticketed":
        mask &= ticketed(df)
    elif flt.status == "never ticketed":
        mask &= ~ticketed(df)
    if flt.beyond_benchmark_only:
        mask &= beyond_benchmark_mask(df, benchmark_days, as_of)
    return df[mask]


def incidents_per_month_service(df: pd.DataFrame) -> pd.DataFrame:
    """Incident counts per month of creation and service (NULL service kept as a label)."""
    dated = df[df["created_at"].notna()]
    if dated.empty:
        return pd.DataFrame(columns=["month", "service", "incidents"])
    month = dated["created_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
    out = (
        dated.assign(month=month.dt.to_timestamp(), service=dated["service"].fillna(NO_SERVICE))
        .groupby(["month", "service"], sort=True)
        .size()
        .rename("incidents")
        .reset_index()
    )
    return out


def format_hours(hours: float | None) -> str:
    """'37.5 h · 1.6 d' — both units, since leadership thinks in days and on-call in hours."""
    if hours is None or (isinstance(hours, float) and math.isnan(hours)):
        return "—"
    days = hours / 24
    return f"{hours:.1f} h · {'<0.1' if 0 < days < 0.05 else f'{days:.1f}'} d"


def format_share(share: float | None) -> str:
    return "—" if share is None else f"{share:.0%}"
