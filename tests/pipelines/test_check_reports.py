"""A failing asset check says how many rows fail it and names the first ten, on a real file."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from dagster_duckdb import DuckDBResource

from pipelines.defs.raw import quarantine_checks
from pipelines.defs.transform import ci_jobs_have_runs
from warehouse.db import connect
from warehouse.ingest import ingest
from warehouse.sources import GITHUB_JOBS, GITHUB_RUNS
from warehouse.transform import rebuild, step


def _export(root: Path, vendor_payload, job_ids: list[int], run_ids: list[int]) -> Path:
    job = vendor_payload("github_workflow_run_jobs_list.json")["jobs"][0]
    run = vendor_payload("github_workflow_runs_list.json")["workflow_runs"][0]
    jobs = []
    for job_id in job_ids:
        j = copy.deepcopy(job)
        run_id = 500 + job_id
        j |= {"id": job_id, "run_id": run_id,
              "run_url": f"https://api.github.com/repos/acme/api/actions/runs/{run_id}",
              "html_url": f"https://github.com/acme/api/actions/runs/{run_id}/job/{job_id}"}
        jobs.append(j)
    runs = [copy.deepcopy(run) | {"id": run_id} for run_id in run_ids]
    for folder, payload in (("jobs", {"jobs": jobs}), ("runs", {"workflow_runs": runs})):
        (root / "github" / folder).mkdir(parents=True, exist_ok=True)
        (root / "github" / folder / "2025-06-03.json").write_text(json.dumps(payload))
    return root


def test_ci_jobs_have_runs_names_the_orphans(vendor_payload, tmp_path: Path) -> None:
    # 13 jobs; the runs of jobs 1 and 2 are exported, the other eleven runs are not.
    root = _export(tmp_path / "exports", vendor_payload, list(range(1, 14)), [501, 502])
    warehouse = tmp_path / "w.duckdb"
    conn = connect(warehouse)
    ingest(conn, root, [GITHUB_RUNS, GITHUB_JOBS])
    rebuild(conn, step("core.ci_jobs"))
    conn.close()
    result = ci_jobs_have_runs(duckdb=DuckDBResource(database=str(warehouse)))
    assert not result.passed
    named = [f"job {i} (run {500 + i}, acme/api)" for i in range(3, 13)]
    assert result.description == (
        "11 job(s) whose workflow run is not in the export: " + ", ".join(named) + " and 1 more"
    )
    assert result.metadata["jobs_without_run"].value == 11
    assert result.metadata["jobs_without_run_examples"].value == named
    assert result.metadata["jobs_without_repo"].value == 0


def test_ci_jobs_have_runs_passes_when_every_run_is_loaded(vendor_payload, tmp_path: Path) -> None:
    root = _export(tmp_path / "exports", vendor_payload, [1, 2], [501, 502])
    warehouse = tmp_path / "w.duckdb"
    conn = connect(warehouse)
    ingest(conn, root, [GITHUB_RUNS, GITHUB_JOBS])
    rebuild(conn, step("core.ci_jobs"))
    conn.close()
    result = ci_jobs_have_runs(duckdb=DuckDBResource(database=str(warehouse)))
    assert result.passed
    assert result.description == "no job(s) whose workflow run is not in the export; " \
        "no job(s) naming no repository"


def test_quarantine_check_names_each_record(vendor_payload, tmp_path: Path) -> None:
    root = _export(tmp_path / "exports", vendor_payload, [1, 2, 3], [])
    payload = json.loads((root / "github/jobs/2025-06-03.json").read_text())
    payload["jobs"][1]["started_at"] = "soon"
    (root / "github/jobs/2025-06-03.json").write_text(json.dumps(payload))
    (root / "github/jobs/2025-06-04.json").write_text("{\"jobs\": 7}")
    warehouse = tmp_path / "w.duckdb"
    conn = connect(warehouse)
    ingest(conn, root, [GITHUB_JOBS])
    conn.close()
    check = next(c for c in quarantine_checks if "github_actions" in c.__name__)
    result = check(duckdb=DuckDBResource(database=str(warehouse)))
    assert not result.passed
    assert result.description == (
        "2 record(s) quarantined: github/jobs/2025-06-03.json record 1 (id 2): field 'started_at' is "
        "not an ISO timestamp: 'soon', github/jobs/2025-06-04.json (whole file): wrong shape: expected "
        "an object with 'jobs'"
    )
    assert result.metadata["quarantined"].value == 2
    assert "started_at" in result.metadata["quarantined_records"].value


def test_stale_rows_check_names_twelve_unexplained_rows(tmp_path: Path) -> None:
    from pipelines.defs.follow_through import stale_rows_are_explained

    warehouse = tmp_path / "w.duckdb"
    conn = connect(warehouse)
    conn.execute(
        "INSERT INTO marts.stale_action_items (action_item_id, reason, postmortem_id, detail, as_of) "
        "SELECT 'pm-' || lpad(i::VARCHAR, 2, '0') || '#1', "
        "CASE WHEN i % 2 = 0 THEN 'no_owner' ELSE 'because' END, 'pm-' || i, "
        "CASE WHEN i % 2 = 0 THEN '' ELSE 'x' END, TIMESTAMPTZ '2026-01-01 00:00:00+00' "
        "FROM range(1, 13) t(i)"
    )
    conn.execute(
        "INSERT INTO marts.stale_action_items (action_item_id, reason, postmortem_id, detail, as_of) "
        "VALUES ('ok#1', 'no_owner', 'ok', 'nobody owns it', TIMESTAMPTZ '2026-01-01 00:00:00+00')"
    )
    conn.close()
    result = stale_rows_are_explained(duckdb=DuckDBResource(database=str(warehouse)))
    assert not result.passed
    named = [f"pm-{i:02d}#1 ({'no_owner' if i % 2 == 0 else 'because'})" for i in range(1, 11)]
    assert result.description == (
        "12 stale row(s) without a known reason or a detail: " + ", ".join(named) + " and 2 more"
    )
    assert result.metadata["unexplained_rows"].value == 12
    assert result.metadata["unexplained_rows_examples"].value == named
