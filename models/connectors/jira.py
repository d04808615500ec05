"""Jira Cloud: issues with their changelog and comments, read with `POST /rest/api/3/search/jql`.

The old `/rest/api/3/search` answers 410, so only the token-paged endpoint is used. Every search
is bounded: the configured JQL AND `updated >= "yyyy-MM-dd HH:mm"` ORDER BY updated ASC. JQL
dates have minute precision and are read in the *user's* time zone (Jira profile setting), so
the bound is the cursor less the overlap, floored to the minute and written in the time zone
`/rest/api/3/myself` reports. The search returns only an issue's most recent changelog entries
and first comments; an issue whose changelog or comments are cut short is completed from
`POST /rest/api/3/changelog/bulkfetch` and `GET /rest/api/3/issue/{id}/comment`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from models.connectors.base import FetchContext, FetchResult, iso, parse_time
from models.connectors.config import JiraConfig
from models.connectors.http import ApiClient, ApiError
from models.connectors.landing import Shape, month_of

SEARCH = "/rest/api/3/search/jql"
BULK_CHANGELOG = "/rest/api/3/changelog/bulkfetch"
ISSUES = Shape(("issues",), {"isLast": True})
# Everything models/sources/jira.py reads; `comment` brings the first page of comments.
FIELDS = (
    "summary", "description", "status", "assignee", "priority", "created", "updated",
    "resolutiondate", "duedate", "labels", "issuetype", "project", "customfield_10020",
    "comment",
)
BULK_ISSUES = 1000  # issues per changelog bulkfetch request (the endpoint's limit)
FLUSH_EVERY = 1000  # issues staged before the month files are written and the cursor saved


def fetch(cfg: JiraConfig, ctx: FetchContext) -> FetchResult:
    result = FetchResult("jira")
    email = ctx.secret("jira", cfg, "email_env")
    token = ctx.secret("jira", cfg, "token_env")
    with ApiClient("jira", cfg.site_url, {"Accept": "application/json"},
                   policy=ctx.policy(cfg), sleep=ctx.sleep,
                   auth=httpx.BasicAuth(email, token)) as api:
        _Reader(api, cfg, ctx, result).run()
        result.requests = api.requests
        result.waited_s = api.waited_s
    return result


def jql_bound(jql: str, start: datetime, tz: ZoneInfo) -> str:
    """The configured JQL restricted to issues updated since `start` (floored to the minute)."""
    local = start.astimezone(tz).replace(second=0, microsecond=0)
    bound = f'updated >= "{local:%Y-%m-%d %H:%M}"'
    base = _strip_order_by(jql.strip())
    where = f"({base}) AND {bound}" if base else bound
    return f"{where} ORDER BY updated ASC"


def _strip_order_by(jql: str) -> str:
    """A configured ORDER BY would break the ascending order the cursor relies on."""
    upper = jql.upper()
    at = upper.rfind("ORDER BY")
    return jql[:at].strip() if at >= 0 else jql


class _Reader:
    def __init__(self, api: ApiClient, cfg: JiraConfig, ctx: FetchContext,
                 result: FetchResult) -> None:
        self.api = api
        self.cfg = cfg
        self.ctx = ctx
        self.result = result
        self.no_bulk = False

    def run(self) -> None:
        state = self.ctx.landing.load_state("jira")
        tz, slack = self.user_time_zone()
        start = self.ctx.start(state.get("cursor"), self.cfg.overlap_minutes) - slack
        jql = jql_bound(self.cfg.jql, start, tz)
        newest = parse_time(state.get("cursor"))
        staged: list[dict[str, Any]] = []
        for page in self.search(jql):
            staged.extend(page)
            if len(staged) >= FLUSH_EVERY:
                newest = self._land(staged, newest, state)
                staged = []
        newest = self._land(staged, newest, state)

    def _land(self, issues: list[dict[str, Any]], newest: datetime | None,
              state: dict[str, Any]) -> datetime | None:
        """Complete, stage and write a batch, then move the cursor past it."""
        if not issues:
            return newest
        self.complete_changelogs(issues)
        for issue in issues:
            self.complete_comments(issue)
        for issue in issues:
            fields = issue.get("fields") or {}
            created = fields.get("created") if isinstance(fields, dict) else None
            month = month_of(created if isinstance(created, str) else None)
            self.ctx.landing.stage(f"jira/issues/{month}.json", [issue], _issue_key, ISSUES)
            updated = parse_time(fields.get("updated")) if isinstance(
                fields.get("updated"), str) else None
            if updated is not None and (newest is None or updated > newest):
                newest = updated
        self.result.records += len(issues)
        self.ctx.landing.flush()
        if newest is not None:
            state["cursor"] = iso(newest)
            self.ctx.landing.save_state("jira", state)
        self.ctx.progress("jira issues", self.result.records, None)
        return newest

    def user_time_zone(self) -> tuple[ZoneInfo, timedelta]:
        """The time zone Jira reads JQL dates in (`time_zone` from the config, else the
        account's profile setting), and how much earlier to start when it is unknown."""
        name = self.cfg.time_zone
        if not name:
            body, response = self.api.get_json("/rest/api/3/myself", ok=(401, 403, 404))
            name = body.get("timeZone") if response.status_code == 200 and isinstance(
                body, dict) else None
            if not name:
                # Written in UTC and read in a zone as far as UTC-12, the bound would start
                # up to 12 hours late: start 12 hours earlier instead.
                self.result.notes.append(
                    "jira: the account's time zone is unknown (no timeZone from "
                    "/rest/api/3/myself); reading 12 hours more — set time_zone")
                return ZoneInfo("UTC"), timedelta(hours=12)
        try:
            return ZoneInfo(name), timedelta(0)
        except (ZoneInfoNotFoundError, ValueError):
            raise ApiError("jira", "GET", self.api.url("/rest/api/3/myself"),
                           f"unknown time zone {name!r}") from None

    def search(self, jql: str) -> Iterator[list[dict[str, Any]]]:
        """Pages of issues, following `nextPageToken` until `isLast`."""
        body: dict[str, Any] = {
            "jql": jql,
            "maxResults": self.cfg.page_size,
            "fields": list(FIELDS),
            "expand": "changelog",
        }
        seen: set[str] = set()
        empty = 0
        while True:
            data, _ = self.api.json("POST", SEARCH, json_body=body)
            if not isinstance(data, dict):
                raise ApiError("jira", "POST", self.api.url(SEARCH),
                               "response is not a JSON object")
            issues = [i for i in data.get("issues") or [] if isinstance(i, dict)]
            if issues:
                yield issues
            token = data.get("nextPageToken")
            if data.get("isLast") is True or not token:
                return
            if not issues:
                empty += 1
                if empty >= 3:
                    self.result.notes.append(
                        "jira: search kept answering empty pages with isLast false; stopped")
                    return
            else:
                empty = 0
            if token in seen:
                self.result.notes.append(
                    "jira: search repeated a nextPageToken; stopped paging (the next run "
                    "reads again from the saved cursor)")
                return
            seen.add(token)
            body = {**body, "nextPageToken": token}

    # -- changelog ------------------------------------------------------------------------
    def complete_changelogs(self, issues: list[dict[str, Any]]) -> None:
        """Replace cut-short changelogs with the whole history from the bulk endpoint."""
        short = [i for i in issues if _changelog_truncated(i)]
        for lo in range(0, len(short), BULK_ISSUES):
            chunk = short[lo: lo + BULK_ISSUES]
            histories = self.bulk_changelogs([str(i.get("id") or i["key"]) for i in chunk])
            for issue in chunk:
                full = histories.get(str(issue.get("id"))) or histories.get(str(issue["key"]))
                if full is None:
                    continue
                issue["changelog"] = {"startAt": 0, "maxResults": len(full),
                                      "total": len(full), "histories": full}

    def bulk_changelogs(self, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        body: dict[str, Any] = {"issueIdsOrKeys": ids, "maxResults": 1000}
        seen: set[str] = set()
        while True:
            if self.no_bulk:
                return {i: self.issue_changelog(i) for i in ids}
            response = self.api.request("POST", BULK_CHANGELOG, json_body=body, ok=(404, 405))
            if response.status_code in (404, 405):
                # A server without the bulk endpoint (an older or proxied Jira): page each
                # issue's changelog instead.
                self.no_bulk = True
                self.result.notes.append("jira: no changelog bulkfetch on this server; "
                                         "read changelogs issue by issue")
                continue
            try:
                data = response.json()
            except ValueError:
                data, _ = self.api.json("POST", BULK_CHANGELOG, json_body=body)
            logs = data.get("issueChangeLogs") if isinstance(data, dict) else None
            for entry in logs or []:
                if not isinstance(entry, dict):
                    continue
                bucket = out.setdefault(str(entry.get("issueId")), [])
                known = {h.get("id") for h in bucket}
                bucket.extend(h for h in entry.get("changeHistories") or []
                              if isinstance(h, dict) and h.get("id") not in known)
            token = data.get("nextPageToken") if isinstance(data, dict) else None
            if not token:
                return out
            if token in seen:
                self.result.notes.append("jira: changelog bulkfetch repeated a nextPageToken; "
                                         "stopped paging")
                return out
            seen.add(token)
            body = {**body, "nextPageToken": token}

    def issue_changelog(self, issue: str) -> list[dict[str, Any]]:
        """`GET /rest/api/3/issue/{id}/changelog`, paged with startAt until `isLast`."""
        out: list[dict[str, Any]] = []
        path = f"/rest/api/3/issue/{issue}/changelog"
        while True:
            data, _ = self.api.get_json(path, {"startAt": len(out), "maxResults": 100})
            values = data.get("values") if isinstance(data, dict) else None
            if not values:
                return out
            out.extend(v for v in values if isinstance(v, dict))
            total = data.get("total")
            if data.get("isLast") is True or (isinstance(total, int) and len(out) >= total):
                return out

    # -- comments -------------------------------------------------------------------------
    def complete_comments(self, issue: dict[str, Any]) -> None:
        fields = issue.get("fields")
        page = fields.get("comment") if isinstance(fields, dict) else None
        if not isinstance(page, dict):
            return
        comments = page.get("comments") or []
        total = page.get("total")
        if not isinstance(total, int) or total <= len(comments):
            return
        path = f"/rest/api/3/issue/{issue.get('id') or issue['key']}/comment"
        got: list[dict[str, Any]] = []
        while len(got) < total:
            data, _ = self.api.get_json(path, {"startAt": len(got), "maxResults": 100,
                                               "orderBy": "created"})
            batch = data.get("comments") if isinstance(data, dict) else None
            if not batch:
                break
            got.extend(batch)
        fields["comment"] = {"comments": got, "maxResults": len(got), "total": len(got),
                             "startAt": 0}


def _changelog_truncated(issue: dict[str, Any]) -> bool:
    changelog = issue.get("changelog")
    if not isinstance(changelog, dict):
        return False
    histories = changelog.get("histories") or []
    total = changelog.get("total")
    return isinstance(total, int) and total > len(histories)


def _issue_key(issue: dict[str, Any]) -> str:
    """Issues are merged by id: a key changes when the issue moves to another project."""
    return str(issue.get("id") or issue.get("key"))

