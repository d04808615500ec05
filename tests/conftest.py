"""Shared fixtures: the read-only reference data and small export directories on disk."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FOLLOWTHROUGH_SHARED", REPO.parent / "shared"))
CONTRACTS = SHARED / "contracts"


def contract(name: str) -> Any:
    return json.loads((CONTRACTS / name).read_text(encoding="utf-8"))


@pytest.fixture
def contracts_export(tmp_path: Path) -> Path:
    """An export directory holding the vendors' published example payloads, one file each."""
    root = tmp_path / "exports"
    layout = {
        "github_workflow_runs_list.json": "github/runs/2020-01-22.json",
        "github_workflow_run_jobs_list.json": "github/jobs/2020-01-20.json",
        "github_deployments_list.json": "github/deployments/2012-07-20.json",
        "github_deployment_statuses_list.json": "github/deployment_statuses/2012-07-20.json",
        "jira_search_jql_response.json": "jira/issues/2023-06.json",
        "pagerduty_incidents_list.json": "pagerduty/incidents/2015-10.json",
    }
    for name, rel in layout.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CONTRACTS / name, target)
    return root


@pytest.fixture(scope="session")
def sample_org(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small generated organisation and its warehouse, built by the real pipeline."""
    from followthrough.build import build
    from models.settings import Settings
    from sampleorg import generate

    root = tmp_path_factory.mktemp("sample-org")
    exports = root / "exports"
    generate(exports, seed=7, scale=0.05)
    warehouse = root / "warehouse.duckdb"
    summary = build(Settings(warehouse=warehouse, exports=exports))
    assert summary.rebuilt and not summary.failed_checks, summary.lines()
    return exports, warehouse
