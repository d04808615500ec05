"""A GitHub REST API on loopback that serves runs, jobs, logs and deployments cloned from GitHub's
published examples (the project's copies in tests/fixtures/vendors), with real pagination."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.vendor_server import Request, VendorServer, page_of

VENDORS = Path(__file__).resolve().parents[2] / "fixtures" / "vendors"


def _load(folder: Path, name: str) -> Any:
    return json.loads((folder / name).read_text(encoding="utf-8"))


def _ts(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class FakeGitHub:
    """`runs` per repository: each run gets `jobs_per_run` jobs; every `fail_every`-th job fails."""

    def __init__(self, server: VendorServer, repo: str = "quayside-dev/ledger-api",
                 vendors: Path = VENDORS,
                 start: datetime = datetime(2026, 11, 1, tzinfo=UTC), runs: int = 12,
                 jobs_per_run: int = 2, fail_every: int = 3, spacing: timedelta = timedelta(hours=5),
                 deployments: int = 3) -> None:
        self.server = server
        self.repo = repo
        run_t = _load(vendors, "github_workflow_runs_list.json")["workflow_runs"][0]
        job_t = _load(vendors, "github_workflow_run_jobs_list.json")["jobs"][0]
        dep_t = _load(vendors, "github_deployments_list.json")[0]
        st_t = _load(vendors, "github_deployment_statuses_list.json")[0]
        self.runs: list[dict[str, Any]] = []
        self.jobs: dict[int, list[dict[str, Any]]] = {}
        self.logs: dict[int, str] = {}
        n_job = 0
        for i in range(runs):
            run = copy.deepcopy(run_t)
            run_id = 5_000_000 + i
            created = start + spacing * i
            run.update(id=run_id, run_number=100 + i, created_at=_ts(created),
                       updated_at=_ts(created + timedelta(minutes=9)),
                       run_started_at=_ts(created), status="completed")
            run["repository"]["full_name"] = repo
            run["head_repository"]["full_name"] = repo
            run["html_url"] = f"https://github.com/{repo}/actions/runs/{run_id}"
            run["url"] = f"https://api.github.com/repos/{repo}/actions/runs/{run_id}"
            jobs = []
            for k in range(jobs_per_run):
                n_job += 1
                job = copy.deepcopy(job_t)
                job_id = 9_000_000 + n_job
                failed = n_job % fail_every == 0
                job.update(id=job_id, run_id=run_id, name=f"job-{k}",
                           conclusion="failure" if failed else "success",
                           started_at=_ts(created + timedelta(minutes=1)),
                           completed_at=_ts(created + timedelta(minutes=8)),
                           run_url=run["url"],
                           html_url=f"https://github.com/{repo}/actions/runs/{run_id}/job/{job_id}")
                jobs.append(job)
                if failed:
                    self.logs[job_id] = (
                        f"2026-11-01T10:00:00.0000000Z ##[group]Run make test\n"
                        f"2026-11-01T10:00:01.0000000Z export TOKEN=ghp_{'a1B2' * 9}\n"
                        f"2026-11-01T10:00:02.0000000Z FAILED tests/test_ledger.py::test_{job_id}\n"
                        f"2026-11-01T10:00:03.0000000Z ##[error]Process completed with exit code 1.\n"
                    )
            run["conclusion"] = "failure" if any(j["conclusion"] == "failure" for j in jobs) \
                else "success"
            self.runs.append(run)
            self.jobs[run_id] = jobs
        self.deployments: list[dict[str, Any]] = []
        self.statuses: dict[int, list[dict[str, Any]]] = {}
        for i in range(deployments):
            dep = copy.deepcopy(dep_t)
            dep_id = 700 + i
            created = start + timedelta(hours=7 * i + 2)
            dep.update(id=dep_id, created_at=_ts(created), updated_at=_ts(created),
                       environment="production", production_environment=False,
                       repository_url=f"https://api.github.com/repos/{repo}",
                       url=f"https://api.github.com/repos/{repo}/deployments/{dep_id}")
            self.deployments.append(dep)
            st = copy.deepcopy(st_t)
            st.update(id=8000 + i, state="failure" if i == 1 else "success",
                      created_at=_ts(created + timedelta(minutes=4)),
                      deployment_url=dep["url"], environment="production")
            self.statuses[dep_id] = [st]
        self.log_url_expired = 0
        self._routes()

    def _page(self, req: Request, items: list[Any]) -> tuple[list[Any], dict[str, str]]:
        return page_of(self.server, req, items)

    def _routes(self) -> None:
        s = self.server
        repo = self.repo.replace("/", r"\/")

        @s.route("GET", rf"/repos/{repo}/actions/runs")
        def runs(req: Request) -> Any:
            items = self.runs
            created = req.arg("created")
            if created:
                lo, hi = created.split("..")
                items = [r for r in items if _parse(lo) <= _parse(r["created_at"]) <= _parse(hi)]
            items = sorted(items, key=lambda r: r["created_at"], reverse=True)
            chunk, headers = self._page(req, items)
            return 200, headers, {"total_count": len(items), "workflow_runs": chunk}

        @s.route("GET", rf"/repos/{repo}/actions/runs/(\d+)")
        def run(req: Request) -> Any:
            run_id = int(req.match.group(1))
            for r in self.runs:
                if r["id"] == run_id:
                    return 200, {}, r
            return 404, {}, {"message": "Not Found"}

        @s.route("GET", rf"/repos/{repo}/actions/runs/(\d+)/jobs")
        def jobs(req: Request) -> Any:
            items = self.jobs.get(int(req.match.group(1)), [])
            chunk, headers = self._page(req, items)
            return 200, headers, {"total_count": len(items), "jobs": chunk}

        @s.route("GET", rf"/repos/{repo}/actions/jobs/(\d+)/logs")
        def log_redirect(req: Request) -> Any:
            job_id = int(req.match.group(1))
            if job_id not in self.logs:
                return 404, {}, {"message": "Not Found"}
            sig = "expired" if self.log_url_expired > 0 else "valid"
            self.log_url_expired = max(0, self.log_url_expired - 1)
            location = (f"{self.server.url}/signed/{job_id}?urlExpires=2026-11-29T00%3A00%3A00Z"
                        f"&urlSigningMethod=HMACV1&urlSignature={sig}")
            return 302, {"location": location}, b""

        @s.route("GET", r"/signed/(\d+)")
        def signed(req: Request) -> Any:
            if "authorization" in req.headers:
                return 400, {}, b"Authorization header sent to the storage host"
            if req.arg("urlSignature") != "valid":
                return 403, {}, b"<Error><Code>AuthenticationFailed</Code></Error>"
            return 200, {"content-type": "text/plain"}, self.logs[int(req.match.group(1))]

        @s.route("GET", rf"/repos/{repo}/deployments")
        def deployments(req: Request) -> Any:
            items = sorted(self.deployments, key=lambda d: d["created_at"], reverse=True)
            chunk, headers = self._page(req, items)
            return 200, headers, chunk

        @s.route("GET", rf"/repos/{repo}/deployments/(\d+)/statuses")
        def statuses(req: Request) -> Any:
            items = self.statuses.get(int(req.match.group(1)), [])
            chunk, headers = self._page(req, items)
            return 200, headers, chunk
