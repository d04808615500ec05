"""One HTTP client for every vendor: retries, rate limits and pagination, and no secret in a log.

Every wait (backoff, `Retry-After`, a rate-limit reset) goes through `sleep`, so tests can
count waits without spending them, and is bounded by `max_wait_s`: a limit that resets in an
hour stops the run with a clear error instead of hanging it.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

log = logging.getLogger("followthrough.connectors")

USER_AGENT = "followthrough (+https://github.com/followthrough)"


class ApiError(RuntimeError):
    """A request that failed for good, naming the source, the request and the reason."""

    def __init__(self, source: str, method: str, url: str, reason: str,
                 status: int | None = None) -> None:
        self.source = source
        self.status = status
        self.url = public_url(url)
        self.reason = reason
        where = f"{method} {self.url}"
        super().__init__(f"{source}: {where}: {reason}")


def public_url(url: str | httpx.URL) -> str:
    """The URL without its query or credentials: signed log URLs carry tokens in the query."""
    parts = urlsplit(str(url))
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_s: float = 0.5
    cap_s: float = 60.0
    max_wait_s: float = 900.0  # longest single wait for a rate limit to reset
    timeout_s: float = 30.0

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter (attempt counts from 1)."""
        return random.uniform(0, min(self.cap_s, self.base_s * 2 ** (attempt - 1)))


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds from a `Retry-After` header (seconds or an HTTP date)."""
    value = headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def rate_limit_wait(response: httpx.Response, now: float | None = None) -> float | None:
    """Seconds to wait before retrying a rate-limited response, or None if it is not one.

    GitHub: 429, or 403 with `x-ratelimit-remaining: 0` (primary limit, reset at
    `x-ratelimit-reset`) or a secondary limit (`retry-after`, or a body saying so: wait a
    minute). PagerDuty: 429 with `ratelimit-reset` seconds. Slack and others: 429 `Retry-After`.
    """
    status = response.status_code
    if status not in (403, 429):
        return None
    headers = response.headers
    now = time.time() if now is None else now
    wait = retry_after(headers, now)
    if wait is not None:
        return wait
    if headers.get("x-ratelimit-remaining") == "0" and headers.get("x-ratelimit-reset"):
        try:
            return max(1.0, float(headers["x-ratelimit-reset"]) - now + 1.0)
        except ValueError:
            pass
    if headers.get("ratelimit-reset"):
        try:
            return max(1.0, float(headers["ratelimit-reset"]))
        except ValueError:
            pass
    if status == 429:
        return 60.0
    if b"rate limit" in response.content[:2000].lower():
        return 60.0  # GitHub's secondary limit without headers: "wait at least one minute"
    return None


class ApiClient:
    """A vendor API at `base_url` with its auth headers; `request` retries what can succeed later."""

    def __init__(
        self,
        source: str,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rate_limited: Callable[[httpx.Response], float | None] = rate_limit_wait,
        auth: httpx.Auth | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.rate_limited = rate_limited
        self.requests = 0
        self.waited_s = 0.0
        self._http = httpx.Client(
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            timeout=self.policy.timeout_s,
            auth=auth,
            transport=transport,
            follow_redirects=False,
        )
        self._bare: httpx.Client | None = None  # no credentials: pre-signed download URLs

    def close(self) -> None:
        self._http.close()
        if self._bare is not None:
            self._bare.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def _wait(self, seconds: float, why: str, method: str, url: str) -> None:
        if seconds > self.policy.max_wait_s:
            raise ApiError(self.source, method, url,
                           f"{why}: would have to wait {seconds:.0f} s "
                           f"(more than {self.policy.max_wait_s:.0f} s); run again later")
        log.info("%s: %s; waiting %.1f s", self.source, why, seconds)
        self.waited_s += seconds
        self.sleep(seconds)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        ok: tuple[int, ...] = (),
        drop_auth: bool = False,
    ) -> httpx.Response:
        """The response once it is not a transient failure; raises ApiError after the last try.

        `ok` lists non-2xx statuses the caller handles itself (a 302 to a log, a 404 for a
        deleted record). `drop_auth` sends no credentials (a pre-signed download URL)."""
        url = self.url(path)
        attempt = 0
        while True:
            attempt += 1
            self.requests += 1
            try:
                if drop_auth:
                    if self._bare is None:
                        self._bare = httpx.Client(headers={"User-Agent": USER_AGENT},
                                                  timeout=self.policy.timeout_s,
                                                  follow_redirects=True)
                    response = self._bare.request(method, url, params=params, headers=headers)
                else:
                    response = self._http.request(method, url, params=params, json=json_body,
                                                  headers=headers)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                reason = f"{type(exc).__name__}"
                if attempt >= self.policy.max_attempts:
                    raise ApiError(self.source, method, url,
                                   f"{reason} after {attempt} attempts") from None
                self._wait(self.policy.backoff(attempt), reason, method, url)
                continue
            status = response.status_code
            if status in ok or 200 <= status < 300:
                self._polite(response, method, url)
                return response
            wait = self.rate_limited(response)
            if wait is not None:
                if attempt >= self.policy.max_attempts + 4:
                    raise ApiError(self.source, method, url, "still rate limited", status)
                self._wait(wait, f"rate limited (HTTP {status})", method, url)
                continue
            if status >= 500 or status == 408:
                if attempt >= self.policy.max_attempts:
                    raise ApiError(self.source, method, url,
                                   f"HTTP {status} after {attempt} attempts", status)
                self._wait(self.policy.backoff(attempt), f"HTTP {status}", method, url)
                continue
            raise ApiError(self.source, method, url, _describe(response), status)

    def _polite(self, response: httpx.Response, method: str, url: str) -> None:
        """An exhausted quota on a successful answer: wait for the reset before the next call."""
        h = response.headers
        if h.get("x-ratelimit-remaining") == "0" and h.get("x-ratelimit-reset"):
            try:
                wait = float(h["x-ratelimit-reset"]) - time.time() + 1.0
            except ValueError:
                return
            if wait > 0:
                self._wait(wait, "rate limit quota used up", method, url)

    def get_json(self, path: str, params: Mapping[str, Any] | None = None,
                 **kw: Any) -> tuple[Any, httpx.Response]:
        return self.json("GET", path, params=params, **kw)

    def json(self, method: str, path: str, **kw: Any) -> tuple[Any, httpx.Response]:
        """Parsed JSON; a truncated or non-JSON body is retried like a 5xx, then an ApiError."""
        attempt = 0
        while True:
            attempt += 1
            response = self.request(method, path, **kw)
            try:
                return response.json(), response
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                url = self.url(path)
                if attempt >= self.policy.max_attempts:
                    raise ApiError(self.source, method, url,
                                   f"response is not valid JSON ({exc})",
                                   response.status_code) from None
                self._wait(self.policy.backoff(attempt), "truncated JSON", method, url)

    def link_pages(self, path: str, params: Mapping[str, Any] | None = None,
                   ) -> Iterator[tuple[Any, httpx.Response]]:
        """Pages following `Link: <…>; rel="next"` (GitHub, GitLab keyset, Buildkite)."""
        url: str | None = self.url(path)
        query: Mapping[str, Any] | None = params
        seen: set[str] = set()
        while url:
            data, response = self.get_json(url, query)
            yield data, response
            nxt = response.links.get("next", {}).get("url")
            if not nxt or nxt in seen:
                return
            seen.add(nxt)
            url, query = nxt, None


def _describe(response: httpx.Response) -> str:
    """HTTP status and the vendor's message, without echoing request headers."""
    text = response.text[:300].strip()
    message = ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("message", "error", "errorMessages", "errors", "error_description"):
            if body.get(key):
                message = json.dumps(body[key]) if not isinstance(body[key], str) else body[key]
                break
    return f"HTTP {response.status_code}: {(message or text)[:300]}"
