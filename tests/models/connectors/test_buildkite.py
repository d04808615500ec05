"""Buildkite connector against a loopback Buildkite: documented payloads in, core rows out, faults."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from models.connectors import registry
from models.connectors.base import FetchContext, FetchResult
from models.connectors.buildkite import rebase
from models.connectors.config import BuildkiteConfig
from models.connectors.http import ApiError
from models.connectors.landing import Landing
from models.sources.buildkite import bigint_id, map_build
from models.sources.common import RecordError
from tests.models.connectors.ci_harness import at, files, rows
from tests.models.connectors.fake_buildkite import LEAKED, TOKEN, FakeBuildkite, load
from tests.vendor_server import Fault, Request, VendorServer
from warehouse.db import connect
from warehouse.ingest import ingest
from warehouse.sources import BUILDKITE_SOURCES
from warehouse.transform import rebuild, step

ORG = "quayside-dev"
PIPELINE = "ledger-api"
BUILDS = rf"/v2/organizations/{ORG}/pipelines/{PIPELINE}/builds"
NOW = datetime(2026, 11, 4, 12, 0, tzinfo=UTC)
SINCE = datetime(2026, 10, 31, tzinfo=UTC)


def fetch(url: str, root: Path, waits: list[float] | None = None, now: datetime = NOW,
          **kw: Any) -> FetchResult:
    cfg = BuildkiteConfig(api_url=f"{url}/v2", organization=ORG,
                          **{"pipelines": (PIPELINE,), "page_size": 3, "max_attempts": 4,
                             "timeout_s": 5.0, **kw})
    ctx = FetchContext(Landing(root), since=SINCE, now=now, env={"BUILDKITE_TOKEN": TOKEN},
                       sleep=(waits if waits is not None else []).append)
    return registry.run("buildkite", cfg, ctx)


def load_warehouse(root: Path, path: Path) -> duckdb.DuckDBPyConnection:
    conn = connect(path)
    for r in ingest(conn, root, BUILDKITE_SOURCES):
        assert not r.problems, r.problems
    for table in ("core.ci_jobs", "core.ci_failures"):
        rebuild(conn, step(table))
    return conn


# -- the UUID -> BIGINT rule ----------------------------------------------------------------------
def test_bigint_id_is_stable_63_bit_and_case_insensitive() -> None:
    u = "0197a1c2-7b3e-7c41-8d2f-1e0a9b8c7d61"
    assert bigint_id(u) == bigint_id(u.upper()) == bigint_id(f" {u} ")
    assert bigint_id(u) == 2013676238579041686  # sha256(uuid text)[:8], top bit cleared
    assert 0 <= bigint_id(u) < 2**63
    ids = {bigint_id(f"0197a1c2-0000-7000-8000-{n:012x}") for n in range(20_000)}
    assert len(ids) == 20_000  # UUIDv7s differing only in their last bits do not collide
    with pytest.raises(RecordError, match="not a UUID"):
        map_build({"id": "build-1", "pipeline": {"slug": "x"}})


def test_rebase_keeps_the_path_under_the_configured_api() -> None:
    url = ("https://api.buildkite.com/v2/organizations/o/pipelines/p/builds/1/jobs/"
           "0197a1c2-7b3e-7c41-8d2f-1e0a9b8c7d61/log.txt")
    assert rebase(url, "http://proxy.local:8080/bk/v2/") == (
        "http://proxy.local:8080/bk/v2/organizations/o/pipelines/p/builds/1/jobs/"
        "0197a1c2-7b3e-7c41-8d2f-1e0a9b8c7d61/log.txt")


# -- contract: the documented build shape -------------------------------------------------------
def test_documented_build_lands_and_loads(tmp_path: Path) -> None:
    """The project's build in Buildkite's documented shape, served as the API would, with the
    job log in its plain-text form; core.ci_jobs field by field."""
    builds = load("buildkite_builds_list.json")
    log_doc = load("buildkite_job_log.json")
    failed = "0197a1c2-7b3e-7c41-8d2f-1e0a9b8c7d61"
    timed_out = "0197a1c2-9f00-7a12-b3c4-d5e6f7a8b9c0"
    root = tmp_path / "exports"
    with VendorServer() as server:
        def listing(req: Request) -> Any:
            assert req.arg("include_retried_jobs") == "true"
            assert (req.arg("created_from") or req.arg("finished_from")) == "2025-06-01T00:00:00Z"
            return 200, {}, builds

        def raw_log(req: Request) -> Any:
            jid = req.match.group(1)
            body = log_doc["content"] + (f"token {LEAKED}\n" if jid == failed else "")
            return 200, {"content-type": "text/plain"}, body

        server.route("GET", BUILDS, listing)
        server.route("GET", rf"{BUILDS}/1/jobs/([0-9a-f-]+)/log\.txt", raw_log)
        cfg = BuildkiteConfig(api_url=f"{server.url}/v2", organization=ORG,
                              pipelines=(PIPELINE,))
        ctx = FetchContext(Landing(root), since=datetime(2025, 6, 1, tzinfo=UTC),
                           now=datetime(2025, 6, 4, tzinfo=UTC), env={"BUILDKITE_TOKEN": TOKEN})
        registry.run("buildkite", cfg, ctx)
        assert {r.headers["authorization"] for r in server.log} == {f"Bearer {TOKEN}"}
    assert sorted(files(root)) == [
        "buildkite/builds/2025-06-03.ledger-api.json",
        f"buildkite/logs/2025-06-03/{failed}.txt",
        f"buildkite/logs/2025-06-03/{timed_out}.txt",
    ]
    text = (root / f"buildkite/logs/2025-06-03/{failed}.txt").read_text()
    assert LEAKED not in text and "FAILED tests/test_ledger.py::test_rounding" in text
    conn = load_warehouse(root, tmp_path / "w.duckdb")
    run_id = bigint_id("0197a1c2-5a6b-7c8d-9e0f-a1b2c3d4e5f6")
    web = "https://buildkite.com/quayside-dev/ledger-api/builds/1"
    common = {"provider": "buildkite", "run_id": run_id, "repo": "ledger-api",
              "workflow": "Ledger API", "branch": "main",
              "sha": "3f2c9a1e5b7d4c6a8e0f1b2d3c4e5f6a7b8c9d0e", "event": "webhook",
              "status": "completed", "run_url": web, "failed_step": None}
    got = sorted(rows(conn, "SELECT * EXCLUDE (run_attempt, run_started_at) FROM core.ci_jobs"),
                 key=lambda r: r["started_at"])
    assert got == [
        {**common, "job_id": bigint_id(failed), "job_name": ":pytest: unit",
         "conclusion": "failure", "started_at": at("2025-06-03T08:15:10Z"),
         "completed_at": at("2025-06-03T08:21:40.5Z"), "duration_s": 390.5,
         "url": f"{web}#{failed}", "has_log": True},
        {**common, "job_id": bigint_id("0197a1c2-7b3e-7c41-8d2f-1e0a9b8c7d62"),
         "job_name": ":lint-roller: lint", "conclusion": "success",
         "started_at": at("2025-06-03T08:15:12Z"), "completed_at": at("2025-06-03T08:16:02Z"),
         "duration_s": 50.0, "url": f"{web}#0197a1c2-7b3e-7c41-8d2f-1e0a9b8c7d62",
         "has_log": False},
        {**common, "job_id": bigint_id(timed_out), "job_name": ":pytest: unit",
         "conclusion": "timed_out", "started_at": at("2025-06-03T08:22:00Z"),
         "completed_at": at("2025-06-03T08:52:00Z"), "duration_s": 1800.0,
         "url": f"{web}#{timed_out}", "has_log": True},
    ]
    assert rows(conn, "SELECT job_uuid, retried, retried_in_job_uuid, exit_status, agent "
                      "FROM raw.buildkite_jobs ORDER BY started_at") == [
        {"job_uuid": failed, "retried": True, "retried_in_job_uuid": timed_out,
         "exit_status": 1, "agent": "ci-agent-7"},
        {"job_uuid": "0197a1c2-7b3e-7c41-8d2f-1e0a9b8c7d62", "retried": False,
         "retried_in_job_uuid": None, "exit_status": 0, "agent": "ci-agent-7"},
        {"job_uuid": timed_out, "retried": False, "retried_in_job_uuid": None,
         "exit_status": -1, "agent": "ci-agent-7"},
    ]
    assert rows(conn, "SELECT number, organization, pipeline_slug, state, creator "
                      "FROM raw.buildkite_builds") == [
        {"number": 1, "organization": "quayside-dev", "pipeline_slug": "ledger-api",
         "state": "failed", "creator": "ines@quayside.dev"}]
    assert sorted(r[0] for r in conn.execute(
        "SELECT conclusion FROM core.ci_failures").fetchall()) == ["failure", "timed_out"]
    conn.close()


# -- the cloned pipeline: paging, retries, incremental fetches ---------------------------------
def test_link_pages_every_retry_and_redacted_logs(tmp_path: Path) -> None:
    root = tmp_path / "exports"
    with VendorServer() as server:
        fake = FakeBuildkite(server)
        fetch(server.url, root)
        # 9 builds, 3 a page: those created since the cursor, then those finished since it
        assert fake.listing_pages() == [("created", 1), ("created", 2), ("created", 3),
                                        ("finished", 1), ("finished", 2), ("finished", 3)]
    conn = load_warehouse(root, tmp_path / "w.duckdb")
    jobs = sum(1 for b in fake.builds for j in b["jobs"] if j["type"] == "script")
    assert conn.execute("SELECT count(*) FROM core.ci_jobs").fetchone()[0] == jobs
    assert conn.execute("SELECT count(*) FROM raw.buildkite_builds").fetchone()[0] == 9
    logged = {r[0] for r in conn.execute(
        "SELECT job_uuid FROM raw.buildkite_jobs JOIN raw.ci_logs l "
        "ON l.provider = 'buildkite' AND l.job_id = raw.buildkite_jobs.job_id").fetchall()}
    assert logged == set(fake.logs) and len(logged) == 6
    for path in (root / "buildkite/logs").rglob("*.txt"):
        assert LEAKED not in path.read_text()
    conn.close()


def test_running_build_is_polled_again(tmp_path: Path) -> None:
    root = tmp_path / "exports"
    with VendorServer() as server:
        fake = FakeBuildkite(server)
        fake.set_state(208, "running")
        fetch(server.url, root)
        state = json.loads((root / ".state/buildkite.json").read_text())["pipelines"][PIPELINE]
        assert state["pending"] == [[PIPELINE, 208]] and state["cursor"] == "2026-11-04T12:00:00Z"
        server.log.clear()
        fake.set_state(208, "passed")
        fetch(server.url, root, now=NOW + timedelta(hours=2))
        [poll] = server.requests("GET", rf"{BUILDS}/208")
        assert poll.arg("include_retried_jobs") == "true"
        listing = server.requests("GET", BUILDS)
        assert {r.arg("created_from") or r.arg("finished_from") for r in listing} \
            == {"2026-11-04T11:00:00Z"}
    state = json.loads((root / ".state/buildkite.json").read_text())["pipelines"][PIPELINE]
    assert state["pending"] == []
    landed = json.loads((root / "buildkite/builds/2026-11-02.ledger-api.json").read_text())
    assert {b["number"]: b["state"] for b in landed}[208] == "passed"


def test_organization_wide_listing_when_no_pipeline_is_named(tmp_path: Path) -> None:
    with VendorServer() as server:
        fake = FakeBuildkite(server, builds=2)
        server.route("GET", rf"/v2/organizations/{ORG}/builds",
                     lambda req: (200, {}, [fake._view(req, b) for b in fake.builds]))
        fetch(server.url, tmp_path / "exports", pipelines=())
        assert server.requests("GET", rf"/v2/organizations/{ORG}/builds")
    assert (tmp_path / "exports/buildkite/builds/2026-11-01.ledger-api.json").is_file()


# -- faults --------------------------------------------------------------------------------------
def _clean(tmp_path: Path) -> dict[str, bytes]:
    with VendorServer() as server:
        FakeBuildkite(server)
        fetch(server.url, tmp_path / "clean")
    return files(tmp_path / "clean")


def test_rate_limits_5xx_timeouts_and_truncated_json(tmp_path: Path) -> None:
    waits: list[float] = []
    with VendorServer() as server:
        FakeBuildkite(server)
        server.fail_next("GET", BUILDS, Fault(429, {"ratelimit-reset": "42",
                                                    "ratelimit-user-reset": "17"}))
        server.fail_next("GET", BUILDS, Fault(429, body=b'{"message": "slow down", "reset": 9}'))
        server.fail_next("GET", BUILDS, Fault(truncate=True))
        server.fail_next("GET", rf"{BUILDS}/\d+/jobs/[0-9a-f-]+/log\.txt", Fault(502), times=3)
        server.fail_next("GET", rf"{BUILDS}/\d+/jobs/[0-9a-f-]+/log\.txt", Fault(stall_s=1.5))
        fetch(server.url, tmp_path / "exports", waits, timeout_s=0.5, max_attempts=6)
    assert waits[:2] == [42.0, 9.0]
    assert len(waits) == 2 + 1 + 3 + 1
    assert files(tmp_path / "exports") == _clean(tmp_path)


def test_killed_run_resumes_to_the_same_files_and_rows(tmp_path: Path) -> None:
    clean = _clean(tmp_path)
    root = tmp_path / "exports"
    with VendorServer() as server:
        fake = FakeBuildkite(server)
        victim = next(j["id"] for j in fake.builds[1]["jobs"] if j["id"] in fake.logs)
        server.fail_next("GET", rf"{BUILDS}/\d+/jobs/{victim}/log\.txt", Fault(500), times=2)
        with pytest.raises(ApiError, match=r"buildkite: GET .*log\.txt: HTTP 500"):
            fetch(server.url, root, max_attempts=2)
        state = json.loads((root / ".state/buildkite.json").read_text())["pipelines"][PIPELINE]
        assert state["listing"]["page"] == 3 and state["listing"]["filter"] == 0
        assert "cursor" not in state
        server.log.clear()
        fetch(server.url, root)
        assert fake.listing_pages() == [("created", 3), ("finished", 1), ("finished", 2),
                                        ("finished", 3)]
    assert files(root) == clean
    a = load_warehouse(root, tmp_path / "a.duckdb")
    b = load_warehouse(tmp_path / "clean", tmp_path / "b.duckdb")
    for sql in ("SELECT * EXCLUDE (run_attempt, run_started_at) FROM core.ci_jobs ORDER BY job_id",
                "SELECT * EXCLUDE (source_path) FROM raw.buildkite_jobs ORDER BY job_id",
                "SELECT * EXCLUDE (source_path, payload) FROM raw.buildkite_builds ORDER BY 1"):
        assert a.execute(sql).fetchall() == b.execute(sql).fetchall()
    a.close()
    b.close()


def test_bad_build_is_quarantined_and_the_rest_loads(tmp_path: Path) -> None:
    root = tmp_path / "exports"
    folder = root / "buildkite/builds"
    folder.mkdir(parents=True)
    good = load("buildkite_builds_list.json")[0]
    bad = {**good, "id": None}
    (folder / "2025-06-03.ledger-api.json").write_text(json.dumps([bad, good]))
    conn = connect(tmp_path / "w.duckdb")
    [builds, _] = ingest(conn, root, BUILDKITE_SOURCES)
    assert builds.records == 1 and builds.quarantined == 1
    assert "missing required field 'id'" in builds.problems[0]
    assert conn.execute("SELECT count(*) FROM raw.buildkite_jobs").fetchone()[0] == 3
    conn.close()


def test_json_log_form_when_a_job_has_no_raw_log_url(tmp_path: Path) -> None:
    root = tmp_path / "exports"
    with VendorServer() as server:
        fake = FakeBuildkite(server, builds=1, jobs_per_build=1, fail_every=1)
        for job in fake.builds[0]["jobs"]:
            job.pop("raw_log_url", None)
        fetch(server.url, root)
        assert server.requests("GET", rf"{BUILDS}/\d+/jobs/[0-9a-f-]+/log")
        assert not server.requests("GET", rf"{BUILDS}/\d+/jobs/[0-9a-f-]+/log\.txt")
    [path] = (root / "buildkite/logs").rglob("*.txt")
    text = path.read_text()
    assert "FAILED tests/test_ledger.py::test_1" in text and LEAKED not in text
    assert path.stem in fake.logs


def test_failures_are_excerpted_and_fingerprinted_like_github_ones(tmp_path: Path) -> None:
    """The agent's in-band line times become ISO prefixes the log reader already strips."""
    from models.recurrence.excerpts import excerpt_failures
    from warehouse.failures import pending_failures, store_excerpts

    root = tmp_path / "exports"
    with VendorServer() as server:
        fake = FakeBuildkite(server)
        fetch(server.url, root)
    first = sorted((root / "buildkite/logs").rglob("*.txt"))[0].read_text()
    assert "\x1b_bk" not in first and first.startswith("2026-11-01T")
    conn = load_warehouse(root, tmp_path / "w.duckdb")
    pending = pending_failures(conn)
    assert sorted(bigint_id(u) for u in fake.logs) == sorted(p.job_id for p in pending)
    store_excerpts(conn, excerpt_failures(pending, workers=1))
    got = conn.execute("SELECT fingerprint, excerpt FROM models.failure_excerpts "
                       "WHERE provider = 'buildkite'").fetchall()
    assert len(got) == 6 and all(fp for fp, _ in got)
    for _, excerpt in got:
        lines = [line["text"] for line in json.loads(excerpt)]
        assert any(t.startswith("FAILED tests/test_ledger.py::test_") for t in lines)
        assert not any("\x1b" in t or "bk;t=" in t or LEAKED in t for t in lines)
    conn.close()


def test_a_job_retried_in_an_older_build_is_read(tmp_path: Path) -> None:
    """The build was created before the cursor; finishing again puts it in `finished_from`."""
    root = tmp_path / "exports"
    with VendorServer() as server:
        fake = FakeBuildkite(server)
        fetch(server.url, root)
        later = NOW + timedelta(days=2)
        jid = fake.retry_job(200, later - timedelta(minutes=1))
        fetch(server.url, root, now=later)
    landed = json.loads((root / "buildkite/builds/2026-11-01.ledger-api.json").read_text())
    build = next(b for b in landed if b["number"] == 200)
    assert build["state"] == "failed" and jid in {j["id"] for j in build["jobs"]}
    assert (root / f"buildkite/logs/2026-11-01/{jid}.txt").is_file()
    conn = load_warehouse(root, tmp_path / "w.duckdb")
    assert conn.execute("SELECT conclusion FROM core.ci_jobs WHERE job_id = ?",
                        [bigint_id(jid)]).fetchone() == ("failure",)
    conn.close()
