"""A Buildkite REST API v2 on loopback: builds (with their jobs, retries included only with
`include_retried_jobs=true`) cloned from the project's copy of Buildkite's documented build
shape, newest first, paged with `Link` rel="next"; job logs as plain text (`log.txt`) and as
the JSON form (`log`)."""
# The shape comes from Buildkite's REST API documentation (see tests/fixtures/vendors/README.md).

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.vendor_server import Request, VendorServer

VENDORS = Path(__file__).resolve().parents[2] / "fixtures" / "vendors"
TOKEN = "bkua_test_token_0123456789abcdef"
LEAKED = "AKIA" + "QX7ZL2M9P4R8T6V1"  # an AWS key id a job printed into its log


def load(name: str) -> Any:
    return json.loads((VENDORS / name).read_text(encoding="utf-8"))


def ts(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _uuid(kind: int, n: int) -> str:
    return str(uuid.UUID(int=(0x0197A1C2 << 96) | (kind << 64) | n))


class FakeBuildkite:
    """`builds` builds of one pipeline, each with `jobs_per_build` command jobs, a wait step and,
    for every failed job, a passing retry; every `fail_every`-th job fails."""

    def __init__(self, server: VendorServer, org: str = "quayside-dev",
                 pipeline: str = "ledger-api", start: datetime = datetime(2026, 11, 1, tzinfo=UTC),
                 builds: int = 9, jobs_per_build: int = 2, fail_every: int = 3,
                 spacing: timedelta = timedelta(hours=5)) -> None:
        self.server = server
        self.org = org
        self.pipeline = pipeline
        build_t = load("buildkite_builds_list.json")[0]
        script_t = next(j for j in build_t["jobs"] if j["type"] == "script")
        waiter_t = next(j for j in build_t["jobs"] if j["type"] == "waiter")
        # Records carry Buildkite's own URLs; the connector re-roots them at its api_url.
        api = f"https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}"
        web = f"https://buildkite.com/{org}/{pipeline}"
        self.builds: list[dict[str, Any]] = []
        self.logs: dict[str, str] = {}
        self.retries: set[str] = set()
        n = 0
        for i in range(builds):
            b = copy.deepcopy(build_t)
            number = 200 + i
            created = start + spacing * i
            b.update(id=_uuid(1, number), number=number, state="passed", branch="main",
                     url=f"{api}/builds/{number}", web_url=f"{web}/builds/{number}",
                     created_at=ts(created), scheduled_at=ts(created),
                     started_at=ts(created + timedelta(minutes=1)),
                     finished_at=ts(created + timedelta(minutes=9)))
            b["pipeline"] = {**b["pipeline"], "slug": pipeline, "url": api}
            jobs: list[dict[str, Any]] = []
            for k in range(jobs_per_build):
                n += 1
                failed = n % fail_every == 0
                tries = [True, False] if failed else [False]
                for a, fails in enumerate(tries):
                    j = copy.deepcopy(script_t)
                    jid = _uuid(2, n * 10 + a)
                    j.update(id=jid, name=f":pytest: part {k}", step_key=f"part-{k}",
                             state="failed" if fails else "passed",
                             exit_status=1 if fails else 0,
                             web_url=f"{web}/builds/{number}#{jid}",
                             log_url=f"{api}/builds/{number}/jobs/{jid}/log",
                             raw_log_url=f"{api}/builds/{number}/jobs/{jid}/log.txt",
                             created_at=ts(created), started_at=ts(created + timedelta(minutes=1)),
                             finished_at=ts(created + timedelta(minutes=8)),
                             retried=a == 0 and failed,
                             retried_in_job_id=_uuid(2, n * 10 + 1) if a == 0 and failed else None)
                    jobs.append(j)
                    if a == 0 and failed:
                        self.retries.add(jid)
                    if fails:
                        t0 = int(created.timestamp() * 1000) + 60_000
                        bk = [f"\x1b_bk;t={t0 + 250 * i}\x07" for i in range(6)]
                        self.logs[jid] = (  # as the agent writes them: in-band line times
                            f"{bk[0]}~~~ Preparing working directory\n"
                            f"{bk[1]}$ export AWS_ACCESS_KEY_ID={LEAKED}\n"
                            f"{bk[2]}--- :pytest: Running tests\n"
                            f"{bk[3]}FAILED tests/test_ledger.py::test_{n} - AssertionError\n"
                            f"{bk[4]}1 failed, 4 passed in 0.31s\n"
                            f"{bk[5]}\x1b[31m🚨 Error: The command exited with status 1"
                            "\x1b[0m\n")
            waiter = copy.deepcopy(waiter_t)
            waiter["id"] = _uuid(3, number)
            jobs.insert(1, waiter)
            b["jobs"] = jobs
            self.builds.append(b)
        self._routes()

    def set_state(self, number: int, state: str) -> None:
        for b in self.builds:
            if b["number"] == number:
                b["state"] = state
                b["finished_at"] = None if state == "running" else b["finished_at"]

    def listing_pages(self) -> list[tuple[str, int]]:
        """(filter, page) of each build listing request, in order."""
        return [("created" if r.arg("created_from") else "finished", int(r.arg("page", "1") or 1))
                for r in self.server.requests("GET", rf"/v2/organizations/{self.org}/pipelines/"
                                                     rf"{self.pipeline}/builds")]

    def retry_job(self, number: int, finished: datetime) -> str:
        """A failed job of an older build retried now: a new job, the build finished again."""
        build = next(b for b in self.builds if b["number"] == number)
        job = copy.deepcopy(next(j for j in build["jobs"] if j["type"] == "script"))
        jid = _uuid(4, number)
        job.update(id=jid, state="failed", exit_status=2, retried=False,
                   retried_in_job_id=None, started_at=ts(finished - timedelta(minutes=5)),
                   finished_at=ts(finished),
                   raw_log_url=job["raw_log_url"].replace(job["id"], jid),
                   log_url=job["log_url"].replace(job["id"], jid))
        build["jobs"].append(job)
        build.update(state="failed", finished_at=ts(finished))
        self.logs[jid] = "FAILED tests/test_ledger.py::test_retry - flaky again\n"
        return jid

    def _view(self, req: Request, build: dict[str, Any]) -> dict[str, Any]:
        if req.arg("include_retried_jobs") == "true":
            return build
        return {**build, "jobs": [j for j in build["jobs"] if j["id"] not in self.retries]}

    def _routes(self) -> None:
        s = self.server
        base = rf"/v2/organizations/{self.org}/pipelines/{self.pipeline}"

        def guard(fn: Any) -> Any:
            def wrapped(req: Request) -> Any:
                if req.headers.get("authorization") != f"Bearer {TOKEN}":
                    return 401, {}, {"message": "Authentication required. Please supply a "
                                                "valid API Access Token"}
                return fn(req)
            return wrapped

        @s.route("GET", rf"{base}/builds")
        @guard
        def builds(req: Request) -> Any:
            items = list(self.builds)
            since = req.arg("created_from")
            if since:
                items = [b for b in items if _parse(b["created_at"]) >= _parse(since)]
            done = req.arg("finished_from")
            if done:
                items = [b for b in items
                         if b["finished_at"] and _parse(b["finished_at"]) >= _parse(done)]
            items.sort(key=lambda b: b["created_at"], reverse=True)  # newest first
            per_page = min(int(req.arg("per_page", "30") or 30), 100)
            page = int(req.arg("page", "1") or 1)
            chunk = items[(page - 1) * per_page: page * per_page]
            links = []
            query = {k: v[0] for k, v in req.query.items()}
            if page * per_page < len(items):
                links.append(f'<{s.url}{req.path}?{urlencode({**query, "page": page + 1})}>; '
                             'rel="next"')
            if page > 1:
                links.append(f'<{s.url}{req.path}?{urlencode({**query, "page": 1})}>; '
                             'rel="first"')
            headers = {"link": ", ".join(links)} if links else {}
            return 200, headers, [self._view(req, b) for b in chunk]

        @s.route("GET", rf"{base}/builds/(\d+)")
        @guard
        def build(req: Request) -> Any:
            number = int(req.match.group(1))
            for b in self.builds:
                if b["number"] == number:
                    return 200, {}, self._view(req, b)
            return 404, {}, {"message": "No build found"}

        @s.route("GET", rf"{base}/builds/\d+/jobs/([0-9a-f-]+)/log\.txt")
        @guard
        def raw_log(req: Request) -> Any:
            jid = req.match.group(1)
            if jid not in self.logs:
                return 404, {}, {"message": "No job found"}
            return 200, {"content-type": "text/plain"}, self.logs[jid]

        @s.route("GET", rf"{base}/builds/(\d+)/jobs/([0-9a-f-]+)/log")
        @guard
        def json_log(req: Request) -> Any:
            jid = req.match.group(2)
            if jid not in self.logs:
                return 404, {}, {"message": "No job found"}
            content = self.logs[jid]
            return 200, {}, {"url": f"{s.url}{req.path}", "content": content,
                             "size": len(content.encode()), "header_times": []}
