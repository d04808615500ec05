"""GitHub Actions connector against a GitHub API on 127.0.0.1 serving GitHub's example payloads."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from models.connectors import registry
from models.connectors.base import FetchContext, MissingSecret
from models.connectors.config import GitHubConfig
from models.connectors.http import ApiError
from models.connectors.landing import Landing
from tests.models.connectors.fake_github import FakeGitHub
from tests.vendor_server import Fault, VendorServer
from warehouse.db import connect
from warehouse.ingest import ingest
from warehouse.sources import GITHUB_SOURCES

REPO = "quayside-dev/ledger-api"
START = datetime(2026, 11, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 5, tzinfo=UTC)
RUNS = r"/repos/quayside-dev/ledger-api/actions/runs"


def _ctx(root: Path, waits: list[float] | None = None, now: datetime = NOW) -> FetchContext:
    return FetchContext(Landing(root), since=START, now=now, env={"GITHUB_TOKEN": "t0ken-value"},
                        sleep=(waits.append if waits is not None else lambda s: None))


def _cfg(server: VendorServer, **kw: object) -> GitHubConfig:
    return GitHubConfig(api_url=server.url, repos=(REPO,), page_size=5, **kw)


def _files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _raw(root: Path, db: Path) -> dict[str, list[tuple]]:
    conn = connect(db)
    try:
        ingest(conn, root, GITHUB_SOURCES)
        return {t: conn.execute(f"SELECT * EXCLUDE (source_path) FROM {t} ORDER BY ALL").fetchall()
                for t in ("raw.github_workflow_runs", "raw.github_jobs",
                          "raw.github_deployments", "raw.github_deployment_statuses")}
    finally:
        conn.close()


def test_fetch_lands_runs_jobs_logs_and_deployments_that_load_field_by_field(tmp_path: Path):
    with VendorServer() as server:
        fake = FakeGitHub(server)
        result = registry.run("github", _cfg(server), _ctx(tmp_path / "x"))
        api_calls = server.requests("GET", r"/repos/.*")
        signed = server.requests("GET", r"/signed/.*")
    assert result.requests > 0 and not result.notes
    for req in api_calls:
        assert req.headers["authorization"] == "Bearer t0ken-value"
        assert req.headers["x-github-api-version"] == "2022-11-28"
        assert req.headers["accept"] == "application/vnd.github+json"
    assert signed and all("authorization" not in r.headers for r in signed)
    jobs_calls = [r for r in api_calls if r.path.endswith("/jobs")]
    assert jobs_calls and all(r.arg("filter") == "all" for r in jobs_calls)

    conn = connect(tmp_path / "w.duckdb")
    ingest(conn, tmp_path / "x", GITHUB_SOURCES, payloads="all")
    runs = conn.execute("SELECT run_id, repo, workflow_name, run_number, status, conclusion, "
                        "created_at FROM raw.github_workflow_runs ORDER BY run_id").fetchall()
    assert len(runs) == len(fake.runs)
    first = fake.runs[0]
    assert runs[0] == (first["id"], REPO, first["name"], first["run_number"], "completed",
                       first["conclusion"], START)
    jobs = conn.execute("SELECT job_id, run_id, name, conclusion, started_at, runner_name, "
                        "html_url FROM raw.github_jobs ORDER BY job_id").fetchall()
    expected = sorted(j["id"] for js in fake.jobs.values() for j in js)
    assert [j[0] for j in jobs] == expected
    j0 = fake.jobs[first["id"]][0]
    assert jobs[0] == (j0["id"], first["id"], "job-0", j0["conclusion"],
                       START + timedelta(minutes=1), j0["runner_name"], j0["html_url"])
    logs = conn.execute("SELECT job_id FROM raw.ci_logs ORDER BY job_id").fetchall()
    assert [r[0] for r in logs] == sorted(fake.logs)
    deps = conn.execute("SELECT deployment_id, repo, environment, production "
                        "FROM raw.github_deployments ORDER BY 1").fetchall()
    assert deps == [(d["id"], REPO, "production", True) for d in fake.deployments]
    states = conn.execute("SELECT deployment_id, state FROM raw.github_deployment_statuses "
                          "ORDER BY 1").fetchall()
    assert states == [(700, "success"), (701, "failure"), (702, "success")]
    payload = conn.execute("SELECT payload->>'$.runner_group_name' FROM raw.github_jobs "
                           "LIMIT 1").fetchone()[0]
    assert payload == j0["runner_group_name"]  # the whole vendor record is kept
    assert conn.execute("SELECT count(*) FROM raw.quarantine").fetchone()[0] == 0
    conn.close()


def test_secrets_in_logs_are_redacted_before_they_reach_the_disk(tmp_path: Path):
    with VendorServer() as server:
        fake = FakeGitHub(server, runs=3)
        registry.run("github", _cfg(server), _ctx(tmp_path))
    texts = [p.read_text() for p in tmp_path.glob("github/logs/*/*.txt")]
    assert len(texts) == len(fake.logs)
    assert all("ghp_" not in t and "[REDACTED:" in t for t in texts)
    assert all("FAILED tests/test_ledger.py" in t for t in texts)


def test_a_window_github_would_cap_at_1000_runs_is_split(tmp_path: Path):
    with VendorServer() as server:
        fake = FakeGitHub(server, runs=2300, jobs_per_run=0, deployments=0,
                          spacing=timedelta(seconds=30))
        result = registry.run("github", GitHubConfig(api_url=server.url, repos=(REPO,),
                                                     page_size=100),
                              _ctx(tmp_path, now=START + timedelta(days=1)))
        queries = [r.arg("created") for r in server.requests("GET", RUNS)]
    landed = {r["id"] for p in tmp_path.glob("github/runs/*.json")
              for r in json.loads(p.read_text())["workflow_runs"]}
    assert landed == {r["id"] for r in fake.runs}
    assert len(queries) > 23  # split windows plus their pages
    assert not result.notes


def test_runs_not_completed_are_polled_again_and_their_jobs_read_once_done(tmp_path: Path):
    with VendorServer() as server:
        fake = FakeGitHub(server, runs=4, deployments=0)
        last = fake.runs[-1]
        last.update(status="in_progress", conclusion=None)
        registry.run("github", _cfg(server), _ctx(tmp_path))
        assert not list(tmp_path.glob("github/jobs/*")) or last["id"] not in {
            j["run_id"] for p in tmp_path.glob("github/jobs/*.json")
            for j in json.loads(p.read_text())["jobs"]}
        state = Landing(tmp_path).load_state("github")["repos"][REPO]
        assert state["pending_runs"] == [last["id"]]
        last.update(status="completed", conclusion="success")
        registry.run("github", _cfg(server), _ctx(tmp_path, now=NOW + timedelta(hours=1)))
        polled = server.requests("GET", rf"{RUNS}/{last['id']}")
    assert len(polled) == 1
    job_runs = {j["run_id"] for p in tmp_path.glob("github/jobs/*.json")
                for j in json.loads(p.read_text())["jobs"]}
    assert last["id"] in job_runs
    assert Landing(tmp_path).load_state("github")["repos"][REPO]["pending_runs"] == []


@pytest.mark.parametrize("fault", [
    Fault(429, {"retry-after": "7"}),
    Fault(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "0"},
          b'{"message": "API rate limit exceeded"}'),
    Fault(403, {}, b'{"message": "You have exceeded a secondary rate limit."}'),
    Fault(502),
    Fault(200, truncate=True),
], ids=["429-retry-after", "403-primary", "403-secondary", "502", "truncated-json"])
def test_faults_are_retried_and_end_with_the_rows_of_a_clean_run(tmp_path: Path, fault: Fault):
    with VendorServer() as server:
        FakeGitHub(server)
        registry.run("github", _cfg(server), _ctx(tmp_path / "clean"))
    waits: list[float] = []
    with VendorServer() as server:
        FakeGitHub(server)
        server.fail_next("GET", RUNS, fault, times=3)
        registry.run("github", _cfg(server), _ctx(tmp_path / "faulty", waits))
    assert len(waits) >= 3
    if fault.headers.get("retry-after"):
        assert waits[:3] == [7.0, 7.0, 7.0]
    if b"secondary" in fault.body:
        assert waits[:3] == [60.0, 60.0, 60.0]
    assert _files(tmp_path / "faulty") == _files(tmp_path / "clean")


def test_timeouts_are_retried(tmp_path: Path):
    waits: list[float] = []
    with VendorServer() as server:
        FakeGitHub(server, runs=2, deployments=0)
        server.fail_next("GET", RUNS, Fault(200, stall_s=1.5), times=2)
        registry.run("github", _cfg(server, timeout_s=0.5), _ctx(tmp_path, waits))
    assert len(waits) == 2
    assert len(list(tmp_path.glob("github/runs/*.json"))) == 1


def test_an_expired_log_url_is_asked_for_again(tmp_path: Path):
    with VendorServer() as server:
        fake = FakeGitHub(server, runs=3, deployments=0)
        fake.log_url_expired = 1
        result = registry.run("github", _cfg(server), _ctx(tmp_path))
        redirects = server.requests("GET", r"/repos/.*/logs")
    assert len(list(tmp_path.glob("github/logs/*/*.txt"))) == len(fake.logs)
    assert len(redirects) == len(fake.logs) + 1
    assert not result.notes


def test_a_run_killed_midway_resumes_to_exactly_the_uninterrupted_result(tmp_path: Path):
    with VendorServer() as server:
        FakeGitHub(server)
        registry.run("github", _cfg(server), _ctx(tmp_path / "clean"))
    with VendorServer() as server:
        fake = FakeGitHub(server)
        # The third day's run listing fails for good: the run stops there, an error in hand.
        day3 = fake.runs[-1]["created_at"][:10]
        server.route("GET", RUNS, _failing_on(day3, server))
        server.routes.insert(0, server.routes.pop())
        with pytest.raises(ApiError, match="HTTP 500 after 6 attempts"):
            registry.run("github", _cfg(server), _ctx(tmp_path / "killed"))
        assert 0 < len(list((tmp_path / "killed").glob("github/runs/*.json"))) < 3
        server.routes.pop(0)
        registry.run("github", _cfg(server), _ctx(tmp_path / "killed"))
    assert _files(tmp_path / "killed") == _files(tmp_path / "clean")
    assert _raw(tmp_path / "killed", tmp_path / "a.duckdb") == \
        _raw(tmp_path / "clean", tmp_path / "b.duckdb")


def _failing_on(day: str, server: VendorServer):
    def handler(req):
        if (req.arg("created") or "").startswith(day):
            return 500, {}, {"message": "Server Error"}
        for method, rx, fn in server.routes[1:]:
            if method == "GET" and rx.match(req.path):
                req.match = rx.match(req.path)
                return fn(req)
        return 404, {}, {}
    return handler


def test_a_second_fetch_with_nothing_new_rewrites_nothing(tmp_path: Path):
    with VendorServer() as server:
        FakeGitHub(server)
        registry.run("github", _cfg(server), _ctx(tmp_path))
        before = _files(tmp_path)
        again = registry.run("github", _cfg(server), _ctx(tmp_path, now=NOW + timedelta(hours=1)))
    assert again.files == 0
    after = _files(tmp_path)
    assert {k: v for k, v in after.items() if not k.startswith(".state")} == \
        {k: v for k, v in before.items() if not k.startswith(".state")}


def test_a_rate_limit_resetting_too_late_stops_with_a_clear_error(tmp_path: Path):
    with VendorServer() as server:
        FakeGitHub(server)
        server.fail_next("GET", RUNS, Fault(429, {"retry-after": "7200"}))
        with pytest.raises(ApiError) as err:
            registry.run("github", _cfg(server), _ctx(tmp_path))
    message = str(err.value)
    assert "github: GET http://127.0.0.1" in message and "7200 s" in message
    assert "created=" not in message  # no query string (signed URLs carry tokens there)


def test_a_missing_token_names_the_variable(tmp_path: Path):
    ctx = FetchContext(Landing(tmp_path), since=START, env={})
    with pytest.raises(MissingSecret, match=r"GITHUB_TOKEN \(sources.github.token_env\) is not set"):
        registry.run("github", GitHubConfig(api_url="http://127.0.0.1:9", repos=(REPO,)), ctx)


def test_the_org_setting_lists_the_organisations_repositories(tmp_path: Path):
    with VendorServer() as server:
        FakeGitHub(server, runs=2, deployments=0)
        server.route("GET", r"/orgs/quayside-dev/repos",
                     lambda req: (200, {}, [{"full_name": REPO, "archived": False},
                                            {"full_name": "quayside-dev/old", "archived": True}]))
        registry.run("github", GitHubConfig(api_url=server.url, org="quayside-dev"),
                     _ctx(tmp_path))
        assert not server.requests("GET", r"/repos/quayside-dev/old/.*")
    assert list(tmp_path.glob("github/runs/*.quayside-dev__ledger-api.json"))


@pytest.mark.parametrize(("payloads", "kept"), [
    ("small", {"raw.github_deployments", "raw.github_deployment_statuses"}),
    ("all", {"raw.github_deployments", "raw.github_deployment_statuses", "raw.github_jobs",
             "raw.github_workflow_runs"}),
    ("none", set()),
])
def test_which_raw_tables_keep_vendor_payloads(tmp_path: Path, payloads: str, kept: set[str]):
    with VendorServer() as server:
        FakeGitHub(server, runs=3)
        registry.run("github", _cfg(server), _ctx(tmp_path / "x"))
    conn = connect(tmp_path / "w.duckdb")
    ingest(conn, tmp_path / "x", GITHUB_SOURCES, payloads=payloads)
    tables = ("raw.github_workflow_runs", "raw.github_jobs", "raw.github_deployments",
              "raw.github_deployment_statuses")
    with_payload = {t for t in tables
                    if conn.execute(f"SELECT count(payload) FROM {t}").fetchone()[0] > 0}
    conn.close()
    assert with_payload == kept


def test_the_payload_setting_is_checked():
    from models.settings import SettingError, Settings

    assert Settings.load({}).raw_payloads == "small"
    assert Settings.load({"FOLLOWTHROUGH_RAW_PAYLOADS": "ALL"}).raw_payloads == "all"
    with pytest.raises(SettingError, match="one of small, all, none"):
        Settings.load({"FOLLOWTHROUGH_RAW_PAYLOADS": "some"})
