"""Streamlit glue shared by the pages: cached loaders, the build's benchmark, friendly errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboards.formatting import BENCHMARK_LABEL
from dashboards.reads import (
    checklist_compliance,
    core_incidents,
    failure_clusters,
    follow_through_marts,
    stale_action_items,
)
from dashboards.reads import time_to_ticket as ticket_reads
from dashboards.reads.connection import (
    BUILD_HINT,
    WAREHOUSE_ENV,
    TableMissing,
    WarehouseBusy,
    WarehouseError,
    WarehouseMissing,
    has_rows,
)
from dashboards.reads.connection import warehouse as warehouse_file
from models.logs.excerpt import ExcerptLine

CACHE_TTL_SECONDS = 60


def _mtime(path: Path) -> int:
    """Part of every cache key, so a rebuilt warehouse is re-read before the TTL runs out."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return -1


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _time_to_ticket(path: str, mtime: int) -> pd.DataFrame:
    return ticket_reads.load_time_to_ticket(Path(path))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _incident_summary(path: str, mtime: int) -> pd.DataFrame:
    return core_incidents.load_incident_summary(Path(path))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _incidents_monthly(path: str, mtime: int) -> pd.DataFrame:
    return core_incidents.load_incidents_monthly(Path(path))


def warehouse() -> Path:
    return warehouse_file()


def benchmark_days() -> float:
    """The benchmark the build used (models.follow_through_settings); 4.3 without a build."""
    return settings().benchmark_days


def show_benchmark() -> float:
    """The build's benchmark in the sidebar, read-only: the marts were computed with it."""
    cfg = settings()
    where = (
        "set at build time (FOLLOWTHROUGH_BENCHMARK_DAYS)"
        if cfg.from_warehouse
        else "the default; the warehouse holds no build settings"
    )
    st.sidebar.markdown(
        f"**Benchmark:** {cfg.benchmark_days:g} days",
        help=f"Reference time-to-ticket, {where}. Default 4.3 days, a {BENCHMARK_LABEL}. "
        "Rebuild with another FOLLOWTHROUGH_BENCHMARK_DAYS to change it.",
    )
    return cfg.benchmark_days


def _load(loader: Callable[[str, int], pd.DataFrame], path: Path) -> pd.DataFrame | None:
    try:
        return loader(str(path), _mtime(path))
    except WarehouseMissing:
        st.warning(
            f"No warehouse at `{path}` yet. {BUILD_HINT} "
            f"To read another file, set `{WAREHOUSE_ENV}` or pass "
            "`followthrough serve --warehouse PATH`.",
            icon=":material/construction:",
        )
    except WarehouseBusy:
        st.info(
            "The warehouse is being rebuilt right now (a pipeline run holds the file). "
            "Retry in a moment.",
            icon=":material/hourglass_top:",
        )
        st.button("Retry", key=f"retry-{loader.__name__}")
    except TableMissing as exc:
        st.warning(
            f"The warehouse `{path}` has no table `{exc.table}` yet. {BUILD_HINT}",
            icon=":material/construction:",
        )
    return None


def time_to_ticket() -> pd.DataFrame | None:
    """marts.time_to_ticket, or None after explaining to the user why it is unavailable."""
    return _load(_time_to_ticket, warehouse())


def incident_summary() -> pd.DataFrame | None:
    return _load(_incident_summary, warehouse())


def incidents_monthly() -> pd.DataFrame | None:
    return _load(_incidents_monthly, warehouse())


# Loaders of the follow-through, stale, quality and recurring-failure pages. Each is cached on
# (path, mtime) like the ones above; `_load` turns a missing file/table or a busy writer into a
# message on the page.


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _settings(path: str, mtime: int) -> follow_through_marts.Settings:
    return follow_through_marts.load_settings(Path(path))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _follow_through_summary(path: str, mtime: int) -> pd.DataFrame:
    return follow_through_marts.load_summary(Path(path))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _ticket_summary(path: str, mtime: int) -> pd.DataFrame:
    return ticket_reads.load_summary(Path(path))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _histogram(path: str, mtime: int) -> pd.DataFrame:
    return ticket_reads.load_histogram(Path(path))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _curves(path: str, mtime: int) -> pd.DataFrame:
    return follow_through_marts.load_curves(Path(path))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _distribution(path: str, mtime: int) -> pd.DataFrame:
    return follow_through_marts.load_distribution(Path(path))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _done_curves(path: str, mtime: int) -> pd.DataFrame:
    return follow_through_marts.load_done_curves(Path(path))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _stale(path: str, mtime: int) -> pd.DataFrame:
    return stale_action_items.load_stale(Path(path))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _verification(path: str, mtime: int) -> pd.DataFrame:
    return checklist_compliance.load_verification(Path(path))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _repeat_incidents(path: str, mtime: int) -> pd.DataFrame:
    return failure_clusters.load_repeat_incidents(Path(path))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _excerpt(
    path: str, mtime: int, provider: str, job_id: int
) -> tuple[list[ExcerptLine], int | None]:
    return failure_clusters.load_excerpt(Path(path), provider, job_id)


_MART_READERS: dict[str, Callable[[Path], pd.DataFrame]] = {}


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _read_mart(key: str, path: str, mtime: int) -> pd.DataFrame:
    return _MART_READERS[key](Path(path))


def _mart(load: Callable[[Path], pd.DataFrame]) -> Callable[[str, int], pd.DataFrame]:
    """A loader of one mart, cached (by reader, path and mtime) like the ones above."""
    key = f"{load.__module__.rsplit('.', 1)[-1]}:{load.__name__}"
    _MART_READERS[key] = load

    def loader(path: str, mtime: int) -> pd.DataFrame:
        return _read_mart(key, path, mtime)

    loader.__name__ = f"_{load.__name__}"
    return loader


LOADERS: dict[str, Callable[[str, int], pd.DataFrame]] = {
    "marts.stale_summary": _mart(stale_action_items.load_summary),
    "marts.stale_items": _mart(stale_action_items.load_items),
    "marts.postmortem_quality": _mart(checklist_compliance.load_quality),
    "marts.postmortem_quality_summary": _mart(checklist_compliance.load_quality_summary),
    "marts.postmortem_missing_parts": _mart(checklist_compliance.load_missing_parts),
    "marts.lint_rule_counts": _mart(checklist_compliance.load_rule_counts),
    "marts.checklist_compliance_summary": _mart(checklist_compliance.load_checklist_summary),
    "marts.verification_summary": _mart(checklist_compliance.load_verification_summary),
    "marts.failure_cluster_sizes": _mart(failure_clusters.load_cluster_sizes),
    "marts.fixes_not_held": _mart(failure_clusters.load_fixes_not_held),
    "marts.recurring_failure_summary": _mart(failure_clusters.load_recurring_summary),
    "marts.follow_through_summary": _follow_through_summary,
    "marts.time_to_ticket_summary": _ticket_summary,
    "marts.time_to_ticket_histogram": _histogram,
    "marts.time_to_ticket_curves": _curves,
    "marts.time_to_ticket_distribution": _distribution,
    "marts.time_to_done_curves": _done_curves,
    "marts.stale_action_items": _stale,
    "marts.verification_checks": _verification,
    "marts.repeat_incidents": _repeat_incidents,
}


def table(name: str, what: str, *, quiet: bool = False) -> pd.DataFrame | None:
    """A warehouse table for a page, or None after telling the user why it is not there.

    `what` says in words what an empty table means ("no stale action items"). With `quiet`,
    a missing or empty table returns None without a message: for optional context such as
    ticket links, whose absence the page explains in its own words.
    """
    path = warehouse()
    loader = LOADERS[name]
    if quiet:
        try:
            df = loader(str(path), _mtime(path))
        except WarehouseError:
            return None
        return None if df.empty else df
    df = _load(loader, path)
    if df is None:
        return None
    if df.empty:
        st.info(f"`{name}` is empty: {what}. {BUILD_HINT}", icon=":material/inbox:")
        return None
    return df


# Readers of what one user choice shows (a cluster, a postmortem): called with the choice, so a
# page reads those rows instead of whole tables. Cached like the loaders above, per choice.
_CHOICE_READERS: dict[str, Callable[..., pd.DataFrame]] = {}


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _read_choice(key: str, path: str, mtime: int, args: tuple[object, ...]) -> pd.DataFrame:
    return _CHOICE_READERS[key](Path(path), *args)


def read(
    load: Callable[..., pd.DataFrame], *args: object, what: str = "", quiet: bool = False
) -> pd.DataFrame | None:
    """`load(warehouse, *args)` for a page, cached; None after telling the user why it is not
    there (a missing file or table, a busy writer), like `table`. `what` says what an empty
    answer means; with `quiet` an empty answer is returned as it is and failures say nothing."""
    key = f"{load.__module__.rsplit('.', 1)[-1]}:{load.__name__}"
    _CHOICE_READERS[key] = load

    def loader(path: str, mtime: int) -> pd.DataFrame:
        return _read_choice(key, path, mtime, args)

    loader.__name__ = f"_{load.__name__}"
    path = warehouse()
    if quiet:
        try:
            return loader(str(path), _mtime(path))
        except WarehouseError:
            return None
    df = _load(loader, path)
    if df is not None and df.empty and what:
        st.info(what, icon=":material/inbox:")
    return df


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _has_rows(path: str, mtime: int, name: str) -> bool:
    return has_rows(Path(path), name)


def built(name: str) -> bool:
    """Whether table `name` exists and has rows; False when the warehouse cannot be read."""
    path = warehouse()
    try:
        return _has_rows(str(path), _mtime(path), name)
    except WarehouseError:
        return False


def settings() -> follow_through_marts.Settings:
    """The build's follow-through settings; the documented defaults if unavailable."""
    path = warehouse()
    try:
        return _settings(str(path), _mtime(path))
    except WarehouseError:
        return follow_through_marts.DEFAULT_SETTINGS


def excerpt(provider: str, job_id: int) -> tuple[list[ExcerptLine], int | None] | None:
    """One failed job's redacted excerpt; None (after a message) when it cannot be read."""
    path = warehouse()
    try:
        return _excerpt(str(path), _mtime(path), provider, int(job_id))
    except TableMissing as exc:
        st.warning(
            f"The warehouse has no table `{exc.table}` yet. {BUILD_HINT}",
            icon=":material/construction:",
        )
    except WarehouseError:
        st.info("The excerpt cannot be read right now; retry in a moment.")
    return None
