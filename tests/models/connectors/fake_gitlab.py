"""A GitLab REST API v4 on loopback: pipelines, jobs, traces and deployments cloned from GitLab's
published examples (or the project's copies in the same shapes), paged by page number with the
`x-next-page` header, which is empty on the last page, and totals only below `totals_cap`."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tests.vendor_server import Request, VendorServer

VENDORS = Path(__file__).resolve().parents[2] / "fixtures" / "vendors"
TOKEN = "glpat-test-token-0123456789"
LEAKED = "glpat-" + "Zx9" * 7  # a token a job printed into its trace


def load(name: str, folder: Path = VENDORS) -> Any:
    return json.loads((folder / name).read_text(encoding="utf-8"))


def ts(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class FakeGitLab:
    """One project; `pipelines` pipelines each with `jobs_per_pipeline` jobs (plus a retried
    attempt of every failed one, visible only with `include_retried=true`)."""

    def __init__(self, server: VendorServer, project: str = "quayside-dev/ledger-api",
                 folder: Path = VENDORS, start: datetime = datetime(2026, 11, 1, tzinfo=UTC),
                 pipelines: int = 10, jobs_per_pipeline: int = 2, fail_every: int = 3,
                 spacing: timedelta = timedelta(hours=5), deployments: int = 2,
                 totals_cap: int = 10_000) -> None:
        self.server = server
        self.project = project
        self.totals_cap = totals_cap
        pipe_t = load("gitlab_pipelines_list.json", folder)[0]
        job_t = load("gitlab_pipeline_jobs_list.json", folder)[0]
        dep_t = load("gitlab_deployments_list.json", VENDORS)[0]
        host = "https://gitlab.quayside.dev"
        self.pipelines: list[dict[str, Any]] = []
        self.jobs: dict[int, list[dict[str, Any]]] = {}
        self.traces: dict[int, str] = {}
        self.retried: set[int] = set()
        n = 0
        for i in range(pipelines):
            p = copy.deepcopy(pipe_t)
            pid = 40_000 + i
            created = start + spacing * i
            p.update(id=pid, iid=100 + i, project_id=77, status="success", ref="main",
                     created_at=ts(created), updated_at=ts(created + timedelta(minutes=9)),
                     web_url=f"{host}/{project}/-/pipelines/{pid}")
            jobs = []
            for k in range(jobs_per_pipeline):
                n += 1
                failed = n % fail_every == 0
                attempts = [True, False] if failed else [False]  # a failed try, then its retry
                for a, fails in enumerate(attempts):
                    j = copy.deepcopy(job_t)
                    jid = 900_000 + n * 10 + a
                    j.update(id=jid, name=f"job-{k}", stage="test",
                             status="failed" if fails else "success",
                             failure_reason="script_failure" if fails else None,
                             created_at=ts(created), started_at=ts(created + timedelta(minutes=1)),
                             finished_at=ts(created + timedelta(minutes=8)), duration=420.0,
                             web_url=f"{host}/{project}/-/jobs/{jid}")
                    j["pipeline"] = {**j["pipeline"], "id": pid, "project_id": 77,
                                     "status": "success"}
                    if a == 0 and failed:
                        self.retried.add(jid)
                    jobs.append(j)
                    if fails:
                        self.traces[jid] = (  # as runners write them: sections, colours
                            "\x1b[0KRunning with gitlab-runner 17.5.0 (0a1b2c3d)\n"
                            "section_start:1762000000:step_script\r\x1b[0K"
                            "\x1b[0K\x1b[36;1mExecuting \"step_script\" stage\x1b[0;m\n"
                            f"\x1b[32;1m$ export GITLAB_TOKEN={LEAKED}\x1b[0;m\n"
                            "\x1b[32;1m$ pytest -q\x1b[0;m\n....F\n"
                            f"FAILED tests/test_ledger.py::test_rounding[{k}] - AssertionError\n"
                            "1 failed, 4 passed in 0.31s\n"
                            "section_end:1762000031:step_script\r\x1b[0K\n"
                            "\x1b[31;1mERROR: Job failed: exit code 1\n\x1b[0;m\n")
            p["status"] = "success"
            self.pipelines.append(p)
            self.jobs[pid] = jobs
        self.deployments: list[dict[str, Any]] = []
        for i in range(deployments):
            d = copy.deepcopy(dep_t)
            created = start + timedelta(hours=7 * i + 2)
            d.update(id=3000 + i, iid=10 + i, created_at=ts(created),
                     updated_at=ts(created + timedelta(minutes=3)),
                     status="failed" if i == 1 else "success")
            d["environment"] = {**d["environment"], "name": "live" if i == 1 else "staging"}
            self.deployments.append(d)
        self._routes()

    # -- helpers the tests use ---------------------------------------------------------------
    def set_status(self, pipeline_id: int, status: str, updated: datetime) -> None:
        for p in self.pipelines:
            if p["id"] == pipeline_id:
                p["status"] = status
                p["updated_at"] = ts(updated)

    def listing_pages(self) -> list[int]:
        pattern = rf"/projects/{quote(self.project, safe='').replace('%', '%')}/pipelines"
        return [int(r.arg("page", "1") or 1) for r in self.server.requests("GET", pattern)]

    def traced(self) -> list[int]:
        return sorted(self.traces)

    # -- the API -------------------------------------------------------------------------------
    def _page(self, req: Request, items: list[Any]) -> tuple[list[Any], dict[str, str]]:
        per_page = min(int(req.arg("per_page", "20") or 20), 100)
        page = int(req.arg("page", "1") or 1)
        chunk = items[(page - 1) * per_page: page * per_page]
        last = page * per_page >= len(items)
        headers = {"x-page": str(page), "x-per-page": str(per_page),
                   "x-next-page": "" if last else str(page + 1),
                   "x-prev-page": "" if page == 1 else str(page - 1)}
        if len(items) <= self.totals_cap:  # GitLab drops the totals above 10,000 records
            headers["x-total"] = str(len(items))
            headers["x-total-pages"] = str(max(1, -(-len(items) // per_page)))
        return chunk, headers

    def _authorized(self, req: Request) -> bool:
        return req.headers.get("private-token") == TOKEN

    def _routes(self) -> None:
        s = self.server
        proj = quote(self.project, safe="")

        def guard(fn: Any) -> Any:
            def wrapped(req: Request) -> Any:
                if not self._authorized(req):
                    return 401, {}, {"message": "401 Unauthorized"}
                return fn(req)
            return wrapped

        @s.route("GET", rf"/projects/{proj}/pipelines")
        @guard
        def pipelines(req: Request) -> Any:
            items = list(self.pipelines)
            after = req.arg("updated_after")
            if after:
                items = [p for p in items if _parse(p["updated_at"]) > _parse(after)]
            key = req.arg("order_by", "id")
            items.sort(key=lambda p: p[key] if key != "id" else p["id"],
                       reverse=req.arg("sort", "desc") == "desc")
            chunk, headers = self._page(req, items)
            return 200, headers, chunk

        @s.route("GET", rf"/projects/{proj}/pipelines/(\d+)")
        @guard
        def pipeline(req: Request) -> Any:
            pid = int(req.match.group(1))
            for p in self.pipelines:
                if p["id"] == pid:
                    return 200, {}, p
            return 404, {}, {"message": "404 Not found"}

        @s.route("GET", rf"/projects/{proj}/pipelines/(\d+)/jobs")
        @guard
        def jobs(req: Request) -> Any:
            items = self.jobs.get(int(req.match.group(1)), [])
            if req.arg("include_retried") != "true":
                items = [j for j in items if j["id"] not in self.retried]
            items = sorted(items, key=lambda j: j["id"], reverse=True)
            chunk, headers = self._page(req, items)
            return 200, headers, chunk

        @s.route("GET", rf"/projects/{proj}/jobs/(\d+)/trace")
        @guard
        def trace(req: Request) -> Any:
            jid = int(req.match.group(1))
            if jid not in self.traces:
                return 404, {}, {"message": "404 Not found"}
            return 200, {"content-type": "text/plain"}, self.traces[jid]

        @s.route("GET", rf"/projects/{proj}/deployments")
        @guard
        def deployments(req: Request) -> Any:
            items = list(self.deployments)
            after = req.arg("updated_after")
            if after:
                items = [d for d in items if _parse(d["updated_at"]) > _parse(after)]
            items.sort(key=lambda d: (d["updated_at"], d["id"]))
            chunk, headers = self._page(req, items)
            return 200, headers, chunk
