"""A Jira Cloud REST API on loopback: issues cloned from the published *Search for issues using JQL*
example (or the project's copy in tests/fixtures/vendors), served by `POST /rest/api/3/search/jql`
with `nextPageToken` paging, the changelog bulk fetch, issue comments and `/myself`.

Issues are built on demand from their index, so 10,000 of them cost no memory until a page is
served. Like Jira, the search reads JQL dates in the account's time zone, rejects unbounded JQL,
returns only the most recent changelog entries and the first comments of each issue, and the old
`/rest/api/3/search` answers 410.
"""

from __future__ import annotations

import base64
import copy
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tests.vendor_server import Request, VendorServer

VENDORS = Path(__file__).resolve().parents[2] / "fixtures" / "vendors"
STATUSES = [
    {"id": "10002", "name": "Done", "statusCategory": {"id": 3, "key": "done", "name": "Done"}},
    {"id": "3", "name": "In Progress",
     "statusCategory": {"id": 4, "key": "indeterminate", "name": "In Progress"}},
    {"id": "10000", "name": "To Do", "statusCategory": {"id": 2, "key": "new", "name": "To Do"}},
]
PRIORITIES = ["Highest", "High", "Medium", "Low"]
PEOPLE = [("Tomás Ferreira", "tomas@quayside.example"), ("Amara Osei", "amara@quayside.example"),
          ("Lena Vogt", "lena@quayside.example")]
_BOUND = re.compile(r'updated >= "(\d{4}-\d{2}-\d{2} \d{2}:\d{2})"')


def jira_time(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _token(n: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{n}".encode()).decode()


def _offset(token: str | None) -> int:
    if not token:
        return 0
    return int(base64.urlsafe_b64decode(token.encode()).decode().split(":")[1])


def _adf(text: str) -> dict[str, Any]:
    return {"type": "doc", "version": 1,
            "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]}


class FakeJira:
    """`issues` issues of project LEDG created `spacing` apart from `start`; issue i has i % 6
    changelog entries and i % 4 comments."""

    email = "bot@quayside.example"
    token = "jira-test-token"

    def __init__(self, server: VendorServer, templates: Path = VENDORS, issues: int = 30,
                 start: datetime = datetime(2025, 5, 25, 9, 0, tzinfo=UTC),
                 spacing: timedelta = timedelta(hours=7), time_zone: str = "Australia/Sydney",
                 search_histories: int = 3, search_comments: int = 2, bulk_page: int = 4,
                 comment_page: int = 2) -> None:
        self.server = server
        # Headers and body leave in separate writes: without TCP_NODELAY a delayed ACK costs
        # ~40 ms a request on loopback.
        server._server.RequestHandlerClass.disable_nagle_algorithm = True
        search = json.loads((templates / "jira_search_jql_response.json").read_text("utf-8"))
        bulk = json.loads((VENDORS / "jira_changelog_bulkfetch_response.json").read_text("utf-8"))
        if (templates / "jira_changelog_bulkfetch_response.json").is_file():
            bulk = json.loads(
                (templates / "jira_changelog_bulkfetch_response.json").read_text("utf-8"))
        self.issue_t = search["issues"][0]
        comments = self.issue_t["fields"].get("comment")
        self.comment_t = comments[0] if isinstance(comments, list) else comments["comments"][0]
        self.history_t = bulk["issueChangeLogs"][0]["changeHistories"][0]
        self.count = issues
        self.start = start
        self.spacing = spacing
        self.time_zone = time_zone
        self.search_histories = search_histories
        self.search_comments = search_comments
        self.bulk_page = bulk_page
        self.comment_page = comment_page
        self.updated_override: dict[int, datetime] = {}
        self.status_override: dict[int, int] = {}
        self.repeat_token_at: int | None = None  # page number whose token repeats the last one
        self.empty_pages = 0  # answer this many empty pages with isLast false, then go on
        self.bulk_available = True  # False: the bulk changelog endpoint answers 404
        page_t = VENDORS / "jira_issue_changelog_response.json"
        if (templates / "jira_issue_changelog_response.json").is_file():
            page_t = templates / "jira_issue_changelog_response.json"
        self.changelog_page_t = json.loads(page_t.read_text("utf-8"))
        self.fail_after_pages: int | None = None  # then answer 500 (a run killed mid-way)
        self.pages_served = 0
        self.served_tokens: list[str] = []
        self._order: dict[datetime, list[int]] = {}
        self._routes()

    def touch(self, i: int, updated: datetime, status: int | None = None) -> None:
        """Issue i is edited at `updated` (and moves to STATUSES[status])."""
        self.updated_override[i] = updated
        if status is not None:
            self.status_override[i] = status
        self._order.clear()

    def matching(self, since: datetime) -> list[int]:
        if since not in self._order:
            self._order[since] = sorted(
                (i for i in range(self.count) if self.updated(i) >= since),
                key=lambda i: (self.updated(i), i))
        return self._order[since]

    # -- the data -------------------------------------------------------------------------
    def key(self, i: int) -> str:
        return f"LEDG-{i + 1}"

    def issue_id(self, i: int) -> str:
        return str(30000 + i)

    def created(self, i: int) -> datetime:
        return self.start + self.spacing * i

    def updated(self, i: int) -> datetime:
        return self.updated_override.get(i, self.created(i) + timedelta(hours=3 + i % 5))

    def status(self, i: int) -> dict[str, Any]:
        return STATUSES[self.status_override.get(i, i % 3)]

    def histories(self, i: int, epoch: bool) -> list[dict[str, Any]]:
        """Oldest first; `epoch` gives `created` as the bulk endpoint does (epoch ms)."""
        out = []
        for k in range(i % 6):
            h = copy.deepcopy(self.history_t)
            at = self.created(i) + timedelta(hours=1, minutes=10 * k)
            frm, to = STATUSES[(k + 2) % 3], STATUSES[(k + 1) % 3]
            h["id"] = str(1_000_000 + i * 10 + k)
            h["created"] = int(at.timestamp() * 1000) if epoch else jira_time(at)
            h["items"] = [{"field": "status", "fieldtype": "jira", "fieldId": "status",
                           "from": frm["id"], "fromString": frm["name"],
                           "to": to["id"], "toString": to["name"]}]
            out.append(h)
        return out

    def comments(self, i: int) -> list[dict[str, Any]]:
        out = []
        for k in range(i % 4):
            c = copy.deepcopy(self.comment_t)
            at = jira_time(self.created(i) + timedelta(minutes=30 * (k + 1)))
            c.update(id=str(500_000 + i * 10 + k), created=at, updated=at,
                     body=_adf(f"Comment {k} on {self.key(i)}"),
                     self=f"https://quayside.atlassian.net/rest/api/3/issue/{self.issue_id(i)}"
                          f"/comment/{500_000 + i * 10 + k}")
            out.append(c)
        return out

    def issue(self, i: int, fields: list[str] | None = None, changelog: bool = False,
              ) -> dict[str, Any]:
        issue = copy.deepcopy(self.issue_t)
        f = issue["fields"]
        status = self.status(i)
        name, email = PEOPLE[i % 3]
        created = self.created(i)
        comments = self.comments(i)
        f.update(
            summary=f"Ledger follow-up {i + 1}",
            description=_adf(f"Action item {i + 1} from the ledger incident"),
            status=status,
            assignee=None if i % 7 == 6 else {"displayName": name, "emailAddress": email,
                                              "accountId": f"acct-{i % 3}", "active": True},
            priority={"id": str(1 + i % 4), "name": PRIORITIES[i % 4]},
            created=jira_time(created),
            updated=jira_time(self.updated(i)),
            resolutiondate=jira_time(created + timedelta(days=2))
            if status["name"] == "Done" else None,
            duedate=(created + timedelta(days=14)).date().isoformat(),
            labels=["postmortem", f"svc-{i % 4}"],
            issuetype={"id": "10001", "name": "Task" if i % 2 else "Bug", "subtask": False},
            customfield_10020=[{"id": 40 + i % 3, "name": f"LEDG Sprint {40 + i % 3}",
                                "state": "active", "boardId": 7,
                                "startDate": "2025-05-19T08:00:00.000Z",
                                "endDate": "2025-06-02T08:00:00.000Z"}],
            comment={"comments": comments[: self.search_comments], "maxResults":
                     self.search_comments, "total": len(comments), "startAt": 0},
        )
        f.setdefault("project", {})["key"] = "LEDG"
        if fields is not None:
            issue["fields"] = {k: v for k, v in f.items() if k in fields}
        issue.update(id=self.issue_id(i), key=self.key(i),
                     self=f"https://quayside.atlassian.net/rest/api/3/issue/{self.issue_id(i)}")
        if changelog:
            hs = list(reversed(self.histories(i, epoch=False)))  # newest first, like Jira
            issue["changelog"] = {"startAt": 0, "maxResults": self.search_histories,
                                  "total": len(hs), "histories": hs[: self.search_histories]}
        return issue

    def index_of(self, id_or_key: str) -> int | None:
        if id_or_key.startswith("LEDG-"):
            i = int(id_or_key.split("-")[1]) - 1
        elif id_or_key.isdigit():
            i = int(id_or_key) - 30000
        else:
            return None
        return i if 0 <= i < self.count else None

    # -- the API --------------------------------------------------------------------------
    def _authorised(self, req: Request) -> bool:
        expected = base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
        return req.headers.get("authorization") == f"Basic {expected}"

    def _routes(self) -> None:
        s = self.server

        def guard(fn: Any) -> Any:
            def wrapped(req: Request) -> Any:
                if not self._authorised(req):
                    return 401, {}, {"errorMessages": ["Client must be authenticated"]}
                return fn(req)
            return wrapped

        @s.route("GET", r"/rest/api/3/myself")
        @guard
        def myself(req: Request) -> Any:
            return 200, {}, {"accountId": "bot", "emailAddress": self.email,
                             "displayName": "followthrough", "timeZone": self.time_zone,
                             "active": True}

        def removed(req: Request) -> Any:
            return 410, {}, {"errorMessages": [
                "The requested API has been removed. Please migrate to the "
                "/rest/api/3/search/jql API."]}

        s.route("GET", r"/rest/api/3/search", removed)
        s.route("POST", r"/rest/api/3/search", removed)

        @s.route("POST", r"/rest/api/3/search/jql")
        @guard
        def search(req: Request) -> Any:
            body = req.json()
            m = _BOUND.search(body.get("jql", ""))
            if not m:
                return 400, {}, {"errorMessages": [
                    "Unbounded JQL queries are not allowed here. Please add a search "
                    "restriction to your query."]}
            since = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M").replace(
                tzinfo=ZoneInfo(self.time_zone))
            fields = body.get("fields")
            if not isinstance(fields, list) or not fields or "*all" in fields:
                return 400, {}, {"errorMessages": ["fields must be listed"]}
            ids = self.matching(since)
            token = body.get("nextPageToken")
            if token:
                self.served_tokens.append(token)
            offset = _offset(token)
            if self.fail_after_pages is not None and self.pages_served >= self.fail_after_pages:
                return 500, {}, {"errorMessages": ["Internal server error"]}
            self.pages_served += 1
            if self.empty_pages > 0:
                self.empty_pages -= 1
                fresh = base64.urlsafe_b64encode(
                    f"offset:{offset}:empty{self.empty_pages}".encode()).decode()
                return 200, {}, {"issues": [], "nextPageToken": fresh, "isLast": False}
            size = min(int(body.get("maxResults") or 50), 100)
            chunk = ids[offset: offset + size]
            changelog = "changelog" in str(body.get("expand", "")).split(",")
            page: dict[str, Any] = {
                "issues": [self.issue(i, fields, changelog) for i in chunk],
                "isLast": offset + size >= len(ids),
            }
            if not page["isLast"]:
                page_no = offset // size + 1
                repeat = self.repeat_token_at is not None and page_no >= self.repeat_token_at
                page["nextPageToken"] = token if repeat and token else _token(offset + size)
            return 200, {}, page

        @s.route("POST", r"/rest/api/3/changelog/bulkfetch")
        @guard
        def bulkfetch(req: Request) -> Any:
            if not self.bulk_available:
                return 404, {}, {"errorMessages": ["null for uri: /rest/api/3/changelog/bulkfetch"]}
            body = req.json()
            wanted = [self.index_of(str(x)) for x in body.get("issueIdsOrKeys") or []]
            if len(wanted) > 1000:
                return 400, {}, {"errorMessages": ["at most 1000 issues"]}
            entries = sorted(((h["created"], i, h) for i in wanted if i is not None
                              for h in self.histories(i, epoch=True)),
                             key=lambda e: (e[0], e[1]))
            offset = _offset(body.get("nextPageToken"))
            size = min(int(body.get("maxResults") or 1000), self.bulk_page)
            chunk = entries[offset: offset + size]
            logs: list[dict[str, Any]] = []
            for _, i, h in chunk:
                if logs and logs[-1]["issueId"] == self.issue_id(i):
                    logs[-1]["changeHistories"].append(h)
                else:
                    logs.append({"issueId": self.issue_id(i), "changeHistories": [h]})
            page: dict[str, Any] = {"issueChangeLogs": logs}
            if offset + size < len(entries):
                page["nextPageToken"] = _token(offset + size)
            return 200, {}, page

        @s.route("GET", r"/rest/api/3/issue/([A-Z0-9-]+)/changelog")
        @guard
        def changelog(req: Request) -> Any:
            i = self.index_of(req.match.group(1))
            if i is None:
                return 404, {}, {"errorMessages": ["Issue does not exist"]}
            items = self.histories(i, epoch=False)
            start = int(req.arg("startAt", "0") or 0)
            size = min(int(req.arg("maxResults", "100") or 100), 2)
            page = copy.deepcopy(self.changelog_page_t)
            base = f"https://quayside.atlassian.net/rest/api/3/issue/{self.key(i)}/changelog"
            page.update(values=items[start: start + size], startAt=start, maxResults=size,
                        total=len(items), isLast=start + size >= len(items),
                        self=f"{base}?startAt={start}&maxResults={size}")
            if page["isLast"]:
                page.pop("nextPage", None)
            else:
                page["nextPage"] = f"{base}?startAt={start + size}&maxResults={size}"
            return 200, {}, page

        @s.route("GET", r"/rest/api/3/issue/([A-Z0-9-]+)/comment")
        @guard
        def comments(req: Request) -> Any:
            i = self.index_of(req.match.group(1))
            if i is None:
                return 404, {}, {"errorMessages": ["Issue does not exist"]}
            items = self.comments(i)
            start = int(req.arg("startAt", "0") or 0)
            size = min(int(req.arg("maxResults", "50") or 50), self.comment_page)
            return 200, {}, {"comments": items[start: start + size], "startAt": start,
                             "maxResults": size, "total": len(items)}
