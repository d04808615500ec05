"""GitHub Issues as a ticket tracker: issues updated since the cursor, and each one's timeline.

Issues are listed with `since` (less the overlap), sorted by `updated` ascending, so the cursor
can advance page by page: everything updated before it has been landed. Pull requests come back
from the same endpoint and are skipped. For each issue listed, its timeline is read in full
(state changes, labels, assignments, milestones, renames, comments) and kept whole, so a rerun
replaces an issue's events with the same records.

Timeline items do not name their issue; the connector adds `issue` ({number, url, html_url,
repository_url}), as GitHub's repository-wide issue events carry it, so the loader can map
each event alone. Issue bodies and comments are redacted before they are written.
"""

from __future__ import annotations

import re
from typing import Any

from models.connectors.base import FetchContext, FetchResult, iso, parse_time
from models.connectors.config import GitHubIssuesConfig
from models.connectors.github import headers
from models.connectors.http import ApiClient
from models.connectors.landing import month_of, slug
from models.logs.redact import redact

# Timeline items that change what followthrough reads about a ticket; others (mentions,
# subscriptions, cross-references, commits) are dropped.
KEPT_EVENTS = frozenset({
    "closed", "reopened", "labeled", "unlabeled", "assigned", "unassigned", "milestoned",
    "demilestoned", "renamed", "commented",
})
_REPO_RE = re.compile(r"^[\w.-]+/[\w.-]+$")


def issues_file(repo: str, created_at: str | None) -> str:
    return f"github_issues/issues/{month_of(created_at)}.{slug(repo)}.json"


def events_file(repo: str, created_at: str | None) -> str:
    return f"github_issues/events/{month_of(created_at)}.{slug(repo)}.json"


def event_key(e: dict[str, Any]) -> str:
    """Comments and issue events are numbered apart, so the kind is part of the key."""
    return f"{e.get('event')}:{e.get('id')}"


def fetch(cfg: GitHubIssuesConfig, ctx: FetchContext) -> FetchResult:
    result = FetchResult("github_issues")
    for repo in cfg.repos:
        if not _REPO_RE.match(repo):
            raise ValueError(f"github_issues: repos: expected 'owner/name', got {repo!r}")
    token = ctx.secret("github_issues", cfg)
    with ApiClient("github_issues", cfg.api_url, headers(token), policy=ctx.policy(cfg),
                   sleep=ctx.sleep) as api:
        state = ctx.landing.load_state("github_issues")
        repos_state = state.setdefault("repos", {})
        for repo in cfg.repos:
            _repo(api, cfg, ctx, result, repo, repos_state.setdefault(repo, {}),
                  lambda: ctx.landing.save_state("github_issues", state))
        result.requests = api.requests
        result.waited_s = api.waited_s
    return result


def _repo(api: ApiClient, cfg: GitHubIssuesConfig, ctx: FetchContext, result: FetchResult,
          repo: str, state: dict[str, Any], save: Any) -> None:
    since = ctx.start(state.get("cursor"), cfg.overlap_minutes)
    params: dict[str, Any] = {"state": "all", "since": iso(since), "sort": "updated",
                              "direction": "asc", "per_page": cfg.page_size}
    if cfg.labels:
        params["labels"] = ",".join(cfg.labels)
    newest = parse_time(state.get("cursor"))
    for page, _ in api.link_pages(f"/repos/{repo}/issues", params):
        if not isinstance(page, list):
            raise ValueError(f"github_issues: GET /repos/{repo}/issues: expected a JSON array")
        for item in page:
            updated = parse_time(item.get("updated_at"))
            if updated is not None and (newest is None or updated > newest):
                newest = updated
            if "pull_request" in item:
                continue
            issue = _redacted_issue(item)
            ctx.landing.stage(issues_file(repo, issue.get("created_at")), [issue],
                              lambda r: r["id"])
            result.records += 1
            events = _timeline(api, cfg, repo, issue)
            if events:
                ctx.landing.stage(events_file(repo, issue.get("created_at")), events, event_key)
                result.records += len(events)
        # Everything on this page is landed before the cursor moves past it.
        ctx.landing.flush()
        if newest is not None:
            state["cursor"] = iso(newest)
        save()
        ctx.progress(f"github_issues {repo}", result.records, None)


def _timeline(api: ApiClient, cfg: GitHubIssuesConfig, repo: str,
              issue: dict[str, Any]) -> list[dict[str, Any]]:
    number = issue["number"]
    ref = {k: issue.get(k) for k in ("number", "url", "html_url", "repository_url")}
    kept: list[dict[str, Any]] = []
    for page, _ in api.link_pages(f"/repos/{repo}/issues/{number}/timeline",
                                  {"per_page": cfg.page_size}):
        for e in page if isinstance(page, list) else []:
            kind = e.get("event")
            if kind not in KEPT_EVENTS or e.get("id") is None:
                continue
            if kind == "commented" and not cfg.comments:
                continue
            e = dict(e)
            if isinstance(e.get("body"), str):
                e["body"] = redact(e["body"])
            e["issue"] = ref
            kept.append(e)
    return kept


def _redacted_issue(item: dict[str, Any]) -> dict[str, Any]:
    issue = dict(item)
    if isinstance(issue.get("body"), str):
        issue["body"] = redact(issue["body"])
    return issue
