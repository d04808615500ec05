"""A Linear GraphQL API on loopback. Linear publishes no example responses, so issues are cloned
from tests/fixtures/vendors/linear_issues_nodes_response.json, which is built from Linear's schema
(see the README there), and served with Relay cursor pagination.

It answers the connector's operations by name (no GraphQL parser): `FollowthroughIssues` with
`filter.updatedAt.gte`, `filter.team.key.in`, `first`/`after`, and nested connections capped at
`nested_cap` items so the follow-up `issue(id:)` queries are exercised. Like Linear, it rejects an
API key sent as a Bearer token, and reports errors inside HTTP 200.
"""

from __future__ import annotations

import base64
import copy
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.vendor_server import Request, VendorServer

VENDORS = Path(__file__).resolve().parents[2] / "fixtures" / "vendors"
STATES = [("Done", "completed"), ("In Progress", "started"), ("Todo", "unstarted"),
          ("Canceled", "canceled")]
PEOPLE = [("Amara Osei", "amara@quayside.example"), ("Tomás Ferreira", "tomas@quayside.example"),
          ("Lena Vogt", "lena@quayside.example"), ("Kofi Mensah", "kofi@quayside.example")]
_OPERATION = re.compile(r"query\s+(\w+)")


def ts(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _cursor(n: int) -> str:
    return base64.b64encode(f"arrayconnection:{n}".encode()).decode()


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    return int(base64.b64decode(cursor).decode().split(":")[1]) + 1


def _error(message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}], "data": None}


class FakeLinear:
    """`issues` issues alternating between teams LEDG and OPS, created 5 h apart from `start`;
    issue i has i % 5 history entries, i % 5 comments and 1 + i % 5 labels."""

    api_key = "lin_api_0123456789abcdefghijklmnopqrstuvwxyzABCD"

    def __init__(self, server: VendorServer, issues: int = 24,
                 start: datetime = datetime(2025, 5, 28, 8, 0, tzinfo=UTC),
                 nested_cap: int = 3, token: str | None = None) -> None:
        self.server = server
        # Headers and body leave in separate writes: without TCP_NODELAY a delayed ACK costs
        # ~40 ms a request on loopback.
        server._server.RequestHandlerClass.disable_nagle_algorithm = True
        doc = json.loads((VENDORS / "linear_issues_nodes_response.json").read_text("utf-8"))
        self.node_t = doc["data"]["issues"]["nodes"][0]
        self.count = issues
        self.start = start
        self.nested_cap = nested_cap
        self.token = token or self.api_key
        self.updated_override: dict[int, datetime] = {}
        self.fail_after_pages: int | None = None
        self.pages_served = 0
        self._routes()

    # -- the data -------------------------------------------------------------------------
    def team(self, i: int) -> str:
        return "LEDG" if i % 2 == 0 else "OPS"

    def identifier(self, i: int) -> str:
        return f"{self.team(i)}-{100 + i}"

    def node_id(self, i: int) -> str:
        return f"6a0c1f3e-0000-4000-8000-{i:012d}"

    def created(self, i: int) -> datetime:
        return self.start + timedelta(hours=5 * i)

    def updated(self, i: int) -> datetime:
        return self.updated_override.get(i, self.created(i) + timedelta(hours=1 + i % 4))

    def history(self, i: int) -> list[dict[str, Any]]:
        h_t = self.node_t["history"]["nodes"][0]
        out = []
        for k in range(i % 5):
            h = copy.deepcopy(h_t)
            frm, to = STATES[(k + 2) % 3], STATES[(k + 1) % 3]
            h.update(id=f"{self.node_id(i)}-h{k}",
                     createdAt=ts(self.created(i) + timedelta(minutes=20 * (k + 1))),
                     fromState={"name": frm[0]}, toState={"name": to[0]},
                     fromAssignee=None, fromDueDate=None, toDueDate=None,
                     fromCycle=None, toCycle=None, actor={"name": PEOPLE[(i + 1) % 4][0]},
                     toAssignee={"name": PEOPLE[i % 4][0]} if k == 0 else None)
            if k == 1:
                h["toDueDate"] = "2025-06-20"
            if k == 2:
                h["fromCycle"], h["toCycle"] = {"number": 11}, {"number": 12}
            out.append(h)
        return out

    def comments(self, i: int) -> list[dict[str, Any]]:
        c_t = self.node_t["comments"]["nodes"][0]
        out = []
        for k in range(i % 5):
            c = copy.deepcopy(c_t)
            c.update(id=f"{self.node_id(i)}-c{k}", body=f"Note {k} on {self.identifier(i)}",
                     createdAt=ts(self.created(i) + timedelta(minutes=45 * (k + 1))),
                     user={"name": PEOPLE[(i + k) % 4][0]})
            out.append(c)
        return out

    def labels(self, i: int) -> list[dict[str, Any]]:
        return [{"name": "postmortem"}] + [{"name": f"area-{k}"} for k in range(i % 5)]

    def node(self, i: int, nested: int) -> dict[str, Any]:
        n = copy.deepcopy(self.node_t)
        state = STATES[i % 4]
        created = self.created(i)
        person = PEOPLE[i % 4]
        n.update(
            id=self.node_id(i), identifier=self.identifier(i),
            title=f"Follow-up {i} for the ledger incident",
            description=f"Action item {i}: make ledger writes survive a connection reset.",
            url=f"https://linear.app/quayside/issue/{self.identifier(i)}/follow-up-{i}",
            createdAt=ts(created), updatedAt=ts(self.updated(i)),
            completedAt=ts(created + timedelta(days=1)) if state[1] == "completed" else None,
            canceledAt=ts(created + timedelta(days=2)) if state[1] == "canceled" else None,
            dueDate=(created + timedelta(days=10)).date().isoformat(),
            priority=i % 5,
            state={"name": state[0], "type": state[1]},
            assignee=None if i % 5 == 4 else {"name": person[0], "email": person[1]},
            team={"key": self.team(i), "name": "Ledger" if i % 2 == 0 else "Operations"},
            cycle={"number": 10 + i % 3, "startsAt": "2025-05-26T00:00:00.000Z",
                   "endsAt": "2025-06-09T00:00:00.000Z"},
        )
        for name, items in (("history", self.history(i)), ("comments", self.comments(i)),
                            ("labels", self.labels(i))):
            n[name] = self._page(items, min(nested, self.nested_cap), None)
        return n

    def _page(self, items: list[Any], first: int, after: str | None) -> dict[str, Any]:
        start = _offset(after)
        chunk = items[start: start + first]
        end = start + len(chunk) - 1
        return {"nodes": chunk,
                "pageInfo": {"hasNextPage": start + first < len(items),
                             "endCursor": _cursor(end) if chunk else None}}

    def index_of(self, node_id: str) -> int | None:
        try:
            i = int(node_id.rsplit("-", 1)[1])
        except (IndexError, ValueError):
            return None
        return i if 0 <= i < self.count else None

    # -- the API --------------------------------------------------------------------------
    def _routes(self) -> None:
        @self.server.route("POST", r"/graphql")
        def graphql(req: Request) -> Any:
            auth = req.headers.get("authorization", "")
            if self.token.startswith("lin_oauth_"):
                if auth != f"Bearer {self.token}":
                    return 400, {}, _error("Authentication required, not authenticated",
                                           "AUTHENTICATION_ERROR")
            elif auth != self.token:
                message = ("It looks like you're trying to use an API key as a Bearer token. "
                           "Remove the Bearer prefix from the Authorization header."
                           if auth == f"Bearer {self.token}" else
                           "Authentication required, not authenticated")
                return 400, {}, _error(message, "AUTHENTICATION_ERROR")
            body = req.json()
            op = _OPERATION.search(body.get("query", ""))
            variables = body.get("variables") or {}
            if op and op.group(1) == "FollowthroughIssues":
                return self._issues(variables)
            if op and op.group(1).startswith("FollowthroughIssue"):
                return self._nested(op.group(1), variables)
            return 200, {}, _error("Unknown operation", "GRAPHQL_VALIDATION_FAILED")

    def _issues(self, v: dict[str, Any]) -> Any:
        if self.fail_after_pages is not None and self.pages_served >= self.fail_after_pages:
            return 503, {}, b"upstream connect error"
        first = int(v.get("first") or 50)
        if first > 250:
            return 200, {}, _error("first must be <= 250", "INVALID_INPUT")
        flt = v.get("filter") or {}
        gte = (flt.get("updatedAt") or {}).get("gte")
        teams = ((flt.get("team") or {}).get("key") or {}).get("in")
        since = datetime.fromisoformat(gte.replace("Z", "+00:00")) if gte else None
        ids = [i for i in range(self.count)
               if (since is None or self.updated(i) >= since)
               and (teams is None or self.team(i) in teams)]
        if v.get("orderBy") == "updatedAt":
            ids.sort(key=lambda i: (self.updated(i), i), reverse=True)
        page = self._page(ids, first, v.get("after"))
        self.pages_served += 1
        nested = int(v.get("nested") or 50)
        page["nodes"] = [self.node(i, nested) for i in page["nodes"]]
        return 200, {}, {"data": {"issues": page}}

    def _nested(self, op: str, v: dict[str, Any]) -> Any:
        i = self.index_of(str(v.get("id")))
        if i is None:
            return 200, {}, _error("Entity not found: Issue", "INVALID_INPUT")
        name = {"FollowthroughIssueHistory": "history", "FollowthroughIssueComments": "comments",
                "FollowthroughIssueLabels": "labels"}[op]
        items = {"history": self.history, "comments": self.comments,
                 "labels": self.labels}[name](i)
        first = min(int(v.get("first") or 50), self.nested_cap)
        return 200, {}, {"data": {"issue": {name: self._page(items, first, v.get("after"))}}}
