"""Slack messages (`conversations.history` / `conversations.replies` items with `channel`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from models.logs.redact import redact
from models.sources.common import RecordError, integer, opt, require, text


@dataclass(frozen=True, slots=True)
class SlackMessage:
    channel_id: str
    channel_name: str | None
    ts: str
    thread_ts: str | None
    user_id: str | None
    subtype: str | None
    text: str | None
    reply_count: int | None
    posted_at: datetime


def posted_at(ts: Any) -> datetime:
    """The exact time of a Slack `ts` ("1512085950.000216"), microseconds kept (no float)."""
    if not isinstance(ts, str):
        raise RecordError(f"field 'ts' should be a string like '1512085950.000216', got {ts!r:.40}")
    try:
        value = Decimal(ts)
    except (InvalidOperation, ValueError):
        raise RecordError(f"field 'ts' is not a Slack timestamp: {ts!r:.40}") from None
    if not value.is_finite() or value < 0:
        raise RecordError(f"field 'ts' is not a Slack timestamp: {ts!r:.40}")
    seconds = int(value)
    micros = int((value - seconds) * 1_000_000)
    return datetime.fromtimestamp(seconds, tz=UTC) + timedelta(microseconds=micros)


def map_message(m: dict[str, Any]) -> SlackMessage:
    channel = opt(m, "channel")
    if isinstance(channel, str):
        channel = {"id": channel}
    if not isinstance(channel, dict):
        raise RecordError("missing required field 'channel' ({id, name})")
    ts = text(require(m, "ts"), "ts")
    assert ts is not None
    body = text(opt(m, "text"), "text")
    return SlackMessage(
        channel_id=str(text(require(channel, "id"), "channel.id")),
        channel_name=text(opt(channel, "name"), "channel.name"),
        ts=ts,
        thread_ts=text(opt(m, "thread_ts"), "thread_ts"),
        user_id=text(opt(m, "user") or opt(m, "bot_id"), "user"),
        subtype=text(opt(m, "subtype"), "subtype"),
        # Landed files are redacted already; an export written by other tools may not be.
        text=redact(body) if body else body,
        reply_count=integer(opt(m, "reply_count"), "reply_count"),
        posted_at=posted_at(ts),
    )
