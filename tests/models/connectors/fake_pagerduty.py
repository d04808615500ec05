"""A PagerDuty REST API v2 on loopback: incidents cloned from the published *List incidents* example
(or the project's copy), with classic `offset`/`limit` pagination, and their log entries.

Like PagerDuty, `since`/`until` filter on creation time and may span at most 6 months, `offset` +
`limit` may not pass 10,000 (`offset_cap`), requests need `Authorization: Token token=...` and
the v2 `Accept` header, and `total` is reported only when asked for (`total=true`).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from tests.vendor_server import Request, VendorServer

VENDORS = Path(__file__).resolve().parents[2] / "fixtures" / "vendors"
ACCEPT = "application/vnd.pagerduty+json;version=2"
SERVICES = [("PLDGAPI", "ledger-api"), ("PPAYGW1", "payments-gateway")]
MAX_RANGE = timedelta(days=184)  # "6 months"; the connector stays at 180 days


def pd_time(dt: datetime, offset_hours: int = 0) -> str:
    if offset_hours:
        return dt.astimezone(timezone(timedelta(hours=offset_hours))).isoformat()
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _invalid(message: str) -> tuple[int, dict[str, str], dict[str, Any]]:
    return 400, {}, {"error": {"message": "Invalid Input Provided", "code": 2001,
                               "errors": [message]}}


class FakePagerDuty:
    """`incidents` incidents created `spacing` apart from `start`: i % 4 == 0 triggered,
    1 acknowledged, else resolved 40 + i minutes after creation."""

    token = "pd-read-only-key"

    def __init__(self, server: VendorServer, templates: Path = VENDORS, incidents: int = 40,
                 start: datetime = datetime(2025, 5, 10, 6, 0, tzinfo=UTC),
                 spacing: timedelta = timedelta(hours=20), offset_cap: int = 10_000) -> None:
        self.server = server
        # Headers and body leave in separate writes: without TCP_NODELAY a delayed ACK costs
        # ~40 ms a request on loopback.
        server._server.RequestHandlerClass.disable_nagle_algorithm = True
        doc = json.loads((templates / "pagerduty_incidents_list.json").read_text("utf-8"))
        self.incident_t = doc["incidents"][0]
        logs = json.loads((VENDORS / "pagerduty_incident_log_entries_list.json").read_text("utf-8"))
        self.entry_t = logs["log_entries"][0]
        self.count = incidents
        self.start = start
        self.spacing = spacing
        self.offset_cap = offset_cap
        self.report_total = True
        self.resolved_override: dict[int, datetime] = {}
        self.fail_after_pages: int | None = None
        self.pages_served = 0
        self._routes()

    # -- the data -------------------------------------------------------------------------
    def incident_id(self, i: int) -> str:
        return f"Q{i:05d}PD"

    def created(self, i: int) -> datetime:
        return self.start + self.spacing * i

    def status(self, i: int) -> str:
        if i in self.resolved_override:
            return "resolved"
        return ("triggered", "acknowledged", "resolved", "resolved")[i % 4]

    def resolved(self, i: int) -> datetime | None:
        if i in self.resolved_override:
            return self.resolved_override[i]
        if self.status(i) != "resolved":
            return None
        return self.created(i) + timedelta(minutes=40 + i)

    def resolve(self, i: int, at: datetime) -> None:
        self.resolved_override[i] = at

    def incident(self, i: int) -> dict[str, Any]:
        inc = copy.deepcopy(self.incident_t)
        iid = self.incident_id(i)
        created = self.created(i)
        status = self.status(i)
        resolved = self.resolved(i)
        changed = resolved or (created + timedelta(minutes=5) if status == "acknowledged"
                               else created)
        service_id, service = SERVICES[i % 2]
        title = f"{service} error rate above {5 + i % 7}%"
        inc.update(
            id=iid, incident_number=1000 + i, title=title, summary=f"[#{1000 + i}] {title}",
            self=f"https://api.pagerduty.com/incidents/{iid}",
            html_url=f"https://quayside.pagerduty.com/incidents/{iid}",
            created_at=pd_time(created, 2 if i % 5 == 0 else 0),
            updated_at=pd_time(changed), last_status_change_at=pd_time(changed),
            status=status, urgency="high" if i % 3 else "low",
            incident_key=f"{service}/error-rate/{i}",
        )
        if resolved is not None:
            inc["resolved_at"] = pd_time(resolved)
        else:
            inc.pop("resolved_at", None)
        inc["service"] = {**inc["service"], "id": service_id, "summary": service,
                          "self": f"https://api.pagerduty.com/services/{service_id}"}
        inc["teams"] = [{**inc["teams"][0], "summary": "Payments" if i % 2 else "Ledger"}]
        inc["priority"] = None if i % 6 == 5 else {**(inc.get("priority") or {}),
                                                   "summary": f"P{1 + i % 3}"}
        return inc

    def log_entries(self, i: int) -> list[dict[str, Any]]:
        created = self.created(i)
        steps = [("trigger_log_entry", created, "Triggered through the API")]
        if self.status(i) != "triggered":
            steps.append(("acknowledge_log_entry", created + timedelta(minutes=5),
                          "Acknowledged by Tomás Ferreira"))
        resolved = self.resolved(i)
        if resolved is not None:
            steps.append(("resolve_log_entry", resolved, "Resolved by Tomás Ferreira"))
        out = []
        for k, (kind, at, summary) in enumerate(steps):
            e = copy.deepcopy(self.entry_t)
            e.update(id=f"R{i:05d}L{k}", type=kind, created_at=pd_time(at), summary=summary,
                     self=f"https://api.pagerduty.com/log_entries/R{i:05d}L{k}")
            e["incident"] = {**e["incident"], "id": self.incident_id(i),
                             "self": f"https://api.pagerduty.com/incidents/{self.incident_id(i)}"}
            out.append(e)
        return out

    def index_of(self, incident_id: str) -> int | None:
        try:
            i = int(incident_id[1:6])
        except ValueError:
            return None
        return i if 0 <= i < self.count and incident_id == self.incident_id(i) else None

    # -- the API --------------------------------------------------------------------------
    def _routes(self) -> None:
        s = self.server

        def guard(fn: Any) -> Any:
            def wrapped(req: Request) -> Any:
                if req.headers.get("authorization") != f"Token token={self.token}":
                    return 401, {}, {"error": {"message": "Unauthorized", "code": 2006}}
                if req.headers.get("accept") != ACCEPT:
                    return 406, {}, {"error": {"message": "Not Acceptable", "code": 2001}}
                return fn(req)
            return wrapped

        def paged(req: Request) -> tuple[int, int] | None:
            limit = int(req.arg("limit", "25") or 25)
            offset = int(req.arg("offset", "0") or 0)
            if limit > 100 or offset + limit > self.offset_cap:
                return None
            return offset, limit

        @s.route("GET", r"/incidents")
        @guard
        def incidents(req: Request) -> Any:
            if self.fail_after_pages is not None and self.pages_served >= self.fail_after_pages:
                return 500, {}, {"error": {"message": "Internal Server Error", "code": 1}}
            since = datetime.fromisoformat(str(req.arg("since")).replace("Z", "+00:00"))
            until = datetime.fromisoformat(str(req.arg("until")).replace("Z", "+00:00"))
            if until - since > MAX_RANGE:
                return _invalid("The date range cannot be longer than 6 months")
            window = paged(req)
            if window is None:
                return _invalid(f"offset + limit must be at most {self.offset_cap}")
            offset, limit = window
            services = req.query.get("service_ids[]")
            ids = [i for i in range(self.count) if since <= self.created(i) < until
                   and (not services or SERVICES[i % 2][0] in services)]
            chunk = ids[offset: offset + limit]
            self.pages_served += 1
            total = len(ids) if self.report_total and req.arg("total") == "true" else None
            return 200, {}, {"incidents": [self.incident(i) for i in chunk], "limit": limit,
                             "offset": offset, "more": offset + limit < len(ids),
                             "total": total}

        @s.route("GET", r"/incidents/(\w+)")
        @guard
        def incident(req: Request) -> Any:
            i = self.index_of(req.match.group(1))
            if i is None:
                return 404, {}, {"error": {"message": "Incident Not Found", "code": 5001}}
            return 200, {}, {"incident": self.incident(i)}

        @s.route("GET", r"/incidents/(\w+)/log_entries")
        @guard
        def log_entries(req: Request) -> Any:
            i = self.index_of(req.match.group(1))
            if i is None:
                return 404, {}, {"error": {"message": "Incident Not Found", "code": 5001}}
            window = paged(req)
            if window is None:
                return _invalid("offset + limit too large")
            offset, limit = window
            entries = self.log_entries(i)
            return 200, {}, {"log_entries": entries[offset: offset + limit], "limit": limit,
                             "offset": offset, "more": offset + limit < len(entries),
                             "total": None}
