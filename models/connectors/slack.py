"""Slack incident channels: messages and thread replies, for the incident timeline.

Channels come from `conversations.list` (public and private, archived ones too: incident
channels are archived when the incident closes) and are kept when their name matches one of
the configured globs (`#inc-*`) or their id is listed. Each channel's `conversations.history`
is read from its cursor less the overlap; Slack pages it newest first, so the channel's cursor
moves only once every page of it has landed. Threads are read with `conversations.replies`;
threads whose parent is up to `thread_days` older than the window are read again, since a
late reply does not bring its parent back into the history window.

Slack answers errors with HTTP 200 and `{"ok": false, "error": "..."}`: those become an
`ApiError` naming the error, except `ratelimited`, which is waited out like a 429.
Messages land with every text redacted, and with `channel` ({id, name}) added, as Slack's
search results carry it, so each record maps on its own.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from models.connectors.base import FetchContext, FetchResult, iso, parse_time
from models.connectors.config import SlackConfig
from models.connectors.http import ApiClient, ApiError, retry_after
from models.connectors.landing import day_of, slug
from models.logs.redact import redact

CHANNEL_TYPES = "public_channel,private_channel"
# Message fields that hold identifiers or times, never free text: left as Slack sent them.
_VERBATIM = frozenset({"ts", "thread_ts", "latest_reply", "last_read", "user", "bot_id", "team",
                       "type", "subtype", "parent_user_id", "client_msg_id", "app_id", "id"})


def ts_time(ts: str | None) -> datetime | None:
    """A Slack `ts` ("1512085950.000216") as an exact UTC time, microseconds included."""
    if not ts:
        return None
    try:
        value = Decimal(ts)
    except (InvalidOperation, ValueError):
        return None
    seconds = int(value)
    micros = int((value - seconds) * 1_000_000)
    return datetime.fromtimestamp(seconds, tz=UTC) + timedelta(microseconds=micros)


def ts_of(dt: datetime) -> str:
    """The Slack `ts` form of a time, for `oldest`/`latest`."""
    return f"{int(dt.timestamp())}.{dt.microsecond:06d}"


def messages_file(channel_name: str, ts: str | None) -> str:
    at = ts_time(ts)
    return f"slack/messages/{day_of(at.isoformat() if at else None)}.{slug(channel_name)}.json"


def redact_message(value: Any, key: str | None = None) -> Any:
    """Every free-text string of a message (text, blocks, attachments, files) redacted."""
    if isinstance(value, str):
        return value if key in _VERBATIM else redact(value)
    if isinstance(value, dict):
        return {k: redact_message(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_message(v, key) for v in value]
    return value


class _Slack:
    def __init__(self, api: ApiClient) -> None:
        self.api = api

    def call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """One Web API method; `ok: false` is an error naming Slack's `error` code."""
        attempt = 0
        while True:
            attempt += 1
            data, response = self.api.get_json(method, params)
            if not isinstance(data, dict):
                raise ApiError("slack", "GET", self.api.url(method), "response is not a JSON object")
            if data.get("ok") is True:
                return data
            error = str(data.get("error") or "unknown_error")
            if error == "ratelimited" and attempt < self.api.policy.max_attempts:
                # Slack sends 429 for this; a gateway that answers 200 still means "wait".
                self.api._wait(retry_after(response.headers) or 60.0,
                               "rate limited (ok: false, ratelimited)", "GET", self.api.url(method))
                continue
            detail = ""
            meta = data.get("response_metadata")
            if isinstance(meta, dict) and meta.get("messages"):
                detail = f" ({'; '.join(map(str, meta['messages']))[:200]})"
            if data.get("needed"):
                detail += f" (needed scope: {data['needed']})"
            raise ApiError("slack", "GET", self.api.url(method), f"Slack error {error}{detail}", 200)

    def pages(self, method: str, params: dict[str, Any], key: str) -> Iterator[list[Any]]:
        """Cursor pagination over `response_metadata.next_cursor`."""
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            query = dict(params)
            if cursor:
                query["cursor"] = cursor
            data = self.call(method, query)
            items = data.get(key) or []
            yield items if isinstance(items, list) else []
            meta = data.get("response_metadata") or {}
            cursor = meta.get("next_cursor") if isinstance(meta, dict) else None
            if not cursor or cursor in seen:
                return
            seen.add(cursor)


def wanted(channel: dict[str, Any], patterns: tuple[str, ...]) -> bool:
    name = str(channel.get("name") or "")
    for p in patterns:
        p = p.strip()
        if p == channel.get("id") or fnmatch.fnmatchcase(name, p.lstrip("#").lower()):
            return True
    return False


def fetch(cfg: SlackConfig, ctx: FetchContext) -> FetchResult:
    result = FetchResult("slack")
    token = ctx.secret("slack", cfg)
    with ApiClient("slack", cfg.api_url, {"Authorization": f"Bearer {token}"},
                   policy=ctx.policy(cfg), sleep=ctx.sleep) as api:
        slack = _Slack(api)
        channels: list[dict[str, Any]] = []
        for page in slack.pages("conversations.list",
                                {"types": CHANNEL_TYPES, "exclude_archived": "false",
                                 "limit": cfg.page_size}, "channels"):
            channels.extend(c for c in page if isinstance(c, dict) and wanted(c, cfg.channels))
        channels.sort(key=lambda c: str(c.get("id")))
        state = ctx.landing.load_state("slack")
        per_channel = state.setdefault("channels", {})
        for ch in channels:
            if ch.get("is_member") is False:
                # Bot tokens read only channels the bot was invited to (`not_in_channel`).
                result.notes.append(f"slack: #{ch.get('name')} ({ch['id']}): the app is not a "
                                    "member; invite it to read the channel")
                continue
            _channel(slack, cfg, ctx, result, ch, per_channel.setdefault(str(ch["id"]), {}))
            ctx.landing.save_state("slack", state)
        result.requests = api.requests
        result.waited_s = api.waited_s
    return result


def _channel(slack: _Slack, cfg: SlackConfig, ctx: FetchContext, result: FetchResult,
             ch: dict[str, Any], state: dict[str, Any]) -> None:
    cid, name = str(ch["id"]), str(ch.get("name") or ch["id"])
    ref = {"id": cid, "name": name}
    # Files keep the name the channel had when first read, so a renamed channel's messages
    # stay in one file each.
    file_name = str(state.get("file_name") or name)
    start = ctx.start(state.get("cursor"), cfg.overlap_minutes)
    newest = parse_time(state.get("cursor"))
    threads: dict[str, str] = dict(state.get("threads") or {})
    landed: list[dict[str, Any]] = []
    for page in slack.pages("conversations.history",
                            {"channel": cid, "oldest": ts_of(start), "inclusive": "true",
                             "limit": cfg.page_size}, "messages"):
        for m in page:
            if not isinstance(m, dict) or not m.get("ts"):
                continue
            landed.append(m)
            if m.get("reply_count") and m.get("thread_ts") == m.get("ts"):
                threads[m["ts"]] = str(m.get("latest_reply") or m["ts"])
    # Threads started in the window, and recent older ones that may have new replies.
    floor = start - timedelta(days=cfg.thread_days)
    for thread_ts in sorted(threads):
        posted = ts_time(thread_ts)
        if posted is None or posted < floor:
            threads.pop(thread_ts)
            continue
        for page in slack.pages("conversations.replies",
                                {"channel": cid, "ts": thread_ts, "limit": cfg.page_size},
                                "messages"):
            landed.extend(m for m in page if isinstance(m, dict) and m.get("ts"))
    for m in landed:
        at = ts_time(m["ts"])
        if at is not None and (newest is None or at > newest):
            newest = at
        record = redact_message(m)
        record["channel"] = ref
        ctx.landing.stage(messages_file(file_name, m["ts"]), [record], lambda r: r["ts"])
    result.records += len(landed)
    ctx.landing.flush()
    if newest is not None:
        state["cursor"] = _iso_micro(newest)
    state["name"] = name
    state["file_name"] = file_name
    state["threads"] = threads
    ctx.progress(f"slack #{name}", result.records, None)


def _iso_micro(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z") if dt.microsecond else iso(dt)
