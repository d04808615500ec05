"""Streamlit glue shared by the pages: cached loaders, the benchmark setting, friendly errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboards import data

CACHE_TTL_SECONDS = 60
BENCHMARK_KEY = "benchmark_days"


def _mtime(path: Path) -> int:
    """Part of every cache key, so a rebuilt warehouse is re-read before the TTL runs out."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return -1


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _time_to_ticket(path: str, mtime: int) -> pd.DataFrame:
    return data.load_time_to_ticket(Path(path))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _incidents(path: str, mtime: int) -> pd.DataFrame:
    return data.load_incidents(Path(path))


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False)
def _postmortem_incident_ids(path: str, mtime: int) -> set[str] | None:
    return data.load_postmortem_incident_ids(Path(path))


def warehouse() -> Path:
    return data.warehouse_path()


def benchmark_days() -> float:
    """The sidebar value when set, else FOLLOWTHROUGH_BENCHMARK_DAYS, else 4.3."""
    value = st.session_state.get(BENCHMARK_KEY)
    return float(value) if value else data.default_benchmark_days()


def benchmark_input() -> float:
    """Sidebar number input; its initial value comes from the environment."""
    if BENCHMARK_KEY not in st.session_state:
        st.session_state[BENCHMARK_KEY] = data.default_benchmark_days()
    return float(
        st.sidebar.number_input(
            "Benchmark (days)",
            min_value=0.1,
            max_value=365.0,
            step=0.1,
            format="%.1f",
            key=BENCHMARK_KEY,
            help="Reference time-to-ticket drawn on the charts. Default 4.3 days, a "
            f"{data.BENCHMARK_LABEL}; set {data.BENCHMARK_ENV} to change the default.",
        )
    )


def _load(loader: Callable[[str, int], pd.DataFrame], path: Path) -> pd.DataFrame | None:
    try:
        return loader(str(path), _mtime(path))
    except data.WarehouseMissing:
        st.warning(
            f"No warehouse at `{path}` yet. {data.BUILD_HINT} "
            f"To read another file, set `{data.WAREHOUSE_ENV}` or pass "
            "`followthrough serve --warehouse PATH`.",
            icon=":material/construction:",
        )
    except data.WarehouseBusy:
        st.info(
            "The warehouse is being rebuilt right now (a pipeline run holds the file). "
            "Retry in a moment.",
            icon=":material/hourglass_top:",
        )
        st.button("Retry", key=f"retry-{loader.__name__}")
    except data.TableMissing as exc:
        st.warning(
            f"The warehouse `{path}` has no table `{exc.table}` yet. {data.BUILD_HINT}",
            icon=":material/construction:",
        )
    return None


def time_to_ticket() -> pd.DataFrame | None:
    """marts.time_to_ticket, or None after explaining to the user why it is unavailable."""
    return _load(_time_to_ticket, warehouse())


def incidents() -> pd.DataFrame | None:
    return _load(_incidents, warehouse())


def postmortem_incident_ids() -> set[str] | None:
    """Best-effort context: an absent or busy table just means no postmortem coverage figure."""
    path = warehouse()
    try:
        return _postmortem_incident_ids(str(path), _mtime(path))
    except data.WarehouseError:
        return None
