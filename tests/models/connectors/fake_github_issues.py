"""GitHub's issues and issue-timeline endpoints on loopback, serving records cloned from the
project's copies of GitHub's published example shapes (tests/fixtures/vendors), with `since`,
`sort=updated`, `direction`, `labels` and Link pagination as GitHub does them."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.vendor_server import Request, VendorServer, page_of

VENDORS = Path(__file__).resolve().parents[2] / "fixtures" / "vendors"
API = "https://api.github.com"


def _load(name: str) -> Any:
    return json.loads((VENDORS / name).read_text(encoding="utf-8"))


def _ts(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class FakeGitHubIssues:
    """`issues` issues (every `pr_every`-th item is a pull request) created `spacing` apart.

    Issue k is labelled P1 when k is even and P3 otherwise; every third issue is closed (every
    ninth as not planned); each issue's timeline is the fixture's, shifted to its own time."""

    def __init__(self, server: VendorServer, repo: str = "quayside-dev/ledger-api",
                 start: datetime = datetime(2026, 10, 20, 9, 0, tzinfo=UTC), issues: int = 7,
                 pr_every: int = 4, spacing: timedelta = timedelta(days=4)) -> None:
        self.server = server
        self.repo = repo
        issue_t = _load("github_issues_list.json")[0]
        timeline_t = _load("github_issue_timeline.json")
        t0 = _parse(timeline_t[0]["created_at"])
        self.items: list[dict[str, Any]] = []
        self.timelines: dict[int, list[dict[str, Any]]] = {}
        for k in range(issues):
            number = 200 + k
            created = start + spacing * k
            item = copy.deepcopy(issue_t)
            base = f"{API}/repos/{repo}/issues/{number}"
            item.update(
                id=2_718_300_000 + k, number=number, url=base,
                repository_url=f"{API}/repos/{repo}", html_url=f"https://github.com/{repo}/issues/{number}",
                labels_url=f"{base}/labels{{/name}}", comments_url=f"{base}/comments",
                events_url=f"{base}/events", title=f"{issue_t['title']} ({number})",
                created_at=_ts(created), updated_at=_ts(created + timedelta(days=1, hours=k)),
            )
            item["labels"][1]["name"] = "P1" if k % 2 == 0 else "priority: medium"
            if k % pr_every == pr_every - 1:
                self.items.append(item)  # keeps the example's `pull_request`: a pull request
                continue
            del item["pull_request"]
            events = []
            for e in copy.deepcopy(timeline_t):
                at = created + (_parse(e["created_at"]) - t0)
                e["created_at"] = _ts(at)
                if "updated_at" in e:
                    e["updated_at"] = _ts(at)
                e["id"] = int(e["id"]) + k * 1000
                if e.get("issue_url"):
                    e["issue_url"] = base
                if e["event"] == "labeled":
                    e["label"]["name"] = item["labels"][1]["name"]
                events.append(e)
            if k % 3 == 2:
                item.update(state="closed", closed_at=events[-1]["created_at"],
                            state_reason="not_planned" if k % 9 == 8 else "completed")
                events[-1]["state_reason"] = item["state_reason"]
            else:
                events = [e for e in events if e["event"] != "closed"]
                if k % 3 == 1:
                    item.update(assignee=None, assignees=[])
                    events = [e for e in events if e["event"] != "assigned"]
            self.timelines[number] = events
            self.items.append(item)
        self.timeline_calls: dict[int, int] = {}
        self._routes()

    @property
    def issues(self) -> list[dict[str, Any]]:
        return [i for i in self.items if "pull_request" not in i]

    def touch(self, number: int, at: datetime) -> None:
        """The issue changed at `at` (a comment): it is listed again after `since`."""
        for item in self.items:
            if item["number"] == number:
                item["updated_at"] = _ts(at)

    def _page(self, req: Request, items: list[Any]) -> tuple[list[Any], dict[str, str]]:
        return page_of(self.server, req, items)

    def _routes(self) -> None:
        s = self.server
        repo = self.repo.replace("/", r"\/")

        def authorized(req: Request) -> bool:
            return req.headers.get("authorization", "").startswith("Bearer ") and \
                req.headers.get("x-github-api-version") == "2022-11-28"

        @s.route("GET", rf"/repos/{repo}/issues")
        def issues(req: Request) -> Any:
            if not authorized(req):
                return 401, {}, {"message": "Requires authentication"}
            items = list(self.items)
            if req.arg("state", "open") != "all":
                items = [i for i in items if i["state"] == req.arg("state", "open")]
            since = req.arg("since")
            if since:
                items = [i for i in items if _parse(i["updated_at"]) >= _parse(since)]
            labels = req.arg("labels")
            if labels:
                wanted = set(labels.split(","))
                items = [i for i in items if wanted <= {lab["name"] for lab in i["labels"]}]
            key = "updated_at" if req.arg("sort") == "updated" else "created_at"
            items.sort(key=lambda i: (i[key], i["id"]), reverse=req.arg("direction") != "asc")
            chunk, headers = self._page(req, items)
            return 200, headers, chunk

        @s.route("GET", rf"/repos/{repo}/issues/(\d+)/timeline")
        def timeline(req: Request) -> Any:
            number = int(req.match.group(1))
            self.timeline_calls[number] = self.timeline_calls.get(number, 0) + 1
            if number not in self.timelines:
                return 404, {}, {"message": "Not Found"}
            chunk, headers = self._page(req, self.timelines[number])
            return 200, headers, chunk
