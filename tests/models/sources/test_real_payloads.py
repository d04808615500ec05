"""Payloads recorded from real vendor accounts (tests/fixtures/vendors/real, see SOURCES.json),
loaded through the real loader into a DuckDB file and read back field by field as a person reading
the payload would. Nothing is quarantined unless the record really names no identifier."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from warehouse.db import connect
from warehouse.ingest import ingest
from warehouse.loader import Source
from warehouse.sources import (
    GITHUB_DEPLOYMENT_STATUSES,
    GITHUB_DEPLOYMENTS,
    GITHUB_JOBS,
    GITHUB_RUNS,
    JIRA,
    LINEAR,
    PAGERDUTY,
)
from warehouse.transform import rebuild, step

REAL = Path(__file__).resolve().parents[2] / "fixtures" / "vendors" / "real"


def _real(name: str) -> Any:
    return json.loads((REAL / name).read_text(encoding="utf-8"))


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _load(tmp_path: Path, files: dict[str, Any], sources: list[Source]) -> duckdb.DuckDBPyConnection:
    root = tmp_path / "exports"
    for rel, payload in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(json.dumps(payload), encoding="utf-8")
    conn = connect(tmp_path / "w.duckdb")
    conn.execute("SET TimeZone = 'UTC'")
    ingest(conn, root, sources)
    return conn


def _quarantine(conn: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT source, record_index, record_key, reason FROM raw.quarantine ORDER BY ALL"
    ).fetchall()


def test_sources_list_every_real_payload() -> None:
    listed = set(_real("SOURCES.json")["files"])
    stored = {p.relative_to(REAL).as_posix() for p in REAL.rglob("*.json")} - {"SOURCES.json"}
    assert listed == stored
    for entry in _real("SOURCES.json")["files"].values():
        assert entry["repository"] and entry["paths"] and "licence" in entry


def test_github_runs_recent_and_from_before_the_api_named_them(tmp_path: Path) -> None:
    conn = _load(tmp_path, {"github/runs/2023-01-10.json": _real("github/workflow_runs.json")},
                 [GITHUB_RUNS])
    assert _quarantine(conn) == []
    rows = conn.execute(
        "SELECT run_id, repo, workflow_id, workflow_name, workflow_path, run_number, run_attempt, "
        "event, head_branch, head_sha, status, conclusion, actor, display_title, created_at, "
        "updated_at, run_started_at, html_url FROM raw.github_workflow_runs ORDER BY run_id"
    ).fetchall()
    assert rows == [
        # 2020: no name, path, actor, run_attempt, run_started_at or display_title in the payload
        (110932306, "PyGithub/PyGithub", 1026390, None, None, 122, None, "push", "master",
         "7abf600480089550b4224aa97004367c2fa25b38", "completed", "success", None,
         "Remove RateLimit.rate (#1529)", _at("2020-05-20T23:59:37+00:00"),
         _at("2020-05-21T00:02:14+00:00"), None,
         "https://github.com/PyGithub/PyGithub/actions/runs/110932306"),
        (3881497935, "PyGithub/PyGithub", 1903133, "CI", ".github/workflows/ci.yml", 930, 1,
         "pull_request", "feat/workflow-run", "c6e5cac67a58a4eb11f1f28567a77a6e2cc8ee98",
         "completed", "success", "nuang-ee", "TEST PR", _at("2023-01-10T08:24:19+00:00"),
         _at("2023-01-10T08:28:20+00:00"), _at("2023-01-10T08:24:19+00:00"),
         "https://github.com/PyGithub/PyGithub/actions/runs/3881497935"),
    ]
    conn.close()


def test_github_jobs_whose_run_is_not_exported_keep_repo_and_run(tmp_path: Path) -> None:
    conn = _load(tmp_path, {"github/jobs/2023-02-17.json": _real("github/workflow_run_jobs.json")},
                 [GITHUB_JOBS])
    assert _quarantine(conn) == []
    rebuild(conn, step("core.ci_jobs"))
    run = "https://github.com/PyGithub/PyGithub/actions/runs/4205440316"
    assert conn.execute(
        "SELECT job_id, run_id, repo, workflow, job_name, branch, sha, status, conclusion, "
        "started_at, completed_at, duration_s, url, run_url, failed_step, run_attempt "
        "FROM core.ci_jobs ORDER BY job_id"
    ).fetchall() == [
        (11421878319, 4205440316, "PyGithub/PyGithub", "CI", "test (Python 3.7)", "tz-aware-2",
         "06ec040b2eeef6c0316dd5abcda0608525a3f205", "completed", "success",
         _at("2023-02-17T16:03:46+00:00"), _at("2023-02-17T16:04:52+00:00"), 66.0,
         f"{run}/jobs/7297536068", run, None, 1),
        (11421879256, 4205440316, "PyGithub/PyGithub", "CI", "test (Python 3.11-dev)",
         "tz-aware-2", "06ec040b2eeef6c0316dd5abcda0608525a3f205", "completed", "success",
         _at("2023-02-17T16:03:45+00:00"), _at("2023-02-17T16:05:03+00:00"), 78.0,
         f"{run}/jobs/7297536762", run, None, 1),
    ]
    assert conn.execute(
        "SELECT list(step_count ORDER BY job_id), list(runner_name ORDER BY job_id) "
        "FROM raw.github_jobs"
    ).fetchone() == ([9, 9], ["GitHub Actions 2", "Hosted Agent"])
    conn.close()


def test_github_deployment_to_test_and_its_queued_status(tmp_path: Path) -> None:
    conn = _load(
        tmp_path,
        {"github/deployments/2020-08-26.json": [_real("github/deployment.json")],
         "github/deployment_statuses/2020-08-26.json": [_real("github/deployment_status.json")]},
        [GITHUB_DEPLOYMENTS, GITHUB_DEPLOYMENT_STATUSES],
    )
    assert _quarantine(conn) == []
    assert conn.execute(
        "SELECT deployment_id, repo, environment, sha, ref, task, description, creator, production, "
        "created_at FROM raw.github_deployments"
    ).fetchall() == [
        (263877258, "jacquev6/PyGithub", "test", "743f5a58b0bce91c4eab744ff7e39dfca9e6e8a5",
         "743f5a58b0bce91c4eab744ff7e39dfca9e6e8a5", "deploy", "Test deployment", "jacquev6",
         False, _at("2020-08-26T11:44:53+00:00")),
    ]
    rebuild(conn, step("core.deployments"))
    assert conn.execute(
        "SELECT deployment_id, production, final_state, finished_at, failed, target_url "
        "FROM core.deployments"
    ).fetchall() == [(263877258, False, "queued", None, False, "https://example.com/deployment.log")]
    conn.close()


def test_jira_issue_with_epoch_times_numeric_id_and_null_histories(tmp_path: Path) -> None:
    issue = _real("jira/issue_php_client.json")
    conn = _load(tmp_path, {"jira/issues/2020-11.json": {"issues": [issue]}}, [JIRA])
    assert _quarantine(conn) == []
    assert conn.execute(
        "SELECT key, issue_id, project_key, summary, description, issue_type, status, "
        "status_category, assignee, priority, labels, created_at, updated_at, resolved_at, due_date, "
        "url FROM raw.jira_issues"
    ).fetchall() == [
        ("TEST-14", "26107", "TEST", "sada", None, "Task", "Backlog", "todo", None, "Medium", [],
         datetime(2020, 11, 22, 19, 7, 14, 951000, tzinfo=UTC),
         datetime(2020, 11, 22, 19, 7, 14, 951000, tzinfo=UTC), None, None,
         "https://zentralweb.atlassian.net/browse/TEST-14"),
    ]
    assert conn.execute("SELECT count(*) FROM raw.jira_events").fetchone() == (0,)
    conn.close()


def test_linear_nodes_without_identifier_are_quarantined_by_id(tmp_path: Path) -> None:
    nodes = _real("linear/issue_nodes_without_identifier.json")
    conn = _load(tmp_path, {"linear/issues/2025-04.json": nodes}, [LINEAR])
    assert conn.execute("SELECT count(*) FROM raw.linear_issues").fetchone() == (0,)
    rows = _quarantine(conn)
    assert [r[:3] for r in rows] == [("linear", 0, None), ("linear", 1, None)]
    assert [r[3] for r in rows] == [
        f"issue {node_id} has no identifier (missing required field 'identifier', "
        "and no url naming it)"
        for node_id in ("1d2641a6-e457-4aec-ad4d-323831aef392",
                        "a089883e-66bf-44ff-a6fa-2382de2ccf7b")
    ]
    conn.close()


def test_pagerduty_triggered_incidents_are_open(tmp_path: Path) -> None:
    name = "pagerduty/incidents_triggered.json"
    conn = _load(tmp_path, {"pagerduty/incidents/2020-09.json": _real(name)}, [PAGERDUTY])
    assert _quarantine(conn) == []
    assert conn.execute(
        "SELECT incident_id, incident_number, title, status, urgency, priority, service, teams, "
        "created_at, resolved_at, url FROM raw.pagerduty_incidents ORDER BY incident_number"
    ).fetchall() == [
        ("PQJ9TNL", 1, "Incident Title x 0", "triggered", "high", None, "Playground", [],
         _at("2020-09-01T09:14:16+00:00"), None,
         "https://vdesaboucorp.pagerduty.com/incidents/PQJ9TNL"),
        ("PXTQOAZ", 2, "Incident Title x 1", "triggered", "high", None, "Playground", [],
         _at("2020-09-01T09:14:17+00:00"), None,
         "https://vdesaboucorp.pagerduty.com/incidents/PXTQOAZ"),
    ]
    conn.close()


def test_pagerduty_resolved_incident_without_resolved_at(tmp_path: Path) -> None:
    payload = _real("pagerduty/incidents_resolved.json")
    conn = _load(tmp_path, {"pagerduty/incidents/2021-02.json": payload}, [PAGERDUTY])
    assert _quarantine(conn) == []
    rebuild(conn, step("core.incidents"))
    assert conn.execute(
        "SELECT incident_id, incident_number, title, status, urgency, service, created_at, "
        "resolved_at, duration_min, url FROM core.incidents"
    ).fetchall() == [
        ("example", 12311, "[Warn] [DB] Memory usage on host:example.com", "resolved", "low", "Low",
         _at("2021-02-21T12:11:20+00:00"), _at("2021-02-21T12:50:16+00:00"), 38 + 56 / 60,
         "https://sendinblue.pagerduty.com/incidents/example"),
    ]
    conn.close()
