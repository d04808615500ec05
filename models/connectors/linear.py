"""Linear (GraphQL): issues updated since the cursor, with their labels, history and comments.

Linear answers query errors with HTTP 200 and an `errors` array, and rate limiting with HTTP 400
whose `errors[].extensions.code` is `RATELIMITED` (reset time in `X-RateLimit-*-Reset`, epoch
milliseconds). A personal API key goes in `Authorization` as is; only an OAuth token takes
"Bearer ". Nested connections (history, comments, labels) are read in pages of their own when an
issue has more than fit in the issues page.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from models.connectors.base import FetchContext, FetchResult, iso, parse_time
from models.connectors.config import LinearConfig
from models.connectors.http import ApiClient, ApiError, rate_limit_wait
from models.connectors.landing import Shape, month_of

ISSUES = Shape(("data", "issues", "nodes"))
NESTED_PAGE = 50
FLUSH_EVERY = 500

_HISTORY = """
      createdAt
      actor { name }
      fromDueDate
      toDueDate
      fromCycle { number }
      toCycle { number }
      fromState { name }
      toState { name }
      fromAssignee { name }
      toAssignee { name }"""
_COMMENT = """
      body
      createdAt
      user { name }"""

ISSUES_QUERY = f"""query FollowthroughIssues($filter: IssueFilter, $first: Int, $after: String,
  $orderBy: PaginationOrderBy, $nested: Int) {{
  issues(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {{
    nodes {{
      id
      identifier
      title
      description
      url
      createdAt
      updatedAt
      completedAt
      canceledAt
      dueDate
      priority
      state {{ name type }}
      assignee {{ name email }}
      team {{ key name }}
      cycle {{ number startsAt endsAt }}
      labels(first: $nested) {{ nodes {{ name }} pageInfo {{ hasNextPage endCursor }} }}
      history(first: $nested) {{
        nodes {{ id{_HISTORY} }}
        pageInfo {{ hasNextPage endCursor }}
      }}
      comments(first: $nested) {{
        nodes {{ id{_COMMENT} }}
        pageInfo {{ hasNextPage endCursor }}
      }}
    }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}"""

NESTED_QUERIES = {
    "history": f"""query FollowthroughIssueHistory($id: String!, $first: Int, $after: String) {{
  issue(id: $id) {{
    history(first: $first, after: $after) {{
      nodes {{ id{_HISTORY} }}
      pageInfo {{ hasNextPage endCursor }}
    }}
  }}
}}""",
    "comments": f"""query FollowthroughIssueComments($id: String!, $first: Int, $after: String) {{
  issue(id: $id) {{
    comments(first: $first, after: $after) {{
      nodes {{ id{_COMMENT} }}
      pageInfo {{ hasNextPage endCursor }}
    }}
  }}
}}""",
    "labels": """query FollowthroughIssueLabels($id: String!, $first: Int, $after: String) {
  issue(id: $id) {
    labels(first: $first, after: $after) {
      nodes { name }
      pageInfo { hasNextPage endCursor }
    }
  }
}""",
}


def authorization(token: str, auth: str = "") -> str:
    """A personal API key is sent as is ("Bearer" makes Linear reject it); OAuth takes Bearer."""
    if auth not in ("", "api_key", "oauth"):
        raise ValueError(f"sources.linear.auth: expected 'api_key' or 'oauth', got {auth!r}")
    oauth = auth == "oauth" or (auth == "" and token.startswith("lin_oauth_"))
    return f"Bearer {token}" if oauth else token


def _error_codes(response: httpx.Response) -> list[str]:
    try:
        body = response.json()
    except ValueError:
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    codes = []
    for err in errors or []:
        ext = err.get("extensions") if isinstance(err, dict) else None
        if isinstance(ext, dict) and ext.get("code"):
            codes.append(str(ext["code"]))
    return codes


def rate_limit_waiter(now: Callable[[], float] = time.time) -> Callable[[httpx.Response],
                                                                         float | None]:
    """`rate_limited=` for ApiClient: Linear's HTTP 400 RATELIMITED, or a plain 429."""
    strikes = [0]

    def wait(response: httpx.Response) -> float | None:
        if response.status_code == 400 and "RATELIMITED" in _error_codes(response):
            strikes[0] += 1
            return _reset_wait(response.headers, now()) or min(60.0, 2.0 ** strikes[0])
        if response.status_code == 429:
            return _reset_wait(response.headers, now()) or rate_limit_wait(response)
        return None

    return wait


def _reset_wait(headers: httpx.Headers, now: float) -> float | None:
    """Seconds until the exhausted budget (requests or complexity) resets."""
    candidates = []
    for kind in ("Requests", "Complexity"):
        reset = headers.get(f"X-RateLimit-{kind}-Reset")
        remaining = headers.get(f"X-RateLimit-{kind}-Remaining")
        if not reset:
            continue
        try:
            at = float(reset) / 1000.0
        except ValueError:
            continue
        if remaining is None or remaining.strip() in ("0", "0.0") or kind == "Requests":
            candidates.append(max(1.0, at - now + 1.0))
    return max(candidates) if candidates else None


def fetch(cfg: LinearConfig, ctx: FetchContext) -> FetchResult:
    result = FetchResult("linear")
    token = ctx.secret("linear", cfg)
    headers = {"Authorization": authorization(token, cfg.auth),
               "Content-Type": "application/json"}
    with ApiClient("linear", cfg.api_url, headers, policy=ctx.policy(cfg), sleep=ctx.sleep,
                   rate_limited=rate_limit_waiter()) as api:
        _Reader(api, cfg, ctx, result).run()
        result.requests = api.requests
        result.waited_s = api.waited_s
    return result


class _Reader:
    def __init__(self, api: ApiClient, cfg: LinearConfig, ctx: FetchContext,
                 result: FetchResult) -> None:
        self.api = api
        self.cfg = cfg
        self.ctx = ctx
        self.result = result

    def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """`data` of a GraphQL answer; `errors` (which arrive with HTTP 200) raise ApiError."""
        data, _ = self.api.json("POST", self.api.base_url, json_body={"query": query, "variables": variables})
        if not isinstance(data, dict):
            raise ApiError("linear", "POST", self.api.base_url, "response is not a JSON object")
        errors = data.get("errors")
        if errors:
            messages = "; ".join(
                str(e.get("message") if isinstance(e, dict) else e) for e in errors)[:500]
            raise ApiError("linear", "POST", self.api.base_url, f"GraphQL error: {messages}", 200)
        body = data.get("data")
        if not isinstance(body, dict):
            raise ApiError("linear", "POST", self.api.base_url, "response has no data")
        return body

    def run(self) -> None:
        state = self.ctx.landing.load_state("linear")
        start = self.ctx.start(state.get("cursor"), self.cfg.overlap_minutes)
        flt: dict[str, Any] = {"updatedAt": {"gte": iso(start)}}
        if self.cfg.teams:
            flt["team"] = {"key": {"in": list(self.cfg.teams)}}
        newest = parse_time(state.get("cursor"))
        staged = 0
        for page in self.issue_pages(flt):
            for node in page:
                self.complete(node)
                month = month_of(node.get("createdAt"))
                self.ctx.landing.stage(f"linear/issues/{month}.json", [node],
                                       lambda n: n["id"], ISSUES)
                updated = parse_time(node.get("updatedAt"))
                if updated is not None and (newest is None or updated > newest):
                    newest = updated
            self.result.records += len(page)
            staged += len(page)
            if staged >= FLUSH_EVERY:
                self.ctx.landing.flush()  # memory stays flat; the cursor waits for the end
                staged = 0
            self.ctx.progress("linear issues", self.result.records, None)
        self.ctx.landing.flush()
        # Linear does not promise an order for `orderBy: updatedAt`, so the cursor moves
        # only once the whole range was read.
        if newest is not None:
            state["cursor"] = iso(newest)
            self.ctx.landing.save_state("linear", state)

    def issue_pages(self, flt: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        after: str | None = None
        seen: set[str] = set()
        while True:
            variables = {"filter": flt, "first": self.cfg.page_size, "after": after,
                         "orderBy": "updatedAt", "nested": NESTED_PAGE}
            conn = self.graphql(ISSUES_QUERY, variables).get("issues") or {}
            nodes = [n for n in conn.get("nodes") or [] if isinstance(n, dict) and n.get("id")]
            if nodes:
                yield nodes
            info = conn.get("pageInfo") or {}
            after = info.get("endCursor")
            if not info.get("hasNextPage") or not after:
                return
            if after in seen:
                self.result.notes.append("linear: issues repeated an endCursor; stopped paging")
                return
            seen.add(after)

    def complete(self, node: dict[str, Any]) -> None:
        """Read the rest of a nested connection that did not fit in the issues page."""
        for name in ("history", "comments", "labels"):
            conn = node.get(name)
            if not isinstance(conn, dict):
                continue
            info = conn.get("pageInfo") or {}
            nodes = list(conn.get("nodes") or [])
            after = info.get("endCursor")
            seen: set[str] = set()
            while info.get("hasNextPage") and after and after not in seen:
                seen.add(after)
                body = self.graphql(NESTED_QUERIES[name],
                                    {"id": node["id"], "first": NESTED_PAGE, "after": after})
                more = ((body.get("issue") or {}).get(name)) or {}
                nodes.extend(more.get("nodes") or [])
                info = more.get("pageInfo") or {}
                after = info.get("endCursor")
            node[name] = {"nodes": nodes}

