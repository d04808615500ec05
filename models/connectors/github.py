"""GitHub Actions: workflow runs, their jobs (every attempt), job logs, deployments and statuses.

Runs are read in `created` windows. GitHub answers a filtered run query with at most 1,000 runs,
so a window holding that many is split in halves until each holds fewer. Runs not yet completed
are remembered and polled again on the next fetch; their jobs and logs are read once they
complete. Deployments have no date filter: they are paged newest first back to the watermark.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from models.connectors.base import FetchContext, FetchResult, iso, parse_time
from models.connectors.config import GitHubConfig
from models.connectors.http import ApiClient, ApiError
from models.connectors.landing import BARE, Shape, day_of, slug

SEARCH_CAP = 1000
RUNS = Shape(("workflow_runs",), {"total_count": 0})
JOBS = Shape(("jobs",), {"total_count": 0})
FAILED = {"failure", "timed_out", "startup_failure", "cancelled"}
TERMINAL_DEPLOYMENT_STATES = {"success", "failure", "error", "inactive"}


def headers(token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
    }


def fetch(cfg: GitHubConfig, ctx: FetchContext) -> FetchResult:
    result = FetchResult("github")
    token = ctx.secret("github", cfg)
    with ApiClient("github", cfg.api_url, headers(token), policy=ctx.policy(cfg),
                   sleep=ctx.sleep) as api:
        reader = _Reader(api, cfg, ctx, result)
        repos = list(cfg.repos) or reader.org_repos(cfg.org)
        state = ctx.landing.load_state("github")
        for repo in repos:
            reader.repo(repo, state.setdefault("repos", {}).setdefault(repo, {}),
                        lambda: ctx.landing.save_state("github", state))
        result.requests = api.requests
        result.waited_s = api.waited_s
    return result


class _Reader:
    def __init__(self, api: ApiClient, cfg: GitHubConfig, ctx: FetchContext,
                 result: FetchResult) -> None:
        self.api = api
        self.cfg = cfg
        self.ctx = ctx
        self.result = result

    def org_repos(self, org: str) -> list[str]:
        names: list[str] = []
        for page, _ in self.api.link_pages(f"/orgs/{org}/repos",
                                           {"per_page": self.cfg.page_size, "type": "all"}):
            names.extend(r["full_name"] for r in page if not r.get("archived"))
        return sorted(names)

    def repo(self, repo: str, state: dict[str, Any], save: Any) -> None:
        self._pending_runs(repo, state)
        self.ctx.landing.flush()
        save()
        start = self.ctx.start(state.get("runs_cursor"), self.cfg.overlap_minutes)
        end = self.ctx.now
        for window_start, window_end in _days(start, end):
            for runs in self._runs(repo, window_start, window_end):
                self._land_runs(repo, runs, state)
            self.ctx.landing.flush()
            state["runs_cursor"] = iso(window_end)
            save()
        self._deployments(repo, state)
        self.ctx.landing.flush()
        save()

    # -- runs ---------------------------------------------------------------------------
    def _runs(self, repo: str, start: datetime, end: datetime) -> Iterator[list[dict[str, Any]]]:
        """Pages of runs created in [start, end), splitting windows GitHub would cap."""
        params = {"created": f"{iso(start)}..{iso(end - timedelta(seconds=1))}",
                  "per_page": self.cfg.page_size}
        path = f"/repos/{repo}/actions/runs"
        first, response = self.api.get_json(path, params)
        total = int(first.get("total_count") or 0)
        if total >= SEARCH_CAP and end - start > timedelta(seconds=2):
            middle = start + (end - start) / 2
            middle = middle.replace(microsecond=0)
            yield from self._runs(repo, start, middle)
            yield from self._runs(repo, middle, end)
            return
        if total >= SEARCH_CAP:
            self.result.notes.append(
                f"{repo}: more than {SEARCH_CAP} runs created within one second at {iso(start)}; "
                "GitHub returns only the first 1,000")
        yield first.get("workflow_runs") or []
        nxt = response.links.get("next", {}).get("url")
        if nxt:
            for page, _ in self.api.link_pages(nxt):
                yield page.get("workflow_runs") or []

    def _land_runs(self, repo: str, runs: list[dict[str, Any]], state: dict[str, Any]) -> None:
        if not runs:
            return
        by_day: dict[str, list[dict[str, Any]]] = {}
        for run in runs:
            by_day.setdefault(day_of(run.get("created_at")), []).append(run)
        for day, group in by_day.items():
            self.ctx.landing.stage(f"github/runs/{day}.{slug(repo)}.json", group,
                                   lambda r: r["id"], RUNS)
        self.result.records += len(runs)
        pending = set(state.get("pending_runs", []))
        for run in runs:
            if run.get("status") == "completed":
                self._jobs(repo, run)
                pending.discard(run["id"])
            else:
                pending.add(run["id"])
        state["pending_runs"] = sorted(pending)
        self.ctx.progress(f"github {repo} runs", self.result.records, None)

    def _pending_runs(self, repo: str, state: dict[str, Any]) -> None:
        """Runs seen before they completed: read them again, with their jobs once done."""
        pending = list(state.get("pending_runs", []))
        if not pending:
            return
        still: list[int] = []
        for run_id in pending:
            response = self.api.request("GET", f"/repos/{repo}/actions/runs/{run_id}",
                                        ok=(404, 410))
            if response.status_code in (404, 410):
                continue  # deleted
            run = response.json()
            self.ctx.landing.stage(f"github/runs/{day_of(run.get('created_at'))}.{slug(repo)}.json",
                                   [run], lambda r: r["id"], RUNS)
            self.result.records += 1
            if run.get("status") == "completed":
                self._jobs(repo, run)
            else:
                still.append(run_id)
        state["pending_runs"] = still

    # -- jobs and logs --------------------------------------------------------------------
    def _jobs(self, repo: str, run: dict[str, Any]) -> None:
        day = day_of(run.get("created_at"))
        jobs: list[dict[str, Any]] = []
        for page, _ in self.api.link_pages(f"/repos/{repo}/actions/runs/{run['id']}/jobs",
                                           {"filter": "all", "per_page": self.cfg.page_size}):
            jobs.extend(page.get("jobs") or [])
        if not jobs:
            return
        self.ctx.landing.stage(f"github/jobs/{day}.{slug(repo)}.json", jobs,
                               lambda j: j["id"], JOBS)
        self.result.records += len(jobs)
        if self.cfg.logs == "none":
            return
        for job in jobs:
            if job.get("status") != "completed":
                continue
            if self.cfg.logs == "failed" and job.get("conclusion") not in FAILED:
                continue
            self._log(repo, day, job["id"])

    def _log(self, repo: str, day: str, job_id: int) -> None:
        rel = f"github/logs/{day}/{job_id}.txt"
        if self.ctx.landing.exists(rel):
            return
        text = self.download_log(repo, job_id)
        if text is None:
            return
        self.ctx.landing.write_bytes(rel, redact_log(text).encode("utf-8"))
        self.result.records += 1

    def download_log(self, repo: str, job_id: int) -> str | None:
        """The job log, following GitHub's 302 to a short-lived URL without our token.

        An expired URL (403/404 from the storage host) is asked for again once."""
        path = f"/repos/{repo}/actions/jobs/{job_id}/logs"
        for _ in range(3):
            response = self.api.request("GET", path, ok=(302, 404, 410))
            if response.status_code in (404, 410):
                self.result.notes.append(f"{repo}: job {job_id}: log no longer available")
                return None
            if response.status_code != 302:
                return response.text  # a server that answers with the log directly
            location = response.headers.get("location")
            if not location:
                raise ApiError("github", "GET", self.api.url(path), "302 without a Location")
            try:
                download = self.api.request("GET", location, drop_auth=True)
            except ApiError as exc:
                if exc.status in (401, 403, 404, 410):
                    continue  # the signed URL expired before we used it: ask for a new one
                raise
            return download.content.decode("utf-8", "replace")
        self.result.notes.append(f"{repo}: job {job_id}: log URL kept expiring; skipped")
        return None

    # -- deployments ------------------------------------------------------------------------
    def _deployments(self, repo: str, state: dict[str, Any]) -> None:
        cursor = parse_time(state.get("deployments_cursor"))
        floor = self.ctx.start(state.get("deployments_cursor"), self.cfg.overlap_minutes)
        newest = cursor
        recheck: set[int] = set(state.get("pending_deployments", []))
        seen: dict[int, dict[str, Any]] = {}
        for page, _ in self.api.link_pages(f"/repos/{repo}/deployments",
                                           {"per_page": self.cfg.page_size}):
            older = False
            for dep in page:
                created = parse_time(dep.get("created_at"))
                if created is not None and created < floor:
                    older = True
                    continue
                seen[dep["id"]] = dep
                if created is not None and (newest is None or created > newest):
                    newest = created
            if older or not page:
                break
        by_day: dict[str, list[dict[str, Any]]] = {}
        for dep in seen.values():
            by_day.setdefault(day_of(dep.get("created_at")), []).append(dep)
        for day, group in by_day.items():
            self.ctx.landing.stage(f"github/deployments/{day}.{slug(repo)}.json", group,
                                   lambda d: d["id"])
        self.result.records += len(seen)
        pending: list[int] = []
        for dep_id in sorted(set(seen) | recheck):
            statuses: list[dict[str, Any]] = []
            for page, _ in self.api.link_pages(f"/repos/{repo}/deployments/{dep_id}/statuses",
                                               {"per_page": self.cfg.page_size}):
                statuses.extend(page)
            by_status_day: dict[str, list[dict[str, Any]]] = {}
            for st in statuses:
                by_status_day.setdefault(day_of(st.get("created_at")), []).append(st)
            for day, group in by_status_day.items():
                self.ctx.landing.stage(f"github/deployment_statuses/{day}.{slug(repo)}.json",
                                       group, lambda s: s["id"], BARE)
            self.result.records += len(statuses)
            latest = max(statuses, key=lambda s: (s.get("created_at") or "", s["id"]),
                         default=None)
            if latest is None or latest.get("state") not in TERMINAL_DEPLOYMENT_STATES:
                pending.append(dep_id)
        state["pending_deployments"] = pending
        if newest is not None:
            state["deployments_cursor"] = iso(newest)


def _days(start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    """[start, end) in windows that end at UTC midnights, so cursors advance day by day."""
    cur = start
    while cur < end:
        nxt = (cur + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        nxt = min(nxt, end)
        yield cur, nxt
        cur = nxt


def redact_log(text: str) -> str:
    """Secrets that leaked into a log never reach the disk."""
    from models.logs.redact import redact_many

    lines = text.split("\n")
    return "\n".join(redact_many(lines))
