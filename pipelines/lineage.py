"""Which asset writes each warehouse table, so an asset's inputs follow from the SQL it reads."""

from __future__ import annotations

import dagster as dg

from warehouse.sources import (
    BUILDKITE_SOURCES,
    GITHUB_ISSUES_SOURCES,
    GITHUB_SOURCES,
    GITLAB_SOURCES,
    JIRA,
    LINEAR,
    PAGERDUTY,
    PAGERDUTY_LOG_ENTRIES,
    POSTMORTEMS,
    SLACK,
    Source,
)
from warehouse.transform import tables_read

# raw asset name -> the export sources it loads (each source fills one or more raw tables)
RAW_ASSETS: dict[str, tuple[Source, ...]] = {
    "github_actions": GITHUB_SOURCES,
    "jira": (JIRA,),
    "linear": (LINEAR,),
    "pagerduty": (PAGERDUTY, PAGERDUTY_LOG_ENTRIES),
    "postmortems": (POSTMORTEMS,),
    "github_issues": GITHUB_ISSUES_SOURCES,
    "slack": (SLACK,),
    "gitlab": GITLAB_SOURCES,
    "buildkite": BUILDKITE_SOURCES,
}

# Tables written by an asset of another name; every other `schema.table` is its own asset.
# raw.ci_logs is filled by every CI source: it is attributed to the first (GitHub Actions); the
# SQL reading it reads the other providers' job tables too, so depends on their assets as well.
_WRITTEN_BY: dict[str, tuple[str, str]] = {
    **{table: ("raw", name) for name, sources in reversed(RAW_ASSETS.items())
       for source in sources for table in source.tables},
    "models.fingerprint_clusters": ("models", "failure_clusters"),
}


def producer(table: str) -> dg.AssetKey:
    """The asset that writes `schema.table`."""
    return dg.AssetKey(list(_WRITTEN_BY.get(table) or table.split(".", 1)))


def inputs(*sql: str, itself: dg.AssetKey | None = None) -> list[dg.AssetKey]:
    """The assets whose tables these statements read; an incremental asset that reads its own
    tables (`itself`) does not depend on itself."""
    keys = {producer(t) for s in sql for t in tables_read(s)} - {itself}
    return sorted(keys, key=lambda k: k.to_user_string())
