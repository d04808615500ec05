"""Field access that turns a malformed vendor record into a `RecordError` with a reason."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any


class RecordError(ValueError):
    """A record that does not have the shape its source promises."""


@dataclass(frozen=True, slots=True)
class Skipped:
    """A malformed part of a record (a changelog entry, a comment) left out while the rest loads."""

    reason: str
    part: Any


def connection(record: Any, key: str) -> Any:
    """Items of a GraphQL connection field: `{nodes: [...]}` or the Relay `{edges: [{node}]}`."""
    conn = opt(record, key)
    if conn is None:
        return []
    if not isinstance(conn, Mapping):
        return conn if isinstance(conn, list) else []
    if conn.get("nodes") is not None:
        return conn["nodes"]
    edges = conn.get("edges")
    if isinstance(edges, list):
        return [e.get("node") if isinstance(e, Mapping) else e for e in edges]
    return edges or []


def require(record: Any, key: str) -> Any:
    if not isinstance(record, Mapping):
        raise RecordError(f"expected an object, got {type(record).__name__}")
    if key not in record or record[key] is None:
        raise RecordError(f"missing required field '{key}'")
    return record[key]


def opt(record: Mapping[str, Any], *path: str) -> Any:
    """Nested optional lookup: opt(r, 'status', 'name') is r['status']['name'] or None."""
    cur: Any = record
    for key in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(key)
        if cur is None:
            return None
    return cur


def text(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise RecordError(f"field '{field}' should be text, got {type(value).__name__}")


def integer(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise RecordError(f"field '{field}' should be an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise RecordError(f"field '{field}' should be an integer, got {value!r:.40}")


def timestamp(value: Any, field: str) -> datetime | None:
    """ISO 8601 with any offset (`Z`, `+0000`, `-08:00`) -> aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        # Some Jira fields are epoch milliseconds in the published examples.
        seconds = value / 1000 if abs(value) > 1e11 else value
        return datetime.fromtimestamp(seconds, tz=UTC)
    if not isinstance(value, str):
        raise RecordError(f"field '{field}' should be an ISO timestamp, got {value!r:.40}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise RecordError(f"field '{field}' is not an ISO timestamp: {value!r:.40}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def day(value: Any, field: str) -> date | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RecordError(f"field '{field}' should be a date, got {value!r:.40}")
    try:
        return date.fromisoformat(value[:10])
    except ValueError as exc:
        raise RecordError(f"field '{field}' is not a date: {value!r:.40}") from exc


def adf_text(node: Any) -> str | None:
    """Plain text of an Atlassian Document Format body (Jira v3), or the string itself."""
    if node is None or isinstance(node, str):
        return node
    parts: list[str] = []

    def walk(n: Any) -> None:
        if isinstance(n, Mapping):
            if n.get("type") == "text" and isinstance(n.get("text"), str):
                parts.append(n["text"])
            for child in n.get("content") or ():
                walk(child)
            if n.get("type") in {"paragraph", "heading", "listItem", "codeBlock"}:
                parts.append("\n")
        elif isinstance(n, list):
            for child in n:
                walk(child)

    walk(node)
    return "".join(parts).strip() or None
