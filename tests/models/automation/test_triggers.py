"""Failed production deploys from every trigger: deployment records, production GitHub
workflows without one, GitLab jobs and Buildkite pipelines, one ticket each, and blast radius."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from models.automation import outbox
from models.automation.config import AutomationConfig, load_automation, parse_automation
from models.automation.run import run_once
from models.automation.tickets import (
    BUILDKITE_BUILD,
    DEPLOYMENT_STATUS,
    GITLAB_DEPLOYMENT,
    GITLAB_JOB,
    NOT_FOUND,
    WORKFLOW_JOB,
    incident_tickets,
)
from models.connectors.config import ConfigError
from models.sources.buildkite import bigint_id
from warehouse.db import connect
from warehouse.transform import rebuild, step

REPO = "quayside-dev/ledger-api"
GH = f"https://github.com/{REPO}/actions/runs"
GL = "https://gitlab.quayside.dev/quayside-dev/billing"
BK = "https://buildkite.com/quayside/payments-deploy/builds"
BUILD_FAILED = "0190b3a4-5f6e-7a8b-9c0d-1e2f3a4b5c6d"
BUILD_PASSED = "0190b3a4-5f6e-7a8b-9c0d-1e2f3a4b5c6e"
BUILD_CI = "0190b3a4-5f6e-7a8b-9c0d-1e2f3a4b5c6f"
BUILD_SOFT = "0190b3a4-5f6e-7a8b-9c0d-1e2f3a4b5c70"
JOB_UUIDS = {n: f"0190b3a4-0000-7000-8000-0000000000{n:02d}" for n in range(1, 7)}

CONFIG = """
[automation]
production_workflows = ["deploy*.yml"]
production_jobs = ["deploy-production", "payments deploy"]
gitlab_production_jobs = ["deploy:deploy-prod*"]
production_pipelines = ["payments-deploy"]
"""


def _ts(hm: str) -> str:
    return f"2025-06-03 {hm}:00+00"


def seed(conn: duckdb.DuckDBPyConnection) -> None:
    """Raw records of three CI providers, then the real core transforms over them."""
    ex = conn.execute
    runs = [
        # run, workflow name, path, sha, conclusion, actor, created
        (100, "Deploy", ".github/workflows/deploy.yml", "a" * 40, "failure", "rosa-diaz", "10:00"),
        (101, "Deploy", ".github/workflows/deploy.yml", "b" * 40, "failure", "sam-okoro", "11:00"),
        (102, "Deploy", ".github/workflows/deploy.yml", "c" * 40, "failure", "li-wei", "12:00"),
        (103, "CI", ".github/workflows/ci.yml", "d" * 40, "failure", "li-wei", "12:30"),
        (104, "Deploy", ".github/workflows/deploy.yml", "e" * 40, "success", "rosa-diaz", "09:00"),
    ]
    for run, name, path, sha, concl, actor, at in runs:
        ex("INSERT INTO raw.github_workflow_runs (run_id, repo, workflow_name, workflow_path, "
           "head_sha, head_branch, status, conclusion, actor, created_at, html_url, source_path) "
           "VALUES (?, ?, ?, ?, ?, 'main', 'completed', ?, ?, ?::TIMESTAMPTZ, ?, 'x.json')",
           [run, REPO, name, path, sha, concl, actor, _ts(at), f"{GH}/{run}"])
    jobs = [
        # job, run, name, conclusion, failed step, completed
        (1000, 100, "build", "success", None, "10:03"),
        (1001, 100, "deploy-production", "failure", "Roll out", "10:09"),
        (1011, 101, "deploy-production", "failure", "Roll out", "11:08"),
        (1021, 102, "deploy-staging", "failure", "Roll out", "12:05"),
        (1031, 103, "unit-tests", "failure", "Run tests", "12:40"),
        (1041, 104, "deploy-production", "success", None, "09:07"),
    ]
    wf = {r[0]: r[1] for r in runs}
    for job, run, name, concl, failed_step, at in jobs:
        ex("INSERT INTO raw.github_jobs (job_id, run_id, workflow_name, name, head_sha, status, "
           "conclusion, started_at, completed_at, html_url, failed_step, repo, run_url, "
           "source_path) VALUES (?, ?, ?, ?, ?, 'completed', ?, ?::TIMESTAMPTZ - INTERVAL 5 "
           "MINUTE, ?::TIMESTAMPTZ, ?, ?, ?, ?, 'x.json')",
           [job, run, wf[run], name, next(r[3] for r in runs if r[0] == run), concl, _ts(at),
            _ts(at), f"{GH}/{run}/job/{job}", failed_step, REPO, f"{GH}/{run}"])
    # run 101 created a production deployment whose status failed: that trigger speaks for it
    ex("INSERT INTO raw.github_deployments (deployment_id, repo, environment, sha, ref, creator, "
       "production, created_at, url, source_path) VALUES (501, ?, 'production', ?, 'main', "
       "'sam-okoro', true, ?::TIMESTAMPTZ, ?, 'x.json')",
       [REPO, "b" * 40, _ts("11:02"), f"https://api.github.com/repos/{REPO}/deployments/501"])
    ex("INSERT INTO raw.github_deployment_statuses (status_id, deployment_id, state, "
       "environment, target_url, log_url, created_at, source_path) VALUES (9, 501, 'failure', "
       "'production', ?, ?, ?::TIMESTAMPTZ, 'x.json')",
       [f"{GH}/101", f"{GH}/101/job/1011", _ts("11:08")])

    for pid, sha, at in ((600, "f" * 40, "13:00"), (601, "9" * 40, "14:00"),
                         (602, "8" * 40, "15:00")):
        ex("INSERT INTO raw.gitlab_pipelines (pipeline_id, project_path, status, source, ref, "
           "sha, created_at, web_url, source_path) VALUES (?, 'quayside-dev/billing', "
           "'failed', 'push', 'main', ?, ?::TIMESTAMPTZ, ?, 'x.json')",
           [pid, sha, _ts(at), f"{GL}/-/pipelines/{pid}"])
    gl_jobs = [
        # job, pipeline, stage, name, status, reason, allow_failure, finished, user
        (8800, 600, "test", "rspec", "success", None, False, "13:05", "li-wei"),
        (8801, 600, "deploy", "deploy-prod", "failed", "script_failure", False, "13:10",
         "li-wei"),
        (8811, 601, "deploy", "deploy-prod", "failed", "script_failure", False, "14:10",
         "ana-ruiz"),
        (8821, 602, "deploy", "deploy-prod-canary", "failed", "script_failure", True, "15:10",
         "ana-ruiz"),
    ]
    for job, pid, stage, name, status, reason, allow, at, user in gl_jobs:
        ex("INSERT INTO raw.gitlab_jobs (job_id, pipeline_id, project_path, name, stage, ref, "
           "sha, status, failure_reason, allow_failure, started_at, finished_at, web_url, "
           "username, source_path) VALUES (?, ?, 'quayside-dev/billing', ?, ?, 'main', ?, ?, ?, "
           "?, ?::TIMESTAMPTZ - INTERVAL 4 MINUTE, ?::TIMESTAMPTZ, ?, ?, 'x.json')",
           [job, pid, name, stage, "f" * 40, status, reason, allow, _ts(at), _ts(at),
            f"{GL}/-/jobs/{job}", user])
    # pipeline 601's job has a deployment record (GitLab's own environment): that one counts
    ex("INSERT INTO raw.gitlab_deployments (deployment_id, project_path, environment, "
       "production, status, ref, sha, creator, created_at, updated_at, job_id, pipeline_id, "
       "job_url, pipeline_url, source_path) VALUES (77, 'quayside-dev/billing', 'production', "
       "true, 'failed', 'main', ?, 'ana-ruiz', ?::TIMESTAMPTZ, ?::TIMESTAMPTZ, 8811, 601, ?, ?, "
       "'x.json')", ["9" * 40, _ts("14:01"), _ts("14:10"), f"{GL}/-/jobs/8811",
                     f"{GL}/-/pipelines/601"])

    builds = [
        # uuid, number, slug, state, finished, creator
        (BUILD_FAILED, 17, "payments-deploy", "failed", "16:10", "kim@quayside.dev"),
        (BUILD_PASSED, 16, "payments-deploy", "passed", "15:40", "kim@quayside.dev"),
        (BUILD_CI, 90, "payments-ci", "failed", "16:20", "kim@quayside.dev"),
        (BUILD_SOFT, 18, "payments-deploy", "failed", "16:50", "kim@quayside.dev"),
    ]
    for uuid, number, slug, state, at, creator in builds:
        ex("INSERT INTO raw.buildkite_builds (build_uuid, run_id, number, pipeline_slug, "
           "pipeline_name, state, branch, sha, creator, created_at, finished_at, web_url, "
           "source_path) VALUES (?, ?, ?, ?, ?, ?, 'main', ?, ?, ?::TIMESTAMPTZ - INTERVAL 9 "
           "MINUTE, ?::TIMESTAMPTZ, ?, 'x.json')",
           [uuid, bigint_id(uuid), number, slug, slug.replace("-", " ").title(), state,
            "7" * 40, creator, _ts(at), _ts(at),
            f"https://buildkite.com/quayside/{slug}/builds/{number}"])
    bk_jobs = [
        # n, build, name, state, exit, soft_failed, finished
        (1, BUILD_FAILED, "payments deploy", "failed", 3, False, "16:09"),
        (2, BUILD_FAILED, "lint", "failed", 1, False, "16:02"),
        (3, BUILD_PASSED, "payments deploy", "passed", 0, False, "15:40"),
        (4, BUILD_CI, "payments deploy", "failed", 1, False, "16:20"),
        (5, BUILD_SOFT, "payments deploy", "passed", 0, False, "16:45"),
        (6, BUILD_SOFT, "smoke (soft)", "failed", 1, True, "16:50"),
    ]
    for n, build, name, state, exit_status, soft, at in bk_jobs:
        uuid = JOB_UUIDS[n]
        slug = next(b[2] for b in builds if b[0] == build)
        number = next(b[1] for b in builds if b[0] == build)
        ex("INSERT INTO raw.buildkite_jobs (job_id, job_uuid, build_uuid, run_id, pipeline_slug, "
           "type, name, state, exit_status, soft_failed, retried, started_at, finished_at, "
           "web_url, source_path) VALUES (?, ?, ?, ?, ?, 'script', ?, ?, ?, ?, false, "
           "?::TIMESTAMPTZ - INTERVAL 3 MINUTE, ?::TIMESTAMPTZ, ?, 'x.json')",
           [bigint_id(uuid), uuid, build, bigint_id(build), slug, name, state, exit_status, soft,
            _ts(at), _ts(at), f"https://buildkite.com/quayside/{slug}/builds/{number}#{uuid}"])
    for table in ("core.ci_jobs", "core.ci_failures", "core.deployments"):
        rebuild(conn, step(table))
    excerpt = [{"n": 7, "text": "kubectl rollout status deploy/api: timed out"}]
    for provider, job in (("github", 1001), ("gitlab", 8801),
                          ("buildkite", bigint_id(JOB_UUIDS[1]))):
        ex("INSERT INTO models.failure_excerpts (provider, job_id, fingerprint, "
           "fingerprint_version, excerpt) VALUES (?, ?, 'fp', '1', ?)",
           [provider, job, json.dumps(excerpt)])


def config(tmp_path: Path, extra: str = "") -> AutomationConfig:
    path = tmp_path / "followthrough.toml"
    path.write_text(CONFIG + extra, encoding="utf-8")
    return load_automation(path)


@pytest.fixture
def tw(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    conn = connect(tmp_path / "w.duckdb")
    seed(conn)
    yield conn
    conn.close()


EXPECTED = {
    "github-run:100": WORKFLOW_JOB,  # failed deploy job, no deployment record
    "github:501": DEPLOYMENT_STATUS,  # run 101: the deployment record speaks for it
    "gitlab-pipeline:600": GITLAB_JOB,  # configured job, no deployment record
    "gitlab:77": GITLAB_DEPLOYMENT,  # pipeline 601: GitLab's own deployment record
    f"buildkite:{BUILD_FAILED}": BUILDKITE_BUILD,
}


def test_one_ticket_per_failed_production_deploy_from_every_trigger(
        tw: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    drafts = {d.idempotency_key: d for d in incident_tickets(tw, config(tmp_path))}
    # not: the staging job (102), the CI workflow (103), the allowed-to-fail GitLab job (602),
    # the non-production Buildkite pipeline, the build whose only failure was soft
    assert {k: d.trigger for k, d in drafts.items()} == EXPECTED
    run = drafts["github-run:100"]
    assert run.run_url == f"{GH}/100" and run.job_url == f"{GH}/100/job/1001"
    assert (run.job_name, run.failed_step, run.sha, run.merged_by) == (
        "deploy-production", "Roll out", "a" * 40, "rosa-diaz")
    assert run.deployment_id is None and "deploy.yml" in run.deployment_url
    assert run.excerpt == ("kubectl rollout status deploy/api: timed out",)
    gl = drafts["gitlab-pipeline:600"]
    assert gl.run_url == f"{GL}/-/pipelines/600" and gl.job_url == f"{GL}/-/jobs/8801"
    assert gl.merged_by == "li-wei" and "script_failure" in gl.failed_step
    bk = drafts[f"buildkite:{BUILD_FAILED}"]
    assert bk.repo == "payments-deploy" and bk.job_name == "payments deploy"
    assert bk.run_url.endswith("/payments-deploy/builds/17") and "exit status 3" in bk.failed_step
    assert bk.merged_by == "kim@quayside.dev" and bk.sha == "7" * 40
    assert drafts["github:501"].job_url == f"{GH}/101/job/1011"
    for key, d in drafts.items():
        for name, value in d.to_json().items():
            if name in ("team", "history", "deployment_id"):
                continue
            assert value not in (None, "", NOT_FOUND, []), (key, name)
        assert NOT_FOUND not in d.markdown(), key
        assert f"**Trigger:** {d.trigger}" in d.markdown()


def test_without_trigger_config_only_deployment_records_count(
        tw: duckdb.DuckDBPyConnection) -> None:
    keys = {d.idempotency_key for d in incident_tickets(tw, AutomationConfig())}
    assert keys == {"github:501", "gitlab:77"}


def test_job_patterns_for_one_provider_do_not_silence_another(
        tw: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    """`production_jobs` narrows only the workflows and pipelines where it names a job: with
    GitHub's job name alone, every Buildkite step counts again (soft failures still do not)."""
    path = tmp_path / "narrow.toml"
    path.write_text(CONFIG.replace('"payments deploy"', '"release-*"'), encoding="utf-8")
    drafts = {d.idempotency_key: d for d in incident_tickets(tw, load_automation(path))}
    assert set(drafts) == set(EXPECTED)
    bk = drafts[f"buildkite:{BUILD_FAILED}"]
    assert bk.job_name == "lint"  # the first step that failed, now that every step counts
    assert "github-run:102" not in drafts  # deploy.yml is still narrowed to deploy-production


def test_a_successful_deploy_run_ends_the_streak_and_repeats_count(
        tw: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    drafts = {d.idempotency_key: d for d in incident_tickets(tw, config(tmp_path))}
    # run 104 (09:07) passed; run 100 (10:09) failed; the deployment of run 101 (11:08) failed
    assert drafts["github-run:100"].repeat_count == 1
    assert drafts["github:501"].repeat_count == 2
    assert drafts["github:501"].failing_minutes == 59.0
    assert any("run 100" in h for h in drafts["github:501"].history)


def test_run_once_twice_adds_nothing(tw: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    cfg = config(tmp_path)
    first = run_once(tw, cfg, env={})
    assert first.enqueued["ticket"] == len(EXPECTED)
    again = run_once(tw, cfg, env={})
    assert again.enqueued.get("ticket", 0) == 0
    rows = [r for r in outbox.rows(tw) if r.kind == "ticket"]
    assert sorted(r.idempotency_key for r in rows) == sorted(EXPECTED)
    for r in rows:
        text = json.dumps(r.payload)
        assert r.rule and r.rule in text  # the rule is stored and shown
        assert "Blast radius" in text


def test_blast_radius_counts_failing_repos_and_configured_dependents(
        tw: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    cfg = config(tmp_path, """
blast_window_minutes = 120

[automation.services.billing]
repos = ["quayside-dev/billing"]
tier = 1
dependents = ["checkout"]

[automation.services.checkout]
dependents = ["storefront"]

[automation.services.storefront]

[[automation.severity]]
name = "wide"
severity = "SEV1"
environments = ["production"]
min_blast_radius = 3

[[automation.severity]]
name = "tier1"
severity = "SEV2"
tiers = [1]

[[automation.severity]]
name = "rest"
severity = "SEV3"
""")
    assert cfg.dependents("quayside-dev/billing") == ("checkout", "storefront")
    assert cfg.tier("quayside-dev/billing") == 1
    drafts = {d.idempotency_key: d for d in incident_tickets(tw, cfg)}
    ledger = drafts["github:501"]  # 11:08; run 100 at 10:09 is the same repository
    assert ledger.blast_radius == 1 and ledger.rule.startswith("rest")
    billing = drafts["gitlab-pipeline:600"]  # 13:10: billing + its two dependents
    assert billing.blast_radius == 3 and billing.severity == "SEV1"
    assert billing.rule == ("wide (environment in ['production'] and blast radius >= 3) "
                            "-> SEV1")
    assert "checkout, storefront" in billing.blast_detail
    # 16:10, 120 min after billing's 14:10 failure: two services (billing's dependents are
    # billing's, not this pipeline's)
    bk = drafts[f"buildkite:{BUILD_FAILED}"]
    assert bk.blast_radius == 2 and "within 120 min: billing" in bk.blast_detail
    assert ("Blast radius", f"2 ({bk.blast_detail})") in bk.facts()


@pytest.mark.parametrize("text, key", [
    ("[automation]\nproduction_workflows = 'deploy.yml'\nproduction_jobs = [1]\n",
     "automation.production_jobs"),
    ("[automation]\nproduction_pipelines = ['']\n", "automation.production_pipelines"),
    ("[automation.services.api]\ntier = 'one'\n", "automation.services.api.tier"),
    ("[automation.services.api]\ndependents = ['web']\n", "automation.services.api.dependents"),
    ("[automation.services.api]\nowner = 'x'\n", "automation.services.api.owner"),
    ("[automation]\nservices = 3\n", "automation.services"),
    ("[automation.drafts]\nfolder = 3\n", "automation.drafts.folder"),
    ("[automation.drafts]\nfollow_hours = 0\n", "automation.drafts.follow_hours"),
    ("[[automation.severity]]\nname = 'x'\nseverity = 'SEV1'\nmin_blast_radius = 1.5\n",
     "automation.severity[0].min_blast_radius"),
])
def test_bad_trigger_and_service_config_names_file_and_key(tmp_path: Path, text: str,
                                                            key: str) -> None:
    path = tmp_path / "followthrough.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_automation(path)
    assert err.value.key == key and str(path) in str(err.value)


def test_trigger_patterns_match_path_file_or_name() -> None:
    data: dict[str, Any] = {"automation": {"production_workflows": ["deploy*.yml", "Release"],
                                           "gitlab_production_jobs": ["deploy:*"]}}
    trig = parse_automation(data, Path("f.toml")).triggers
    assert trig.workflow_is_production(".github/workflows/deploy-api.yml", "Deploy API")
    assert trig.workflow_is_production(None, "Release")
    assert not trig.workflow_is_production(".github/workflows/ci.yml", "CI")
    assert trig.gitlab_job_is_production("deploy", "prod") and trig.job_counts("anything")
    assert not trig.gitlab_job_is_production("test", "rspec")
