"""GitLab CI: pipelines, their jobs (retried attempts too), job traces of failed jobs, deployments.

Pipelines are listed with `updated_after` (the cursor less the overlap) and paged by page number
until the `x-next-page` header is empty: above 10,000 records GitLab leaves out `x-total` and
`x-total-pages`, so they are never consulted. The listing is ordered by `id` ascending rather
than by `updated_at`: offset paging over a sort key that changes while we page moves a pipeline
updated meanwhile to another page and shifts the others, so one could be skipped; ordered by id
a change only adds pipelines to the set, which at worst reads one twice (merged by id). For the
same reason a listing killed mid-way resumes at its saved page, and the cursor moves to the time
the listing began only once it is complete.

Pipelines not finished are remembered and read again on the next fetch, with their jobs; a job's
trace is downloaded once, after the job failed, and redacted line by line before it is written.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from models.connectors.base import FetchContext, FetchResult, iso, parse_time
from models.connectors.config import GitLabConfig
from models.connectors.github import redact_log
from models.connectors.http import ApiClient, retry_after
from models.connectors.landing import BARE, day_of, slug

SOURCE = "gitlab"
FINISHED_PIPELINE = {"success", "failed", "canceled", "skipped"}
FINISHED_JOB = {"success", "failed", "canceled", "skipped"}
# A pipeline waiting on a manual job can wait for ever: it is re-polled for this long only.
PENDING_DAYS = 14


def headers(token: str) -> dict[str, str]:
    return {"PRIVATE-TOKEN": token, "Accept": "application/json"}


def rate_limited(response: httpx.Response) -> float | None:
    """GitLab signals limits with 429 only; `RateLimit-Reset` is an epoch time, not seconds."""
    if response.status_code != 429:
        return None
    wait = retry_after(response.headers)
    if wait is not None:
        return wait
    reset = response.headers.get("ratelimit-reset")
    if reset:
        try:
            return max(1.0, float(reset) - time.time() + 1.0)
        except ValueError:
            pass
    return 60.0


def fetch(cfg: GitLabConfig, ctx: FetchContext) -> FetchResult:
    result = FetchResult(SOURCE)
    token = ctx.secret(SOURCE, cfg)
    with ApiClient(SOURCE, cfg.api_url, headers(token), policy=ctx.policy(cfg),
                   sleep=ctx.sleep, rate_limited=rate_limited) as api:
        state = ctx.landing.load_state(SOURCE)
        reader = _Reader(api, cfg, ctx, result)
        for project in cfg.projects:
            reader.project(project, state.setdefault("projects", {}).setdefault(project, {}),
                           lambda: ctx.landing.save_state(SOURCE, state))
        result.requests = api.requests
        result.waited_s = api.waited_s
    return result


def pages(api: ApiClient, path: str, params: dict[str, Any], first: int = 1,
          ) -> Iterator[tuple[list[Any], int, int | None]]:
    """(records, page, next page) until `x-next-page` is empty; totals are never relied on."""
    page = first
    seen: set[int] = set()
    while True:
        seen.add(page)
        data, response = api.get_json(path, {**params, "page": page})
        records = data if isinstance(data, list) else []
        if "x-next-page" in response.headers:
            raw_next = response.headers["x-next-page"].strip()
        else:  # a proxy that drops GitLab's own headers still passes `Link`
            raw_next = _page_param(response.links.get("next", {}).get("url"))
        nxt = int(raw_next) if raw_next.isdigit() else None
        if not records or nxt in seen:
            nxt = None
        yield records, page, nxt
        if nxt is None:
            return
        page = nxt


def _page_param(url: str | None) -> str:
    values = parse_qs(urlsplit(url or "").query).get("page")
    return values[0] if values else ""


class _Reader:
    def __init__(self, api: ApiClient, cfg: GitLabConfig, ctx: FetchContext,
                 result: FetchResult) -> None:
        self.api = api
        self.cfg = cfg
        self.ctx = ctx
        self.result = result

    def project(self, project: str, state: dict[str, Any], save: Any) -> None:
        pid = quote(project, safe="")
        base = f"/projects/{pid}"
        self._pending(project, base, state)
        self.ctx.landing.flush()
        save()
        listing = state.get("listing")
        if not listing or listing.get("per_page") != self.cfg.page_size:
            start = self.ctx.start(state.get("cursor"), self.cfg.overlap_minutes)
            listing = {"updated_after": iso(start), "page": 1, "began": iso(self.ctx.now),
                       "per_page": self.cfg.page_size}
            state["listing"] = listing
        params = {"updated_after": listing["updated_after"], "order_by": "id", "sort": "asc",
                  "per_page": self.cfg.page_size}
        for pipelines, _, nxt in pages(self.api, f"{base}/pipelines", params, listing["page"]):
            self._land_pipelines(project, base, pipelines, state)
            self.ctx.landing.flush()
            if nxt is not None:
                listing["page"] = nxt
                save()
        state["cursor"] = listing["began"]
        del state["listing"]
        save()
        self._deployments(project, base, state)
        self.ctx.landing.flush()
        save()

    # -- pipelines -------------------------------------------------------------------------
    def _land_pipelines(self, project: str, base: str, pipelines: list[dict[str, Any]],
                        state: dict[str, Any]) -> None:
        pipelines = self._identified(pipelines, "pipeline")
        if not pipelines:
            return
        for day, group in _by_day(pipelines).items():
            self.ctx.landing.stage(f"gitlab/pipelines/{day}.{slug(project)}.json", group,
                                   lambda p: p["id"], BARE)
        self.result.records += len(pipelines)
        pending = set(state.get("pending", []))
        for pipeline in pipelines:
            self._jobs(project, base, pipeline)
            if self._settled(pipeline):
                pending.discard(pipeline["id"])
            else:
                pending.add(pipeline["id"])
        state["pending"] = sorted(pending)
        self.ctx.progress(f"gitlab {project} pipelines", self.result.records, None)

    def _identified(self, records: list[Any], kind: str) -> list[dict[str, Any]]:
        """Records with an id; one without cannot be filed or merged, so it is noted and left."""
        kept = [r for r in records if isinstance(r, dict) and r.get("id") is not None]
        if len(kept) < len(records):
            self.result.notes.append(f"{len(records) - len(kept)} {kind} record(s) without an "
                                     "id were left out")
        return kept

    def _settled(self, pipeline: dict[str, Any]) -> bool:
        if pipeline.get("status") in FINISHED_PIPELINE:
            return True
        created = parse_time(pipeline.get("created_at"))
        return created is not None and self.ctx.now - created > timedelta(days=PENDING_DAYS)

    def _pending(self, project: str, base: str, state: dict[str, Any]) -> None:
        """Pipelines seen before they finished: read them again, with their jobs."""
        still: list[int] = []
        for pipeline_id in state.get("pending", []):
            pipeline, response = self.api.get_json(f"{base}/pipelines/{pipeline_id}", ok=(404,))
            if response.status_code == 404 or not isinstance(pipeline, dict):
                continue  # deleted
            self.ctx.landing.stage(
                f"gitlab/pipelines/{day_of(pipeline.get('created_at'))}.{slug(project)}.json",
                [pipeline], lambda p: p["id"], BARE)
            self.result.records += 1
            self._jobs(project, base, pipeline)
            if not self._settled(pipeline):
                still.append(pipeline_id)
        state["pending"] = still

    # -- jobs and traces ---------------------------------------------------------------------
    def _jobs(self, project: str, base: str, pipeline: dict[str, Any]) -> None:
        day = day_of(pipeline.get("created_at"))
        jobs: list[dict[str, Any]] = []
        params = {"include_retried": "true", "per_page": self.cfg.page_size}
        for page, _, _ in pages(self.api, f"{base}/pipelines/{pipeline['id']}/jobs", params):
            jobs.extend(self._identified(page, "job"))
        if not jobs:
            return
        self.ctx.landing.stage(f"gitlab/jobs/{day}.{slug(project)}.json", jobs,
                               lambda j: j["id"], BARE)
        self.result.records += len(jobs)
        if self.cfg.logs == "none":
            return
        for job in jobs:
            status = job.get("status")
            if status not in FINISHED_JOB or status == "skipped":
                continue
            if self.cfg.logs == "failed" and status != "failed":
                continue
            self._trace(project, base, day, job["id"])

    def _trace(self, project: str, base: str, day: str, job_id: int) -> None:
        rel = f"gitlab/logs/{day}/{job_id}.txt"
        if self.ctx.landing.exists(rel):
            return
        response = self.api.request("GET", f"{base}/jobs/{job_id}/trace", ok=(404,),
                                    headers={"Accept": "text/plain"})
        if response.status_code == 404:
            self.result.notes.append(f"{project}: job {job_id}: trace no longer available")
            return
        text = response.content.decode("utf-8", "replace")
        self.ctx.landing.write_bytes(rel, redact_log(text).encode("utf-8"))
        self.result.records += 1

    # -- deployments -------------------------------------------------------------------------
    def _deployments(self, project: str, base: str, state: dict[str, Any]) -> None:
        start = self.ctx.start(state.get("deployments_cursor"), self.cfg.overlap_minutes)
        began = iso(self.ctx.now)
        params = {"updated_after": iso(start), "order_by": "updated_at", "sort": "asc",
                  "per_page": self.cfg.page_size}
        production = {n.strip().lower() for n in self.cfg.production_environments}
        for page, _, _ in pages(self.api, f"{base}/deployments", params):
            deployments = self._identified(page, "deployment")
            for dep in deployments:
                _mark_production(dep, production)
            for day, group in _by_day(deployments).items():
                self.ctx.landing.stage(f"gitlab/deployments/{day}.{slug(project)}.json", group,
                                       lambda d: d["id"], BARE)
            self.result.records += len(deployments)
        state["deployments_cursor"] = began


def _mark_production(dep: dict[str, Any], production: set[str]) -> None:
    """GitLab's own field for it: an environment named in `production_environments` is given
    `tier: production`, so the landed record says what the configuration says."""
    env = dep.get("environment")
    if isinstance(env, dict) and str(env.get("name") or "").strip().lower() in production:
        env["tier"] = "production"


def _by_day(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        out.setdefault(day_of(r.get("created_at")), []).append(r)
    return out
