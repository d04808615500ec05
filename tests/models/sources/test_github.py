"""GitHub deployment payload variants real accounts produce, loaded through the real loader."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from warehouse.db import connect
from warehouse.ingest import ingest
from warehouse.sources import GITHUB_DEPLOYMENTS, GITHUB_JOBS, GITHUB_RUNS
from warehouse.transform import rebuild, step


def test_deployment_to_a_production_named_environment_is_production(
    vendor_payload, tmp_path: Path
) -> None:
    # The List deployments response (GitHub REST description, `deployment-items` example):
    # `production_environment` is false unless the deployment request set it, as most do not.
    base = vendor_payload("github_deployments_list.json")[0]
    cases = [("production", False), ("Prod", False), ("prd", False), ("staging", False),
             ("qa", True), ("staging", None)]
    deployments = []
    for i, (env, flag) in enumerate(cases):
        d = copy.deepcopy(base)
        d["id"] = 1000 + i
        d["environment"] = env
        if flag is None:
            del d["production_environment"]
        else:
            d["production_environment"] = flag
        deployments.append(d)
    root = tmp_path / "exports"
    (root / "github/deployments").mkdir(parents=True)
    (root / "github/deployments/2025-06-03.json").write_text(json.dumps(deployments))
    conn = connect(tmp_path / "w.duckdb")
    ingest(conn, root, [GITHUB_DEPLOYMENTS])
    assert conn.execute(
        "SELECT environment, production FROM raw.github_deployments ORDER BY deployment_id"
    ).fetchall() == [("production", True), ("Prod", True), ("prd", True), ("staging", False),
                     ("qa", True), ("staging", False)]
    conn.close()


def _jobs_export(tmp_path: Path, jobs: list[dict], runs: list[dict] | None = None) -> Path:
    root = tmp_path / "exports"
    (root / "github/jobs").mkdir(parents=True)
    (root / "github/jobs/2025-06-03.json").write_text(json.dumps({"jobs": jobs}))
    if runs is not None:
        (root / "github/runs").mkdir(parents=True)
        (root / "github/runs/2025-06-03.json").write_text(json.dumps({"workflow_runs": runs}))
    return root


def test_job_without_its_run_names_repo_and_run_url_from_its_own_urls(
    vendor_payload, tmp_path: Path
) -> None:
    base = vendor_payload("github_workflow_run_jobs_list.json")["jobs"][0]
    api_only = copy.deepcopy(base)  # run_url names the run; no web address
    api_only |= {"id": 1, "run_id": 11, "html_url": None,
                 "run_url": "https://api.github.com/repos/acme/api/actions/runs/11"}
    older_form = copy.deepcopy(base)  # html_url in the older `/jobs/<n>` form, no run_url
    del older_form["run_url"]
    older_form |= {"id": 2, "run_id": 22,
                   "html_url": "https://github.com/acme/web/actions/runs/22/jobs/7"}
    enterprise = copy.deepcopy(base)  # GitHub Enterprise Server, and no run_id at all
    del enterprise["run_id"]
    enterprise |= {"id": 3, "html_url": "https://ghe.example.com/plat/deploy/actions/runs/33/job/3",
                   "run_url": "https://ghe.example.com/api/v3/repos/plat/deploy/actions/runs/33"}
    root = _jobs_export(tmp_path, [api_only, older_form, enterprise])
    conn = connect(tmp_path / "w.duckdb")
    [result] = ingest(conn, root, [GITHUB_JOBS])
    assert result.quarantined == 0
    rebuild(conn, step("core.ci_jobs"))
    assert conn.execute(
        "SELECT job_id, run_id, repo, run_url FROM core.ci_jobs ORDER BY job_id"
    ).fetchall() == [
        (1, 11, "acme/api", "https://github.com/acme/api/actions/runs/11"),
        (2, 22, "acme/web", "https://github.com/acme/web/actions/runs/22"),
        (3, 33, "plat/deploy", "https://ghe.example.com/plat/deploy/actions/runs/33"),
    ]
    conn.close()


def test_job_naming_no_run_at_all_is_quarantined_with_its_id(vendor_payload, tmp_path: Path) -> None:
    job = copy.deepcopy(vendor_payload("github_workflow_run_jobs_list.json")["jobs"][0])
    for key in ("run_id", "run_url", "html_url"):
        del job[key]
    job["id"] = 5
    conn = connect(tmp_path / "w.duckdb")
    [result] = ingest(conn, _jobs_export(tmp_path, [job]), [GITHUB_JOBS])
    assert result.quarantined == 1
    assert conn.execute("SELECT record_key, reason FROM raw.quarantine").fetchall() == [
        ("5", "job 5 names no run (run_id, run_url or html_url)")
    ]
    conn.close()


def test_older_run_without_name_actor_or_attempt_and_a_rerun_keep_what_they_say(
    vendor_payload, tmp_path: Path
) -> None:
    base = vendor_payload("github_workflow_runs_list.json")["workflow_runs"][0]
    older = copy.deepcopy(base)
    for key in ("name", "actor", "run_attempt", "run_started_at", "display_title",
                "triggering_actor", "repository", "head_sha"):
        older.pop(key, None)
    older |= {"id": 100, "path": ".github/workflows/nightly.yml",
              "url": "https://api.github.com/repos/acme/api/actions/runs/100",
              "html_url": "https://github.com/acme/api/actions/runs/100",
              "head_commit": {"id": "a" * 40, "message": "Fix flaky test\n\nlonger body"}}
    rerun = copy.deepcopy(base)
    rerun.pop("actor", None)
    rerun |= {"id": 200, "run_attempt": 2, "created_at": "2025-06-03T10:00:00Z",
              "run_started_at": "2025-06-03T12:30:00Z",
              "triggering_actor": {"login": "rerunner"}}
    job = copy.deepcopy(vendor_payload("github_workflow_run_jobs_list.json")["jobs"][0])
    job |= {"id": 7, "run_id": 200, "workflow_name": None}
    root = _jobs_export(tmp_path, [job], [older, rerun])
    conn = connect(tmp_path / "w.duckdb")
    results = ingest(conn, root, [GITHUB_RUNS, GITHUB_JOBS])
    assert sum(r.quarantined for r in results) == 0
    assert conn.execute(
        "SELECT run_id, repo, workflow_name, run_attempt, actor, head_sha, display_title, "
        "created_at::VARCHAR, run_started_at::VARCHAR FROM raw.github_workflow_runs ORDER BY run_id"
    ).fetchall() == [
        (100, "acme/api", "nightly.yml", None, None, "a" * 40, "Fix flaky test",
         base["created_at"].replace("T", " ").replace("Z", "+00"), None),
        (200, base["repository"]["full_name"], base["name"], 2, "rerunner", base["head_sha"],
         base.get("display_title"), "2025-06-03 10:00:00+00", "2025-06-03 12:30:00+00"),
    ]
    rebuild(conn, step("core.ci_jobs"))
    assert conn.execute(
        "SELECT workflow, run_attempt, run_started_at::VARCHAR FROM core.ci_jobs"
    ).fetchall() == [(base["name"], 2, "2025-06-03 12:30:00+00")]
    conn.close()
