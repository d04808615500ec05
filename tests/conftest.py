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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
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


# The dashboard tests' fixture warehouse: hand-made tables with the production column names.
DASHBOARD_T0 = datetime(2024, 1, 1, tzinfo=UTC)

# (id, team, service, identified_at, hours_to_ticket) — None hours = never ticketed.
DASHBOARD_ITEMS: list[tuple[str, str | None, str | None, datetime | None, float | None]] = [
    ("AI-1", "payments", "checkout-api", datetime(2024, 1, 10, 9, tzinfo=UTC), 2.0),
    ("AI-2", "payments", "checkout-api", datetime(2024, 1, 20, 9, tzinfo=UTC), 36.0),
    ("AI-3", "payments", "checkout-api", datetime(2024, 2, 5, 9, tzinfo=UTC), 120.0),
    ("AI-4", "payments", "checkout-api", datetime(2024, 3, 5, 9, tzinfo=UTC), None),
    ("AI-5", "search", "search-api", datetime(2024, 1, 15, 9, tzinfo=UTC), 10.0),
    ("AI-6", "search", "search-api", datetime(2024, 2, 12, 9, tzinfo=UTC), 200.0),
    ("AI-7", "search", "search-api", datetime(2024, 3, 20, 9, tzinfo=UTC), None),
    ("AI-8", None, "checkout-api", datetime(2024, 2, 25, 9, tzinfo=UTC), 0.5),
    ("AI-9", None, None, None, None),
    ("AI-10", None, "billing", datetime(2024, 3, 1, 9, tzinfo=UTC), 50.0),
]

# Hand-worked figures for DASHBOARD_ITEMS with the default 4.3-day (103.2 h) benchmark.
DASHBOARD_EXPECTED = {
    "total": 10,
    "ticketed": 7,
    "never": 3,
    "median_hours": 36.0,  # of 0.5, 2, 10, 36, 50, 120, 200
    "km_median_hours": 50.0,  # survival 8/9·7/8·6/7·5/6·4/5 = 4/9 < 0.5 first at 50 h
    "within_24h": 3,  # 0.5, 2, 10
    "beyond_benchmark": 5,  # 120, 200 ticketed late + 3 never ticketed (2 old, 1 undated)
}

DASHBOARD_INCIDENTS: list[tuple[str, str | None, datetime, float | None]] = [
    ("INC-1", "checkout-api", datetime(2024, 1, 9, tzinfo=UTC), 3.0),
    ("INC-2", "checkout-api", datetime(2024, 1, 19, tzinfo=UTC), 5.0),
    ("INC-3", "search-api", datetime(2024, 1, 14, tzinfo=UTC), 1.0),
    ("INC-4", "checkout-api", datetime(2024, 2, 4, tzinfo=UTC), None),
    ("INC-5", None, datetime(2024, 3, 2, tzinfo=UTC), 8.0),
]


def _build_dashboard_warehouse(
    path: Path,
    *,
    items: bool = True,
    incidents: bool = True,
    postmortems: bool = True,
) -> Path:
    """Write the fixture tables with exactly the production column names and types."""
    con = duckdb.connect(str(path))
    try:
        con.execute("SET TimeZone = 'UTC'")
        for schema in ("marts", "core"):
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        if items:
            con.execute(
                """CREATE TABLE marts.time_to_ticket (
                    action_item_id VARCHAR, postmortem_id VARCHAR, postmortem_title VARCHAR,
                    team VARCHAR, service VARCHAR, action_text VARCHAR, owner VARCHAR,
                    priority VARCHAR, identified_at TIMESTAMPTZ, ticket_key VARCHAR,
                    ticket_provider VARCHAR, ticket_url VARCHAR, ticket_created_at TIMESTAMPTZ,
                    hours_to_ticket DOUBLE, link_kind VARCHAR)"""
            )
            for n, (item_id, team, service, identified, hours) in enumerate(DASHBOARD_ITEMS, start=1):
                ticketed = hours is not None
                created = identified + timedelta(hours=hours) if ticketed and identified else None
                con.execute(
                    "INSERT INTO marts.time_to_ticket VALUES"
                    " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        item_id,
                        f"PM-{(n + 1) // 2}",
                        f"Postmortem {(n + 1) // 2}: {service or 'unknown'} outage",
                        team,
                        service,
                        f"Add alerting for failure mode {n}",
                        f"owner{n}@example.com" if n % 3 else None,
                        ["P1", "P2", None][n % 3],
                        identified,
                        f"OPS-{100 + n}" if ticketed else None,
                        "jira" if ticketed else None,
                        f"https://example.atlassian.net/browse/OPS-{100 + n}" if ticketed else None,
                        created,
                        hours,
                        (
                            ("doc_key" if n % 2 else "ticket_mentions_postmortem")
                            if ticketed
                            else None
                        ),
                    ],
                )
        if incidents:
            con.execute(
                """CREATE TABLE core.incidents (
                    incident_id VARCHAR, incident_number INTEGER, title VARCHAR, service VARCHAR,
                    team VARCHAR, priority VARCHAR, urgency VARCHAR, status VARCHAR,
                    created_at TIMESTAMPTZ, resolved_at TIMESTAMPTZ, url VARCHAR)"""
            )
            for n, (inc_id, service, created, hours) in enumerate(DASHBOARD_INCIDENTS, start=1):
                con.execute(
                    "INSERT INTO core.incidents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        inc_id,
                        n,
                        f"Incident {n}",
                        service,
                        "payments",
                        "P1",
                        "high",
                        "resolved" if hours is not None else "triggered",
                        created,
                        created + timedelta(hours=hours) if hours is not None else None,
                        f"https://example.pagerduty.com/incidents/{inc_id}",
                    ],
                )
        if postmortems:
            con.execute(
                """CREATE TABLE core.postmortems (
                    postmortem_id VARCHAR, path VARCHAR, title VARCHAR, incident_id VARCHAR,
                    team VARCHAR, service VARCHAR, identified_at TIMESTAMPTZ, doc_date DATE,
                    action_item_count INTEGER, lint_errors INTEGER, lint_warnings INTEGER)"""
            )
            for n, inc_id in enumerate(["INC-1", "INC-3", None], start=1):
                con.execute(
                    "INSERT INTO core.postmortems VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [f"PM-{n}", f"pm/{n}.md", f"PM {n}", inc_id, None, None, DASHBOARD_T0, None, 2, 0, 0],
                )
    finally:
        con.close()
    return path


@pytest.fixture(scope="session")
def build_dashboard_warehouse() -> Callable[..., Path]:
    """`build(path, *, items=True, incidents=True, postmortems=True)`: the dashboard's fixture warehouse."""
    return _build_dashboard_warehouse


@pytest.fixture(scope="session")
def dashboard_expected() -> dict[str, float]:
    """Hand-worked figures for the dashboard's fixture warehouse."""
    return dict(DASHBOARD_EXPECTED)
