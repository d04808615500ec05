"""`automation.outbox`: every message is a row before it is a request, so nothing is sent twice
and nothing is lost.

A row is enqueued once per idempotency key (`INSERT ... ON CONFLICT DO NOTHING`); a send that
fails is retried from `next_attempt_at` with exponential backoff; a row whose target is not live
is stored as `dry_run` with the exact request it would have made.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

STATUSES = ("pending", "sent", "failed", "dry_run")


@dataclass(frozen=True)
class OutboxRow:
    idempotency_key: str
    kind: str
    target: str
    status: str
    payload: dict[str, Any]
    rule: str | None
    severity: str | None
    event_at: datetime | None
    created_at: datetime
    sent_at: datetime | None
    external_key: str | None
    external_url: str | None
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None


_COLUMNS = ", ".join(OutboxRow.__dataclass_fields__)


def now_utc() -> datetime:
    return datetime.now(UTC)


def enqueue(conn: duckdb.DuckDBPyConnection, *, key: str, kind: str, target: str,
            payload: dict[str, Any], live: bool, rule: str | None = None,
            severity: str | None = None, event_at: datetime | None = None,
            now: datetime | None = None) -> bool:
    """Add a row unless its key is already there; True when it was added."""
    status = "pending" if live else "dry_run"
    before = conn.execute("SELECT count(*) FROM automation.outbox WHERE idempotency_key = ?",
                          [key]).fetchone()
    conn.execute(
        "INSERT INTO automation.outbox (idempotency_key, kind, target, status, payload, rule, "
        "severity, event_at, created_at, attempts, next_attempt_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?) ON CONFLICT DO NOTHING",
        [key, kind, target, status, json.dumps(payload, sort_keys=True), rule, severity,
         event_at, now or now_utc(), (now or now_utc()) if live else None])
    return not (before and before[0])


def get(conn: duckdb.DuckDBPyConnection, key: str) -> OutboxRow | None:
    rows = _rows(conn, "WHERE idempotency_key = ?", [key])
    return rows[0] if rows else None


def rows(conn: duckdb.DuckDBPyConnection, status: str | None = None) -> list[OutboxRow]:
    if status is None:
        return _rows(conn, "", [])
    return _rows(conn, "WHERE status = ?", [status])


def due(conn: duckdb.DuckDBPyConnection, now: datetime, max_sends: int) -> list[OutboxRow]:
    """Rows to send now: pending, or failed with attempts left and their backoff elapsed."""
    return _rows(
        conn,
        "WHERE status IN ('pending', 'failed') AND attempts < ? "
        "AND (next_attempt_at IS NULL OR next_attempt_at <= ?)",
        [max_sends, now])


def _rows(conn: duckdb.DuckDBPyConnection, where: str, params: list[Any]) -> list[OutboxRow]:
    cur = conn.execute(
        f"SELECT {_COLUMNS} FROM automation.outbox {where} ORDER BY created_at, idempotency_key",
        params)
    out = []
    for values in cur.fetchall():
        data = dict(zip(OutboxRow.__dataclass_fields__, values, strict=True))
        data["payload"] = json.loads(data["payload"]) if data["payload"] else {}
        out.append(OutboxRow(**data))
    return out


def mark_sent(conn: duckdb.DuckDBPyConnection, key: str, external_key: str,
              external_url: str, now: datetime) -> None:
    conn.execute(
        "UPDATE automation.outbox SET status = 'sent', sent_at = ?, external_key = ?, "
        "external_url = ?, attempts = attempts + 1, last_error = NULL, next_attempt_at = NULL "
        "WHERE idempotency_key = ?", [now, external_key, external_url, key])


def mark_failed(conn: duckdb.DuckDBPyConnection, key: str, error: str, now: datetime, *,
                base_s: float, cap_s: float) -> datetime:
    """Record the error and when to try again (doubling from `base_s`, at most `cap_s`)."""
    row = conn.execute("SELECT attempts FROM automation.outbox WHERE idempotency_key = ?",
                       [key]).fetchone()
    attempts = int(row[0]) + 1 if row else 1
    retry_at = now + timedelta(seconds=min(cap_s, base_s * 2 ** (attempts - 1)))
    conn.execute(
        "UPDATE automation.outbox SET status = 'failed', attempts = ?, last_error = ?, "
        "next_attempt_at = ? WHERE idempotency_key = ?",
        [attempts, error[:1000], retry_at, key])
    return retry_at


def counts(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return dict(conn.execute(
        "SELECT status, count(*) FROM automation.outbox GROUP BY status").fetchall())
