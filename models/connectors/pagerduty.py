"""PagerDuty (REST API v2): incidents, and their log entries for the timeline.

`GET /incidents` filters `since`/`until` on the incident's creation time, accepts ranges of at
most 6 months, and pages with `offset` + `limit` only up to 10,000 records: longer ranges are read
in windows, and a window holding more than that is split in halves. A filter on creation time
never sees an older incident change status, so incidents not yet resolved are remembered and read
again (`GET /incidents/{id}`) on every fetch until they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from models.connectors.base import FetchContext, FetchResult, iso
from models.connectors.config import PagerDutyConfig
from models.connectors.http import ApiClient
from models.connectors.landing import Shape, month_of

INCIDENTS = Shape(("incidents",))
LOG_ENTRIES = Shape(("log_entries",))
OFFSET_CAP = 10_000  # offset + limit may not go past this
MAX_LIMIT = 100


def headers(token: str) -> dict[str, str]:
    return {
        "Authorization": f"Token token={token}",
        "Accept": "application/vnd.pagerduty+json;version=2",
    }


def fetch(cfg: PagerDutyConfig, ctx: FetchContext) -> FetchResult:
    result = FetchResult("pagerduty")
    token = ctx.secret("pagerduty", cfg)
    with ApiClient("pagerduty", cfg.api_url, headers(token), policy=ctx.policy(cfg),
                   sleep=ctx.sleep) as api:
        _Reader(api, cfg, ctx, result).run()
        result.requests = api.requests
        result.waited_s = api.waited_s
    return result


def windows(start: datetime, end: datetime, days: int) -> Iterator[tuple[datetime, datetime]]:
    """[start, end) in consecutive ranges no longer than `days`."""
    step = timedelta(days=max(1, days))
    cur = start
    while cur < end:
        nxt = min(cur + step, end)
        yield cur, nxt
        cur = nxt


class _Reader:
    def __init__(self, api: ApiClient, cfg: PagerDutyConfig, ctx: FetchContext,
                 result: FetchResult) -> None:
        self.api = api
        self.cfg = cfg
        self.ctx = ctx
        self.result = result
        self.limit = max(1, min(cfg.page_size, MAX_LIMIT))

    def save(self, state: dict[str, Any]) -> None:
        self.ctx.landing.flush()
        self.ctx.landing.save_state("pagerduty", state)

    def run(self) -> None:
        state = self.ctx.landing.load_state("pagerduty")
        open_ids: set[str] = set(state.get("open") or [])
        self.repoll(open_ids)
        state["open"] = sorted(open_ids)
        self.save(state)
        start = self.ctx.start(state.get("cursor"), self.cfg.overlap_minutes)
        for lo, hi in windows(start, self.ctx.now, self.cfg.window_days):
            for page in self.incidents(lo, hi):
                self.land(page, open_ids)
            state["open"] = sorted(open_ids)
            state["cursor"] = iso(hi)
            self.save(state)

    def land(self, incidents: list[dict[str, Any]], open_ids: set[str]) -> None:
        for incident in incidents:
            month = month_of(incident.get("created_at"))
            self.ctx.landing.stage(f"pagerduty/incidents/{month}.json", [incident],
                                   lambda i: i["id"], INCIDENTS)
            if incident.get("status") == "resolved":
                open_ids.discard(incident["id"])
            else:
                open_ids.add(incident["id"])
            if self.cfg.log_entries:
                self.log_entries(incident["id"], month)
        self.result.records += len(incidents)
        self.ctx.progress("pagerduty incidents", self.result.records, None)

    def repoll(self, open_ids: set[str]) -> None:
        """Incidents seen before they were resolved: read them again."""
        for incident_id in sorted(open_ids):
            data, response = self.api.get_json(f"/incidents/{incident_id}", ok=(404,))
            if response.status_code == 404:
                open_ids.discard(incident_id)  # deleted, or out of this key's reach
                continue
            incident = data.get("incident") if isinstance(data, dict) else None
            if isinstance(incident, dict) and incident.get("id"):
                self.land([incident], open_ids)

    def incidents(self, since: datetime, until: datetime) -> Iterator[list[dict[str, Any]]]:
        """Pages of incidents created in [since, until), halving windows past the offset cap."""
        params: dict[str, Any] = {
            "since": iso(since), "until": iso(until), "time_zone": "UTC",
            "sort_by": "created_at:asc", "limit": self.limit, "offset": 0, "total": "true",
        }
        if self.cfg.services:
            params["service_ids[]"] = list(self.cfg.services)
        splittable = until - since > timedelta(seconds=2)
        offset = 0
        while True:
            data, _ = self.api.get_json("/incidents", {**params, "offset": offset})
            total = data.get("total") if isinstance(data, dict) else None
            if offset == 0 and isinstance(total, int) and total > OFFSET_CAP and splittable:
                yield from self._halves(since, until)
                return
            page = [i for i in (data.get("incidents") or []) if isinstance(i, dict) and i.get("id")]
            if page:
                yield page
            if not data.get("more") or not page:
                return
            offset += len(page)
            if offset + self.limit > OFFSET_CAP:
                if splittable:
                    # The total was not reported: read the halves (records already yielded are
                    # merged by id, so reading them again changes nothing).
                    yield from self._halves(since, until)
                else:
                    self.result.notes.append(
                        f"pagerduty: more than {OFFSET_CAP:,} incidents created at {iso(since)}; "
                        "PagerDuty returns only the first ones")
                return

    def _halves(self, since: datetime, until: datetime) -> Iterator[list[dict[str, Any]]]:
        middle = (since + (until - since) / 2).replace(microsecond=0)
        yield from self.incidents(since, middle)
        yield from self.incidents(middle, until)

    def log_entries(self, incident_id: str, month: str) -> None:
        entries: list[dict[str, Any]] = []
        offset = 0
        while True:
            data, _ = self.api.get_json(f"/incidents/{incident_id}/log_entries",
                                        {"limit": self.limit, "offset": offset,
                                         "time_zone": "UTC"})
            page = [e for e in (data.get("log_entries") or []) if isinstance(e, dict) and e.get("id")]
            entries.extend(page)
            offset += len(page)
            if not data.get("more") or not page or offset + self.limit > OFFSET_CAP:
                break
        if entries:
            self.ctx.landing.stage(f"pagerduty/log_entries/{month}.json", entries,
                                   lambda e: e["id"], LOG_ENTRIES)
            self.result.records += len(entries)
