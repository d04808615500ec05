"""Buildkite: builds with their jobs (every retry), and the logs of failed jobs (REST API v2).

Builds are listed per configured pipeline (or for the whole organization) with `created_from`
(the cursor less the overlap), then again with `finished_from` (a job retried in an older build
finishes that build again), with `include_retried_jobs=true`, following the `Link` header.
Builds come newest first, so one created while we page pushes the others back a place and is at
worst read twice (merged by id), never skipped; a listing killed mid-way resumes at its saved page
and the cursor moves to the time the listing began once it is complete. Builds not finished are
remembered and read again (`GET .../builds/{number}`) on the next fetch. A failed job's log is
read from its `raw_log_url` (plain text), its agent time markers turned into ISO line prefixes,
redacted line by line, and written once.
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from models.connectors.base import FetchContext, FetchResult, iso, parse_time
from models.connectors.config import BuildkiteConfig
from models.connectors.github import redact_log
from models.connectors.http import ApiClient, retry_after
from models.connectors.landing import BARE, day_of, slug

SOURCE = "buildkite"
LISTINGS = ("created_from", "finished_from")
FINISHED_BUILD = {"passed", "failed", "canceled", "skipped", "not_run"}
FAILED_JOB = {"failed", "timed_out"}
RAN_JOB = {"passed", "failed", "timed_out", "canceled"}
# The agent marks when each line was written with an APC escape, `ESC _ bk;t=<epoch ms> BEL`.
_BK_TIME = re.compile(r"\x1b_bk;t=(\d+)\x07")
# A build blocked on a block step can wait for ever: it is re-polled for this long only.
PENDING_DAYS = 14


def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def rate_limited(response: httpx.Response) -> float | None:
    """429 when the organization's or the user's per-minute quota is spent; `RateLimit-Reset`
    and `RateLimit-User-Reset` are seconds until that window resets (the body repeats it)."""
    if response.status_code != 429:
        return None
    wait = retry_after(response.headers)
    if wait is not None:
        return wait
    resets: list[float] = []
    for name in ("ratelimit-reset", "ratelimit-user-reset"):
        with contextlib.suppress(ValueError):
            resets.append(float(response.headers.get(name, "")))
    if not resets:
        try:
            body = response.json()
            resets.append(float(body.get("reset")))
        except (ValueError, TypeError, AttributeError):
            pass
    return max(1.0, max(resets)) if resets else 60.0


def fetch(cfg: BuildkiteConfig, ctx: FetchContext) -> FetchResult:
    result = FetchResult(SOURCE)
    token = ctx.secret(SOURCE, cfg)
    with ApiClient(SOURCE, cfg.api_url, headers(token), policy=ctx.policy(cfg),
                   sleep=ctx.sleep, rate_limited=rate_limited) as api:
        state = ctx.landing.load_state(SOURCE)
        reader = _Reader(api, cfg, ctx, result)
        for pipeline in list(cfg.pipelines) or [""]:
            key = pipeline or "*"
            reader.target(pipeline, state.setdefault("pipelines", {}).setdefault(key, {}),
                          lambda: ctx.landing.save_state(SOURCE, state))
        result.requests = api.requests
        result.waited_s = api.waited_s
    return result


def rebase(url: str, api_url: str) -> str:
    """A URL Buildkite put in a record, re-rooted at `api_url` (a proxy or another server)."""
    path = urlsplit(url).path
    at = path.find("/organizations/")
    return url if at < 0 else f"{api_url.rstrip('/')}{path[at:]}"


def _page_of(url: str | None) -> int | None:
    if not url:
        return None
    values = parse_qs(urlsplit(url).query).get("page")
    return int(values[0]) if values and values[0].isdigit() else None


class _Reader:
    def __init__(self, api: ApiClient, cfg: BuildkiteConfig, ctx: FetchContext,
                 result: FetchResult) -> None:
        self.api = api
        self.cfg = cfg
        self.ctx = ctx
        self.result = result
        self.org = quote(cfg.organization, safe="")

    def target(self, pipeline: str, state: dict[str, Any], save: Any) -> None:
        self._pending(state)
        self.ctx.landing.flush()
        save()
        listing = state.get("listing")
        if not listing or listing.get("per_page") != self.cfg.page_size:
            start = self.ctx.start(state.get("cursor"), self.cfg.overlap_minutes)
            listing = {"from": iso(start), "filter": 0, "page": 1, "began": iso(self.ctx.now),
                       "per_page": self.cfg.page_size}
            state["listing"] = listing
        path = (f"/organizations/{self.org}/pipelines/{quote(pipeline, safe='')}/builds"
                if pipeline else f"/organizations/{self.org}/builds")
        # Builds created since the cursor, then builds finished since it: a job retried in an
        # older build finishes that build again.
        while listing["filter"] < len(LISTINGS):
            self._listing(path, LISTINGS[listing["filter"]], listing, state, save)
            listing.update(filter=listing["filter"] + 1, page=1)
            save()
        state["cursor"] = listing["began"]
        del state["listing"]
        save()

    def _listing(self, path: str, time_filter: str, listing: dict[str, Any],
                 state: dict[str, Any], save: Any) -> None:
        page: int | None = listing["page"]
        seen: set[int] = set()
        while page is not None and page not in seen:
            seen.add(page)
            builds, response = self.api.get_json(path, {
                time_filter: listing["from"], "include_retried_jobs": "true",
                "per_page": self.cfg.page_size, "page": page})
            builds = builds if isinstance(builds, list) else []
            self._land(builds, state)
            self.ctx.landing.flush()
            page = _page_of(response.links.get("next", {}).get("url")) if builds else None
            if page is not None:
                listing["page"] = page
                save()

    def _land(self, builds: list[dict[str, Any]], state: dict[str, Any]) -> None:
        kept = [b for b in builds if isinstance(b, dict) and b.get("id")]
        if len(kept) < len(builds):
            self.result.notes.append(f"{len(builds) - len(kept)} build(s) without an id were "
                                     "left out")
        builds = kept
        if not builds:
            return
        groups: dict[str, list[dict[str, Any]]] = {}
        for b in builds:
            rel = f"buildkite/builds/{day_of(b.get('created_at'))}.{slug(_slug(b))}.json"
            groups.setdefault(rel, []).append(b)
        for rel, group in groups.items():
            self.ctx.landing.stage(rel, group, lambda b: b["id"], BARE)
        self.result.records += len(builds)
        pending = {tuple(p) for p in state.get("pending", [])}
        for b in builds:
            self._logs(b)
            ref = (_slug(b), b.get("number"))
            if self._settled(b):
                pending.discard(ref)
            else:
                pending.add(ref)
        state["pending"] = sorted([list(p) for p in pending])
        self.ctx.progress(f"buildkite {self.cfg.organization} builds", self.result.records, None)

    def _settled(self, build: dict[str, Any]) -> bool:
        if build.get("state") in FINISHED_BUILD:
            return True
        created = parse_time(build.get("created_at"))
        return created is not None and self.ctx.now - created > timedelta(days=PENDING_DAYS)

    def _pending(self, state: dict[str, Any]) -> None:
        """Builds seen before they finished: read them again, with their jobs' logs."""
        still: list[list[Any]] = []
        landed: list[dict[str, Any]] = []
        for pipeline, number in state.get("pending", []):
            build, response = self.api.get_json(
                f"/organizations/{self.org}/pipelines/{quote(pipeline, safe='')}"
                f"/builds/{number}", {"include_retried_jobs": "true"}, ok=(404,))
            if response.status_code == 404 or not isinstance(build, dict):
                continue  # deleted
            landed.append(build)
            if not self._settled(build):
                still.append([pipeline, number])
        state["pending"] = []
        self._land(landed, state)
        state["pending"] = sorted(still)

    def _logs(self, build: dict[str, Any]) -> None:
        if self.cfg.logs == "none":
            return
        wanted = FAILED_JOB if self.cfg.logs == "failed" else RAN_JOB
        day = day_of(build.get("created_at"))
        for job in build.get("jobs") or []:
            if not isinstance(job, dict) or job.get("type", "script") != "script":
                continue
            if job.get("state") in wanted and job.get("id"):
                self._log(day, job)

    def _log(self, day: str, job: dict[str, Any]) -> None:
        rel = f"buildkite/logs/{day}/{job['id']}.txt"
        if self.ctx.landing.exists(rel):
            return
        raw, structured = job.get("raw_log_url"), job.get("log_url")
        if raw:
            response = self.api.request("GET", rebase(raw, self.cfg.api_url), ok=(404,),
                                        headers={"Accept": "text/plain"})
            text = None if response.status_code == 404 else \
                response.content.decode("utf-8", "replace")
        elif structured:
            data, _ = self.api.get_json(rebase(structured, self.cfg.api_url), ok=(404,))
            text = data.get("content") if isinstance(data, dict) else None
        else:
            text = None
        if text is None:
            self.result.notes.append(f"job {job['id']}: log not available")
            return
        self.ctx.landing.write_bytes(rel, redact_log(log_text(text)).encode("utf-8"))
        self.result.records += 1


def log_text(text: str) -> str:
    """A raw Buildkite log with the agent's in-band line times written as an ISO prefix (as
    GitHub's logs have, which the log reader strips) instead of terminal escapes."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        m = _BK_TIME.match(line)
        if m:
            at = datetime.fromtimestamp(int(m.group(1)) / 1000, tz=UTC)
            line = f"{at.strftime('%Y-%m-%dT%H:%M:%S.')}{at.microsecond // 1000:03d}Z " \
                   f"{line[m.end():]}"
        lines[i] = _BK_TIME.sub("", line)
    return "\n".join(lines)


def _slug(build: dict[str, Any]) -> str:
    pipeline = build.get("pipeline")
    if isinstance(pipeline, dict) and pipeline.get("slug"):
        return str(pipeline["slug"])
    parts = urlsplit(str(build.get("url") or "")).path.split("/")
    return parts[parts.index("pipelines") + 1] if "pipelines" in parts[:-1] else "_"
