"""Shared fixtures: the project's own vendor payloads, the optional reference data, sample exports.

Tests that score against the reference data sets or the vendors' *published* examples read them
from `shared/` beside the repository (or `$FOLLOWTHROUGH_SHARED`), and skip when it is absent:
mark them `@pytest.mark.requires_shared("datasets/...")` and/or take the `shared_dir` fixture.
Every other test uses the payloads under tests/fixtures/vendors, or builds what it needs here
(the dashboard's fixture warehouse).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
VENDORS = Path(__file__).resolve().parent / "fixtures" / "vendors"
SHARED_MISSING = (
    "reference data not found: set FOLLOWTHROUGH_SHARED or place shared/ beside the repository"
)

# Where each vendor payload is filed in an export directory (docs/export-format.md).
OWN_LAYOUT = {
    "github_workflow_runs_list.json": "github/runs/2025-06-03.json",
    "github_workflow_run_jobs_list.json": "github/jobs/2025-06-03.json",
    "github_deployments_list.json": "github/deployments/2025-06-03.json",
    "github_deployment_statuses_list.json": "github/deployment_statuses/2025-06-03.json",
    "jira_search_jql_response.json": "jira/issues/2025-06.json",
    "pagerduty_incidents_list.json": "pagerduty/incidents/2025-06.json",
}
PUBLISHED_LAYOUT = {
    "github_workflow_runs_list.json": "github/runs/2020-01-22.json",
    "github_workflow_run_jobs_list.json": "github/jobs/2020-01-20.json",
    "github_deployments_list.json": "github/deployments/2012-07-20.json",
    "github_deployment_statuses_list.json": "github/deployment_statuses/2012-07-20.json",
    "jira_search_jql_response.json": "jira/issues/2023-06.json",
    "pagerduty_incidents_list.json": "pagerduty/incidents/2015-10.json",
}


def _shared_root() -> Path:
    return Path(os.environ.get("FOLLOWTHROUGH_SHARED", REPO.parent / "shared"))


def _missing_reason(*parts: str) -> str | None:
    """Why the reference data (or one part of it) cannot be used, or None when it is there."""
    root = _shared_root()
    if not root.is_dir():
        return SHARED_MISSING
    absent = [p for p in parts if not (root / p).exists()]
    return f"{SHARED_MISSING} (missing: {', '.join(absent)})" if absent else None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "requires_shared(*paths): needs the reference data in shared/ (paths relative to it); "
        "skips when it is absent",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for mark in item.iter_markers("requires_shared"):
            reason = _missing_reason(*mark.args)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))
                break


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The reference data folder; the test skips when it is absent."""
    reason = _missing_reason()
    if reason:
        pytest.skip(reason)
    return _shared_root()


@pytest.fixture(scope="session")
def vendor_dir() -> Path:
    """The project's own vendor payloads, in the vendors' documented shapes."""
    return VENDORS


@pytest.fixture(scope="session")
def vendor_payload() -> Callable[[str], Any]:
    """Load one of the project's own vendor payloads by file name (a fresh copy each call)."""

    def load(name: str) -> Any:
        return json.loads((VENDORS / name).read_text(encoding="utf-8"))

    return load


def _export(source: Path, layout: dict[str, str], root: Path) -> Path:
    for name, rel in layout.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / name, target)
    return root


@pytest.fixture
def contracts_export(tmp_path: Path) -> Path:
    """An export directory holding the project's own vendor payloads, one file each."""
    return _export(VENDORS, OWN_LAYOUT, tmp_path / "exports")


@pytest.fixture
def published_export(shared_dir: Path, tmp_path: Path) -> Path:
    """An export directory holding the vendors' published example payloads (from shared/)."""
    contracts = shared_dir / "contracts"
    absent = [n for n in PUBLISHED_LAYOUT if not (contracts / n).is_file()]
    if absent:
        pytest.skip(f"{SHARED_MISSING} (missing: contracts/{', contracts/'.join(absent)})")
    return _export(contracts, PUBLISHED_LAYOUT, tmp_path / "published-exports")


@pytest.fixture(scope="session")
def sample_org(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small generated organisation and its warehouse, built by the real pipeline."""
    from followthrough.commands.build import build
    from models.settings import Settings
    from sampleorg import generate

    root = tmp_path_factory.mktemp("sample-org")
    exports = root / "exports"
    generate(exports, seed=7, scale=0.05)
    warehouse = root / "warehouse.duckdb"
    summary = build(Settings(warehouse=warehouse, exports=exports))
    assert summary.rebuilt and not summary.failed_checks, summary.lines()
    return exports, warehouse
