"""Jira Cloud issues (search/jql with expand=changelog), their changelog and comments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models.sources.common import (
    RecordError,
    Skipped,
    adf_text,
    day,
    opt,
    require,
    text,
    timestamp,
)

SPRINT_FIELD = "customfield_10020"
_CATEGORY = {"new": "todo", "indeterminate": "in_progress", "done": "done"}


@dataclass(frozen=True, slots=True)
class JiraIssue:
    key: str
    issue_id: str | None
    project_key: str | None
    summary: str | None
    description: str | None
    issue_type: str | None
    status: str | None
    status_category: str | None
    assignee: str | None
    assignee_email: str | None
    priority: str | None
    labels: list[str]
    created_at: datetime | None
    updated_at: datetime | None
    resolved_at: datetime | None
    due_date: Any
    sprint: str | None
    sprint_start: datetime | None
    sprint_end: datetime | None
    url: str | None


@dataclass(frozen=True, slots=True)
class JiraEvent:
    key: str
    event_id: str
    seq: int
    occurred_at: datetime | None
    author: str | None
    kind: str
    field: str | None
    from_value: str | None
    to_value: str | None
    body: str | None


def _browse_url(self_url: str | None, key: str) -> str | None:
    if not self_url or "/rest/" not in self_url:
        return None
    return f"{self_url.split('/rest/', 1)[0]}/browse/{key}"


def _current_sprint(fields: dict[str, Any]) -> dict[str, Any] | None:
    sprints = fields.get(SPRINT_FIELD)
    if not isinstance(sprints, list) or not sprints:
        return None
    chosen = [s for s in sprints if isinstance(s, dict)]
    if not chosen:
        return None
    active = [s for s in chosen if s.get("state") == "active"]
    return (active or chosen)[-1]


def map_issue(
    issue: dict[str, Any], skipped: list[Skipped] | None = None
) -> tuple[JiraIssue, list[JiraEvent]]:
    """The issue and its events. With a `skipped` list, a malformed changelog entry or comment
    is left out and described there while the issue and its other events load; without one it
    makes the whole issue a `RecordError`."""
    key = text(require(issue, "key"), "key")
    assert key is not None
    fields = require(issue, "fields")
    if not isinstance(fields, dict):
        raise RecordError("field 'fields' should be an object")
    sprint = _current_sprint(fields)
    labels = fields.get("labels") or []
    if not isinstance(labels, list):
        raise RecordError("field 'labels' should be a list")
    category_key = opt(fields, "status", "statusCategory", "key")
    events = _events(key, issue, fields, skipped)
    resolved_at = timestamp(opt(fields, "resolutiondate"), "resolutiondate")
    if resolved_at is None and _CATEGORY.get(category_key) == "done":
        resolved_at = _done_at(issue, opt(fields, "status", "name"), opt(fields, "status", "id"))
    record = JiraIssue(
        key=key,
        issue_id=text(opt(issue, "id"), "id"),
        project_key=text(opt(fields, "project", "key"), "project.key") or key.split("-")[0],
        summary=text(opt(fields, "summary"), "summary"),
        description=adf_text(opt(fields, "description")),
        issue_type=text(opt(fields, "issuetype", "name"), "issuetype.name"),
        status=text(opt(fields, "status", "name"), "status.name"),
        status_category=_CATEGORY.get(category_key, category_key),
        assignee=text(opt(fields, "assignee", "displayName"), "assignee.displayName"),
        assignee_email=text(opt(fields, "assignee", "emailAddress"), "assignee.emailAddress"),
        priority=text(opt(fields, "priority", "name"), "priority.name"),
        labels=[str(label) for label in labels],
        created_at=timestamp(opt(fields, "created"), "created"),
        updated_at=timestamp(opt(fields, "updated"), "updated"),
        resolved_at=resolved_at,
        due_date=day(opt(fields, "duedate"), "duedate"),
        sprint=text(opt(sprint, "name"), "sprint.name") if sprint else None,
        sprint_start=timestamp(opt(sprint, "startDate"), "sprint.startDate") if sprint else None,
        sprint_end=timestamp(opt(sprint, "endDate"), "sprint.endDate") if sprint else None,
        url=_browse_url(text(opt(issue, "self"), "self"), key),
    )
    return record, events


def _done_at(issue: dict[str, Any], status: Any, status_id: Any) -> datetime | None:
    """When the issue last moved into its current (done) status, from the changelog.

    A changelog item names the target status by id (`to`) and name (`toString`), not by
    category, so a move counts when it targets the issue's current status."""
    name = str(status).casefold() if status is not None else None
    moves: list[datetime] = []
    for h in opt(issue, "changelog", "histories") or []:
        if not isinstance(h, dict) or not isinstance(h.get("items"), list):
            continue
        for item in h["items"]:
            if not isinstance(item, dict) or str(item.get("field") or "").casefold() != "status":
                continue
            to_name = item.get("toString")
            to_id = item.get("to")
            if (name is not None and isinstance(to_name, str) and to_name.casefold() == name) or (
                status_id is not None and to_id is not None and str(to_id) == str(status_id)
            ):
                try:
                    at = timestamp(opt(h, "created"), "changelog.histories[].created")
                except RecordError:
                    at = None
                if at is not None:
                    moves.append(at)
    return max(moves, default=None)


def _history_events(key: str, h: Any) -> list[JiraEvent]:
    if not isinstance(h, dict):
        raise RecordError("changelog history entry should be an object")
    hid = text(require(h, "id"), "changelog.histories[].id")
    at = timestamp(opt(h, "created"), "changelog.histories[].created")
    author = text(opt(h, "author", "displayName"), "author.displayName")
    items = h.get("items") or []
    if not isinstance(items, list):
        raise RecordError("field 'items' should be a list")
    out: list[JiraEvent] = []
    for seq, item in enumerate(items):
        if not isinstance(item, dict):
            raise RecordError("changelog item should be an object")
        out.append(
            JiraEvent(
                key=key,
                event_id=f"h{hid}",
                seq=seq,
                occurred_at=at,
                author=author,
                kind="change",
                field=text(item.get("field"), "items[].field"),
                from_value=text(item.get("fromString") or item.get("from"), "fromString"),
                to_value=text(item.get("toString") or item.get("to"), "toString"),
                body=None,
            )
        )
    return out


def _comment_event(key: str, c: Any) -> JiraEvent:
    if not isinstance(c, dict):
        raise RecordError("comment should be an object")
    return JiraEvent(
        key=key,
        event_id=f"c{text(require(c, 'id'), 'comment.id')}",
        seq=0,
        occurred_at=timestamp(opt(c, "created"), "comment.created"),
        author=text(opt(c, "author", "displayName"), "comment.author"),
        kind="comment",
        field=None,
        from_value=None,
        to_value=None,
        body=adf_text(opt(c, "body")),
    )


def _events(
    key: str, issue: dict[str, Any], fields: dict[str, Any], skipped: list[Skipped] | None
) -> list[JiraEvent]:
    events: list[JiraEvent] = []
    histories = opt(issue, "changelog", "histories") or []
    if not isinstance(histories, list):
        raise RecordError("field 'changelog.histories' should be a list")
    comments = opt(fields, "comment", "comments") or []
    if not isinstance(comments, list):
        raise RecordError("field 'comment.comments' should be a list")
    parts = [("changelog entry", i, h) for i, h in enumerate(histories)]
    parts += [("comment", i, c) for i, c in enumerate(comments)]
    for what, i, part in parts:
        try:
            if what == "comment":
                events.append(_comment_event(key, part))
            else:
                events.extend(_history_events(key, part))
        except RecordError as exc:
            if skipped is None:
                raise
            skipped.append(Skipped(f"issue {key}: {what} {i} left out: {exc}", part))
    return events
