"""Linear issues from GraphQL `issues` connection responses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models.sources.common import RecordError, connection, day, integer, opt, require, text, timestamp

_STATE_CATEGORY = {
    "backlog": "todo",
    "unstarted": "todo",
    "triage": "todo",
    "started": "in_progress",
    "completed": "done",
    "canceled": "canceled",
}


# https://linear.app/<workspace>/issue/<TEAM>-<number>[/<slug>]
_ISSUE_URL = re.compile(r"/issue/([A-Za-z][A-Za-z0-9_]*-\d+)(?:[/?#]|$)")


@dataclass(frozen=True, slots=True)
class LinearIssue:
    id: str
    identifier: str
    team_key: str | None
    title: str | None
    description: str | None
    url: str | None
    state_name: str | None
    state_type: str | None
    assignee: str | None
    assignee_email: str | None
    priority: int | None
    labels: list[str]
    created_at: datetime | None
    updated_at: datetime | None
    completed_at: datetime | None
    canceled_at: datetime | None
    due_date: Any
    cycle_number: int | None
    cycle_starts_at: datetime | None
    cycle_ends_at: datetime | None


@dataclass(frozen=True, slots=True)
class LinearEvent:
    identifier: str
    seq: int
    occurred_at: datetime | None
    field: str
    from_value: str | None
    to_value: str | None
    kind: str = "change"
    author: str | None = None
    body: str | None = None


def state_category(state_type: str | None) -> str | None:
    return _STATE_CATEGORY.get(state_type or "", state_type)


def identifier_from_url(url: str | None) -> str | None:
    """`DEV-1` from `https://linear.app/<workspace>/issue/DEV-1/<slug>`."""
    m = _ISSUE_URL.search(url) if isinstance(url, str) else None
    return m.group(1).upper() if m else None


def _identifier(node: dict[str, Any]) -> str:
    if opt(node, "identifier") is None:
        derived = identifier_from_url(opt(node, "url"))
        if derived is not None:
            return derived
        # A node queried without `identifier` and `url` (only `id`) cannot be joined to the
        # keys written in postmortems; the reason names it by its id so it can be re-fetched.
        if isinstance(node, dict) and node.get("id") is not None:
            raise RecordError(
                f"issue {node['id']} has no identifier (missing required field 'identifier', "
                "and no url naming it)"
            )
    identifier = text(require(node, "identifier"), "identifier")
    assert identifier is not None
    return identifier


def map_issue(node: dict[str, Any]) -> tuple[LinearIssue, list[LinearEvent]]:
    """One issue node; `identifier` may be absent when the node's `url` names it."""
    identifier = _identifier(node)
    label_nodes = connection(node, "labels")
    if not isinstance(label_nodes, list):
        raise RecordError("field 'labels.nodes' should be a list")
    issue = LinearIssue(
        id=text(require(node, "id"), "id"),  # type: ignore[arg-type]
        identifier=identifier,
        team_key=text(opt(node, "team", "key"), "team.key") or identifier.split("-")[0],
        title=text(opt(node, "title"), "title"),
        description=text(opt(node, "description"), "description"),
        url=text(opt(node, "url"), "url"),
        state_name=text(opt(node, "state", "name"), "state.name"),
        state_type=text(opt(node, "state", "type"), "state.type"),
        assignee=text(opt(node, "assignee", "name"), "assignee.name"),
        assignee_email=text(opt(node, "assignee", "email"), "assignee.email"),
        priority=integer(opt(node, "priority"), "priority"),
        labels=[str(n.get("name")) for n in label_nodes if isinstance(n, dict)],
        created_at=timestamp(opt(node, "createdAt"), "createdAt"),
        updated_at=timestamp(opt(node, "updatedAt"), "updatedAt"),
        completed_at=timestamp(opt(node, "completedAt"), "completedAt"),
        canceled_at=timestamp(opt(node, "canceledAt"), "canceledAt"),
        due_date=day(opt(node, "dueDate"), "dueDate"),
        cycle_number=integer(opt(node, "cycle", "number"), "cycle.number"),
        cycle_starts_at=timestamp(opt(node, "cycle", "startsAt"), "cycle.startsAt"),
        cycle_ends_at=timestamp(opt(node, "cycle", "endsAt"), "cycle.endsAt"),
    )
    events: list[LinearEvent] = []
    history = connection(node, "history")
    if not isinstance(history, list):
        raise RecordError("field 'history.nodes' should be a list")
    for seq, h in enumerate(history):
        if not isinstance(h, dict):
            raise RecordError("history entry should be an object")
        at = timestamp(opt(h, "createdAt"), "history.createdAt")
        pairs = {
            "dueDate": (opt(h, "fromDueDate"), opt(h, "toDueDate")),
            "cycle": (opt(h, "fromCycle", "number"), opt(h, "toCycle", "number")),
            "state": (opt(h, "fromState", "name"), opt(h, "toState", "name")),
            "assignee": (opt(h, "fromAssignee", "name"), opt(h, "toAssignee", "name")),
        }
        for field, (before, after) in pairs.items():
            if before is None and after is None:
                continue
            events.append(
                LinearEvent(
                    identifier=identifier,
                    seq=seq,
                    occurred_at=at,
                    field=field,
                    from_value=None if before is None else str(before),
                    to_value=None if after is None else str(after),
                    author=text(opt(h, "actor", "name"), "history.actor.name"),
                )
            )
    comments = connection(node, "comments")
    if not isinstance(comments, list):
        raise RecordError("field 'comments.nodes' should be a list")
    for i, c in enumerate(comments):
        if not isinstance(c, dict):
            raise RecordError("comment should be an object")
        events.append(
            LinearEvent(
                identifier=identifier,
                seq=len(history) + i,
                occurred_at=timestamp(opt(c, "createdAt"), "comments.createdAt"),
                field="comment",
                from_value=None,
                to_value=None,
                kind="comment",
                author=text(opt(c, "user", "name"), "comments.user.name"),
                body=text(opt(c, "body"), "comments.body"),
            )
        )
    return issue, events
