"""Connector name → its `fetch` function, imported only when that source runs."""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable

from models.connectors.base import FetchContext, FetchResult
from models.connectors.config import SourceConfig

# Each module has `fetch(cfg, ctx) -> FetchResult`.
MODULES: dict[str, str] = {
    "github": "models.connectors.github",
    "github_issues": "models.connectors.github_issues",
    "slack": "models.connectors.slack",
    "gitlab": "models.connectors.gitlab",
    "buildkite": "models.connectors.buildkite",
    "jira": "models.connectors.jira",
    "linear": "models.connectors.linear",
    "pagerduty": "models.connectors.pagerduty",
}


def fetcher(name: str) -> Callable[[SourceConfig, FetchContext], FetchResult]:
    return importlib.import_module(MODULES[name]).fetch


def available() -> tuple[str, ...]:
    return tuple(MODULES)


def run(name: str, cfg: SourceConfig, ctx: FetchContext) -> FetchResult:
    started = time.perf_counter()
    files_before = ctx.landing.files_written
    result = fetcher(name)(cfg, ctx)
    result.seconds = time.perf_counter() - started
    result.files = ctx.landing.files_written - files_before
    return result
