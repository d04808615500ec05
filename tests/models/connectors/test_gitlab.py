"""GitLab CI connector against a loopback GitLab: published payloads in, core rows out, faults."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from models.connectors import registry
from models.connectors.base import FetchContext, FetchResult
from models.connectors.config import GitLabConfig
from models.connectors.http import ApiError
from models.connectors.landing import Landing
from tests.models.connectors.ci_harness import at, files, rows
from tests.models.connectors.fake_gitlab import LEAKED, TOKEN, VENDORS, FakeGitLab, load
from tests.vendor_server import Fault, Request, VendorServer
from warehouse.db import connect
from warehouse.ingest import ingest
from warehouse.sources import GITLAB_SOURCES
from warehouse.transform import rebuild, step

PROJECT = "quayside-dev/ledger-api"
ENCODED = "quayside-dev%2Fledger-api"
NOW = datetime(2026, 11, 4, 12, 0, tzinfo=UTC)
SINCE = datetime(2026, 10, 31, tzinfo=UTC)


def fetch(url: str, root: Path, waits: list[float] | None = None, now: datetime = NOW,
          project: str = PROJECT, **kw: Any) -> FetchResult:
    cfg = GitLabConfig(api_url=url, projects=(project,), **{"page_size": 3, "max_attempts": 4,
                                                             "timeout_s": 5.0, **kw})
    sink = waits if waits is not None else []
    ctx = FetchContext(Landing(root), since=SINCE, now=now, env={"GITLAB_TOKEN": TOKEN},
                       sleep=sink.append)
    return registry.run("gitlab", cfg, ctx)


def load_warehouse(root: Path, path: Path) -> duckdb.DuckDBPyConnection:
    conn = connect(path)
    for r in ingest(conn, root, GITLAB_SOURCES):
        assert not r.problems, r.problems
    for table in ("core.ci_jobs", "core.ci_failures", "core.deployments"):
        rebuild(conn, step(table))
    return conn


def serve_verbatim(server: VendorServer, folder: Path, project: str,
                   deployments: list[Any] | None = None) -> None:
    """The examples as GitLab publishes them: the pipeline list, and the job list for the first
    pipeline (the second has none); failed jobs have a trace."""
    pipelines = load("gitlab_pipelines_list.json", folder)
    jobs = load("gitlab_pipeline_jobs_list.json", folder)
    enc = project.replace("/", "%2F")

    def listing(req: Request) -> Any:
        return 200, {"x-page": "1", "x-next-page": "", "x-per-page": "100"}, pipelines

    def job_list(req: Request) -> Any:
        first = int(req.match.group(1)) == pipelines[0]["id"]
        assert req.arg("include_retried") == "true"
        return 200, {"x-page": "1", "x-next-page": ""}, jobs if first else []

    def trace(req: Request) -> Any:
        return 200, {"content-type": "text/plain"}, (
            f"$ echo $DEPLOY_TOKEN\n{LEAKED}\nFAILED job {req.match.group(1)}\n")

    server.route("GET", rf"/projects/{enc}/pipelines", listing)
    server.route("GET", rf"/projects/{enc}/pipelines/(\d+)/jobs", job_list)
    server.route("GET", rf"/projects/{enc}/jobs/(\d+)/trace", trace)
    server.route("GET", rf"/projects/{enc}/deployments",
                 lambda req: (200, {"x-next-page": ""}, deployments or []))


# -- contracts ---------------------------------------------------------------------------------
def test_published_examples_land_and_load(shared_dir: Path, tmp_path: Path) -> None:
    """GitLab's own documented responses (shared/contracts), core.ci_jobs field by field."""
    folder = shared_dir / "contracts"
    if not (folder / "gitlab_pipelines_list.json").is_file():
        pytest.skip("shared/contracts has no GitLab examples")
    root = tmp_path / "exports"
    with VendorServer() as server:
        serve_verbatim(server, folder, PROJECT)
        result = fetch(server.url, root, now=datetime(2016, 8, 13, tzinfo=UTC))
    assert result.notes == []
    assert sorted(files(root)) == [
        "gitlab/jobs/2016-08-11.quayside-dev__ledger-api.json",
        "gitlab/logs/2016-08-11/6.txt",
        "gitlab/logs/2016-08-11/7.txt",
        "gitlab/pipelines/2016-08-11.quayside-dev__ledger-api.json",
        "gitlab/pipelines/2016-08-12.quayside-dev__ledger-api.json",
    ]
    state = json.loads((root / ".state/gitlab.json").read_text())
    assert state["projects"][PROJECT]["pending"] == [47, 48]  # both "pending": polled again
    conn = load_warehouse(root, tmp_path / "w.duckdb")
    assert rows(conn, "SELECT * EXCLUDE (run_attempt, run_started_at) FROM core.ci_jobs ORDER BY job_id") == [
        {"provider": "gitlab", "job_id": 6, "run_id": 6, "repo": "foo/bar", "workflow": "test",
         "job_name": "rspec:other", "branch": "main",
         "sha": "0ff3ae198f8601a285adcf5c0fff204ee6fba5fd", "event": None,
         "status": "completed", "conclusion": "timed_out",
         "started_at": at("2015-12-24T17:54:24.729Z"),
         "completed_at": at("2015-12-24T17:54:24.921Z"), "duration_s": 0.192,
         "url": "https://example.com/foo/bar/-/jobs/6", "run_url": None, "failed_step": None,
         "has_log": True},
        {"provider": "gitlab", "job_id": 7, "run_id": 6, "repo": "foo/bar", "workflow": "test",
         "job_name": "teaspoon", "branch": "main",
         "sha": "0ff3ae198f8601a285adcf5c0fff204ee6fba5fd", "event": None,
         "status": "completed", "conclusion": "failure",
         "started_at": at("2015-12-24T17:54:27.722Z"),
         "completed_at": at("2015-12-24T17:54:27.895Z"), "duration_s": 0.173,
         "url": "https://example.com/foo/bar/-/jobs/7", "run_url": None, "failed_step": None,
         "has_log": True},
    ]
    assert rows(conn, "SELECT pipeline_id, iid, project_id, project_path, status, source, ref, "
                      "created_at FROM raw.gitlab_pipelines ORDER BY 1") == [
        {"pipeline_id": 47, "iid": 12, "project_id": 1, "project_path": "foo/bar",
         "status": "pending", "source": "push", "ref": "new-pipeline",
         "created_at": at("2016-08-11T11:28:34.085Z")},
        {"pipeline_id": 48, "iid": 13, "project_id": 1, "project_path": "foo/bar",
         "status": "pending", "source": "web", "ref": "new-pipeline",
         "created_at": at("2016-08-12T10:06:04.561Z")},
    ]
    assert [r["job_id"] for r in rows(conn, "SELECT job_id FROM core.ci_failures ORDER BY 1")] \
        == [6, 7]
    conn.close()


def test_own_examples_land_and_load(tmp_path: Path) -> None:
    """The project's copies in GitLab's shapes (no shared/ needed): every core column."""
    root = tmp_path / "exports"
    deployments = load("gitlab_deployments_list.json")
    with VendorServer() as server:
        serve_verbatim(server, VENDORS, PROJECT, deployments)
        fetch(server.url, root, now=datetime(2025, 6, 4, tzinfo=UTC))
    log = (root / "gitlab/logs/2025-06-03/880101.txt").read_text()
    assert LEAKED not in log and "[REDACTED" in log and "FAILED job 880101" in log
    assert not (root / "gitlab/logs/2025-06-03/880102.txt").exists()  # passed: no trace read
    conn = load_warehouse(root, tmp_path / "w.duckdb")
    run_url = "https://gitlab.quayside.dev/quayside-dev/ledger-api/-/pipelines/31870"
    common = {"provider": "gitlab", "run_id": 31870, "repo": PROJECT, "workflow": "test",
              "branch": "main", "sha": "3f2c9a1e5b7d4c6a8e0f1b2d3c4e5f6a7b8c9d0e",
              "event": "push", "status": "completed", "run_url": run_url, "failed_step": None}
    assert rows(conn, "SELECT * EXCLUDE (run_attempt, run_started_at) FROM core.ci_jobs ORDER BY job_id") == [
        {**common, "job_id": 880101, "job_name": "pytest:unit", "conclusion": "failure",
         "started_at": at("2025-06-03T08:15:10Z"), "completed_at": at("2025-06-03T08:21:40.5Z"),
         "duration_s": 390.5,
         "url": "https://gitlab.quayside.dev/quayside-dev/ledger-api/-/jobs/880101",
         "has_log": True},
        {**common, "job_id": 880102, "job_name": "lint", "conclusion": "success",
         "started_at": at("2025-06-03T08:15:12Z"), "completed_at": at("2025-06-03T08:16:02Z"),
         "duration_s": 50.0,
         "url": "https://gitlab.quayside.dev/quayside-dev/ledger-api/-/jobs/880102",
         "has_log": False},
    ]
    [failure] = rows(conn, "SELECT job_id, conclusion, log_path FROM core.ci_failures")
    assert failure["job_id"] == 880101 and failure["log_path"].endswith("/880101.txt")
    assert rows(conn, "SELECT * FROM core.deployments") == [
        {"provider": "gitlab", "deployment_id": 2201, "repo": PROJECT,
         "environment": "production", "production": True,
         "sha": "3f2c9a1e5b7d4c6a8e0f1b2d3c4e5f6a7b8c9d0e", "ref": "main", "creator": "iduarte",
         "created_at": at("2025-06-03T08:40:00Z"), "final_state": "success",
         "finished_at": at("2025-06-03T08:44:30.25Z"), "failed": False,
         "target_url": run_url, "url": None},
    ]
    [running] = rows(conn, "SELECT status, created_at FROM raw.gitlab_pipelines "
                           "WHERE pipeline_id = 31871")
    assert running == {"status": "running", "created_at": at("2025-06-03T20:40:11.004Z")}
    conn.close()


# -- the cloned project: paging, retries, incremental fetches ------------------------------------
def _fake(server: VendorServer, **kw: Any) -> FakeGitLab:
    return FakeGitLab(server, PROJECT, **kw)


def test_pages_follow_x_next_page_and_read_every_attempt(tmp_path: Path) -> None:
    root = tmp_path / "exports"
    with VendorServer() as server:
        fake = _fake(server)
        result = fetch(server.url, root)
        listing = server.requests("GET", rf"/projects/{ENCODED}/pipelines")
        assert [r.arg("page") for r in listing] == ["1", "2", "3", "4"]  # 10 pipelines, 3 a page
        assert {r.arg("updated_after") for r in listing} == {"2026-10-31T00:00:00Z"}  # `since`
        assert {r.arg("order_by") for r in listing} == {"id"}
        assert all(r.headers.get("private-token") == TOKEN for r in server.log)
    conn = load_warehouse(root, tmp_path / "w.duckdb")
    total = sum(len(v) for v in fake.jobs.values())
    assert conn.execute("SELECT count(*) FROM core.ci_jobs").fetchone()[0] == total
    assert conn.execute("SELECT count(*) FROM raw.gitlab_pipelines").fetchone()[0] == 10
    logged = conn.execute("SELECT list(job_id ORDER BY job_id) FROM core.ci_jobs "
                          "WHERE has_log").fetchone()[0]
    assert logged == fake.traced() and len(logged) == 6  # every failed attempt, retried or not
    assert result.records == 10 + total + 6 + len(fake.deployments)
    for path in (root / "gitlab/logs").rglob("*.txt"):
        assert LEAKED not in path.read_text()
    conn.close()


def test_large_listing_without_totals_stops_on_empty_next_page(tmp_path: Path) -> None:
    """Above GitLab's 10,000-record limit the totals are gone; x-next-page alone ends paging."""
    with VendorServer() as server:
        fake = _fake(server, pipelines=14, jobs_per_pipeline=1, totals_cap=5)
        fetch(server.url, tmp_path / "exports", page_size=5)
        assert fake.listing_pages() == [1, 2, 3]
    landed = [p for f in (tmp_path / "exports/gitlab/pipelines").glob("*.json")
              for p in json.loads(f.read_text())]
    assert len(landed) == 14


def test_second_fetch_is_incremental_and_polls_running_pipelines(tmp_path: Path) -> None:
    root = tmp_path / "exports"
    with VendorServer() as server:
        fake = _fake(server)
        last = fake.pipelines[-1]
        fake.set_status(last["id"], "running", at(last["updated_at"]))
        fetch(server.url, root)
        state = json.loads((root / ".state/gitlab.json").read_text())["projects"][PROJECT]
        assert state["pending"] == [last["id"]] and state["cursor"] == "2026-11-04T12:00:00Z"
        server.log.clear()
        fake.set_status(last["id"], "success", NOW + timedelta(hours=1))
        fetch(server.url, root, now=NOW + timedelta(hours=2))
        assert server.requests("GET", rf"/projects/{ENCODED}/pipelines/{last['id']}")
        listing = server.requests("GET", rf"/projects/{ENCODED}/pipelines")
        assert {r.arg("updated_after") for r in listing} == {"2026-11-04T11:00:00Z"}
    state = json.loads((root / ".state/gitlab.json").read_text())["projects"][PROJECT]
    assert state["pending"] == []
    day = last["created_at"][:10]
    landed = {p["id"]: p for p in json.loads(
        (root / f"gitlab/pipelines/{day}.quayside-dev__ledger-api.json").read_text())}
    assert landed[last["id"]]["status"] == "success"


# -- faults --------------------------------------------------------------------------------------
def _clean(tmp_path: Path, **kw: Any) -> dict[str, bytes]:
    root = tmp_path / "clean"
    with VendorServer() as server:
        _fake(server, **kw)
        fetch(server.url, root)
    return files(root)


def test_rate_limit_retry_after_is_honoured(tmp_path: Path) -> None:
    waits: list[float] = []
    with VendorServer() as server:
        _fake(server)
        server.fail_next("GET", rf"/projects/{ENCODED}/pipelines",
                         Fault(429, {"retry-after": "7", "ratelimit-remaining": "0"}), times=2)
        result = fetch(server.url, tmp_path / "exports", waits)
    assert waits[:2] == [7.0, 7.0] and result.waited_s >= 14
    assert files(tmp_path / "exports") == _clean(tmp_path)


def test_rate_limit_reset_is_an_epoch_time(tmp_path: Path) -> None:
    waits: list[float] = []
    reset = str(int(datetime.now(UTC).timestamp()) + 30)
    with VendorServer() as server:
        _fake(server, pipelines=2)
        server.fail_next("GET", rf"/projects/{ENCODED}/pipelines",
                         Fault(429, {"ratelimit-reset": reset}))
        fetch(server.url, tmp_path / "exports", waits)
    assert 25 <= waits[0] <= 32  # seconds until the reset, not 1.7 billion


def test_5xx_bursts_timeouts_and_truncated_json_are_retried(tmp_path: Path) -> None:
    waits: list[float] = []
    with VendorServer() as server:
        _fake(server)
        server.fail_next("GET", rf"/projects/{ENCODED}/pipelines/\d+/jobs", Fault(502), times=3)
        server.fail_next("GET", rf"/projects/{ENCODED}/pipelines", Fault(truncate=True))
        server.fail_next("GET", rf"/projects/{ENCODED}/jobs/\d+/trace", Fault(stall_s=1.5))
        server.fail_next("GET", rf"/projects/{ENCODED}/deployments", Fault(503), times=2)
        fetch(server.url, tmp_path / "exports", waits, timeout_s=0.5)
    assert len(waits) == 3 + 1 + 1 + 2
    assert files(tmp_path / "exports") == _clean(tmp_path)


def test_a_failure_that_lasts_names_the_request_and_keeps_the_token_out(tmp_path: Path) -> None:
    with VendorServer() as server:
        _fake(server, pipelines=2)
        server.fail_next("GET", rf"/projects/{ENCODED}/pipelines", Fault(503), times=10)
        with pytest.raises(ApiError) as err:
            fetch(server.url, tmp_path / "exports", max_attempts=2)
    message = str(err.value)
    assert "gitlab: GET" in message and f"/projects/{ENCODED}/pipelines" in message
    assert "HTTP 503 after 2 attempts" in message and TOKEN not in message


def test_killed_run_resumes_to_the_same_files_and_rows(tmp_path: Path) -> None:
    clean = _clean(tmp_path)
    root = tmp_path / "exports"
    with VendorServer() as server:
        fake = _fake(server)
        victim = fake.pipelines[7]["id"]  # on the third listing page
        server.fail_next("GET", rf"/projects/{ENCODED}/pipelines/{victim}/jobs", Fault(500),
                         times=2)
        with pytest.raises(ApiError):
            fetch(server.url, root, max_attempts=2)
        state = json.loads((root / ".state/gitlab.json").read_text())["projects"][PROJECT]
        assert state["listing"]["page"] == 3 and "cursor" not in state
        server.log.clear()
        fetch(server.url, root)
        assert fake.listing_pages()[0] == 3  # resumed where it stopped, not from page 1
    assert files(root) == clean
    a = load_warehouse(root, tmp_path / "a.duckdb")
    b = load_warehouse(tmp_path / "clean", tmp_path / "b.duckdb")
    for sql in ("SELECT * EXCLUDE (run_attempt, run_started_at) FROM core.ci_jobs ORDER BY job_id",
                "SELECT * EXCLUDE (source_path) FROM raw.gitlab_jobs ORDER BY job_id",
                "SELECT * EXCLUDE (source_path) FROM raw.gitlab_pipelines ORDER BY 1",
                "SELECT * FROM core.deployments ORDER BY deployment_id"):
        assert a.execute(sql).fetchall() == b.execute(sql).fetchall()
    a.close()
    b.close()


def test_deployments_marked_production_by_configured_environment(tmp_path: Path) -> None:
    root = tmp_path / "exports"
    with VendorServer() as server:
        _fake(server, pipelines=1)
        fetch(server.url, root, production_environments=("staging",))
    conn = load_warehouse(root, tmp_path / "w.duckdb")
    got = conn.execute("SELECT deployment_id, environment, production, failed, final_state "
                       "FROM core.deployments ORDER BY 1").fetchall()
    # "staging" is production by configuration, "live" by its name
    assert got == [(3000, "staging", True, False, "success"), (3001, "live", True, True, "failed")]
    conn.close()


def test_missing_token_names_the_variable(tmp_path: Path) -> None:
    from models.connectors.base import MissingSecret

    ctx = FetchContext(Landing(tmp_path), since=SINCE, now=NOW, env={})
    with pytest.raises(MissingSecret, match="GITLAB_TOKEN"):
        registry.run("gitlab", GitLabConfig(projects=(PROJECT,)), ctx)


def test_link_header_when_a_proxy_drops_the_gitlab_paging_headers(tmp_path: Path) -> None:
    pipelines = load("gitlab_pipelines_list.json")
    root = tmp_path / "exports"
    with VendorServer() as server:
        def listing(req: Request) -> Any:
            page = int(req.arg("page") or 1)
            link = {"link": f'<{server.url}{req.path}?page=2&per_page=1>; rel="next"'}
            return 200, link if page == 1 else {}, [pipelines[page - 1]]

        server.route("GET", rf"/projects/{ENCODED}/pipelines", listing)
        server.route("GET", rf"/projects/{ENCODED}/pipelines/\d+/jobs",
                     lambda req: (200, {}, []))
        server.route("GET", rf"/projects/{ENCODED}/deployments", lambda req: (200, {}, []))
        fetch(server.url, root, page_size=1, now=datetime(2025, 6, 4, tzinfo=UTC))
        pages = [r.arg("page") for r in server.requests("GET", rf"/projects/{ENCODED}/pipelines")]
    assert pages == ["1", "2"]
    assert len(list((root / "gitlab/pipelines").glob("*.json"))) == 1
    assert len(json.loads(next((root / "gitlab/pipelines").glob("*.json")).read_text())) == 2


def test_failures_are_excerpted_and_fingerprinted_like_github_ones(tmp_path: Path) -> None:
    """The failure analysis reads GitLab traces unchanged: runner sections and colours go."""
    from models.recurrence.excerpts import excerpt_failures
    from warehouse.failures import pending_failures, store_excerpts

    root = tmp_path / "exports"
    with VendorServer() as server:
        fake = _fake(server)
        fetch(server.url, root)
    conn = load_warehouse(root, tmp_path / "w.duckdb")
    pending = pending_failures(conn)
    assert sorted(p.job_id for p in pending) == fake.traced()
    assert {p.provider for p in pending} == {"gitlab"}
    store_excerpts(conn, excerpt_failures(pending, workers=1))
    got = conn.execute("SELECT job_id, fingerprint, excerpt FROM models.failure_excerpts "
                       "WHERE provider = 'gitlab' ORDER BY job_id").fetchall()
    assert len(got) == 6 and all(fp for _, fp, _ in got)
    lines = [line["text"] for line in json.loads(got[0][2])]
    assert any(t.startswith("FAILED tests/test_ledger.py::test_rounding") for t in lines)
    assert "ERROR: Job failed: exit code 1" in lines
    assert not any("\x1b" in t or "section_" in t or LEAKED in t for t in lines)
    conn.close()


# -- mapping details -------------------------------------------------------------------------------
def test_project_path_from_web_urls() -> None:
    from models.sources.gitlab import project_path

    assert project_path("https://gitlab.com/a/b/c/-/jobs/9") == "a/b/c"
    assert project_path("https://example.com/foo/bar/pipelines/47") == "foo/bar"
    assert project_path("http://gitlab.dev/root/project/pipelines/12") == "root/project"
    assert project_path("https://gitlab.com/a/pipelines/-/pipelines/3") == "a/pipelines"
    assert project_path(None) is None and project_path("https://gitlab.com/") is None


def test_a_job_without_its_pipeline_is_quarantined_and_the_rest_loads(tmp_path: Path) -> None:
    root = tmp_path / "exports"
    (root / "gitlab/jobs").mkdir(parents=True)
    good, other = load("gitlab_pipeline_jobs_list.json")
    bad = {k: v for k, v in other.items() if k != "pipeline"}
    (root / "gitlab/jobs/2025-06-03.quayside-dev__ledger-api.json").write_text(
        json.dumps([good, bad]))
    conn = connect(tmp_path / "w.duckdb")
    results = {r.source: r for r in ingest(conn, root, GITLAB_SOURCES)}
    jobs = results["gitlab_jobs"]
    assert (jobs.records, jobs.quarantined) == (1, 1)
    assert "record 1 (id 880102): job names no pipeline (pipeline.id)" in jobs.problems[0]
    assert conn.execute("SELECT list(job_id) FROM raw.gitlab_jobs").fetchone()[0] == [880101]
    conn.close()
