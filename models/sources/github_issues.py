"""GitHub issues (REST `GET /repos/{owner}/{repo}/issues`) and their timeline events."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models.sources.common import RecordError, integer, opt, require, text, timestamp

# `.../repos/<owner>/<repo>` on api.github.com and on GitHub Enterprise Server (`/api/v3/repos`)
_API_REPO_RE = re.compile(r"/repos/([^/]+/[^/]+?)(?:/|$)")
# `https://github.com/<owner>/<repo>/issues/<n>`
_HTML_REPO_RE = re.compile(r"https?://[^/]+/([^/]+/[^/]+)/issues/\d+")
# Labels that state a priority: "P1", "p2: high", "priority:high", "priority/critical",
# "Priority - Low".
_P_LABEL_RE = re.compile(r"^\s*[Pp]([0-4])\b")
_PRIORITY_LABEL_RE = re.compile(
    r"^\s*(?:priority|prio|pri)\s*[:/=\- ]\s*(.+?)\s*$", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class GitHubIssue:
    issue_id: int
    repo: str
    number: int
    ticket_key: str
    title: str | None
    body: str | None
    state: str | None
    state_reason: str | None
    url: str | None
    author: str | None
    assignee: str | None
    assignees: list[str]
    labels: list[str]
    priority: str | None
    issue_type: str | None
    milestone: str | None
    milestone_due_on: datetime | None
    comments: int | None
    created_at: datetime | None
    updated_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class GitHubIssueEvent:
    ticket_key: str
    event_id: str
    occurred_at: datetime | None
    author: str | None
    event: str
    kind: str  # 'change' or 'comment'
    field: str | None
    from_value: str | None
    to_value: str | None
    body: str | None


def repo_of(record: Any) -> str:
    """`owner/repo` from `repository_url`, else from `html_url`."""
    for key, rx in (("repository_url", _API_REPO_RE), ("html_url", _HTML_REPO_RE),
                    ("url", _API_REPO_RE)):
        value = opt(record, key)
        if isinstance(value, str):
            m = rx.search(value)
            if m:
                return m.group(1)
    raise RecordError("cannot tell the repository: no repository_url or html_url")


def label_names(labels: Any) -> list[str]:
    """Label objects (`{"name": ...}`) or plain names, as the API returns either."""
    if labels is None:
        return []
    if not isinstance(labels, list):
        raise RecordError("field 'labels' should be a list")
    out: list[str] = []
    for lab in labels:
        name = lab.get("name") if isinstance(lab, dict) else lab
        if isinstance(name, str) and name:
            out.append(name)
    return out


def priority_of(labels: list[str]) -> str | None:
    """The priority a label states ("P1", "high"), for core.tickets to normalise."""
    for name in labels:
        m = _P_LABEL_RE.match(name)
        if m:
            return f"P{m.group(1)}"
    for name in labels:
        m = _PRIORITY_LABEL_RE.match(name)
        if m:
            return m.group(1)
    return None


def ticket_key(repo: str, number: int) -> str:
    return f"{repo}#{number}"


def map_issue(i: dict[str, Any]) -> GitHubIssue:
    if opt(i, "pull_request") is not None:
        raise RecordError("a pull request, not an issue")
    issue_id = integer(require(i, "id"), "id")
    number = integer(require(i, "number"), "number")
    assert issue_id is not None and number is not None
    repo = repo_of(i)
    assignees = opt(i, "assignees") or []
    if not isinstance(assignees, list):
        raise RecordError("field 'assignees' should be a list")
    logins = [str(a["login"]) for a in assignees if isinstance(a, dict) and a.get("login")]
    assignee = text(opt(i, "assignee", "login"), "assignee.login") or (logins[0] if logins else None)
    if assignee and assignee not in logins:
        logins.insert(0, assignee)
    labels = label_names(opt(i, "labels"))
    issue_type = opt(i, "type")
    return GitHubIssue(
        issue_id=issue_id,
        repo=repo,
        number=number,
        ticket_key=ticket_key(repo, number),
        title=text(opt(i, "title"), "title"),
        body=text(opt(i, "body"), "body"),
        state=text(opt(i, "state"), "state"),
        state_reason=text(opt(i, "state_reason"), "state_reason"),
        url=text(opt(i, "html_url"), "html_url"),
        author=text(opt(i, "user", "login"), "user.login"),
        assignee=assignee,
        assignees=logins,
        labels=labels,
        priority=priority_of(labels),
        issue_type=text(opt(issue_type, "name") if isinstance(issue_type, dict) else issue_type,
                        "type.name"),
        milestone=text(opt(i, "milestone", "title"), "milestone.title"),
        milestone_due_on=timestamp(opt(i, "milestone", "due_on"), "milestone.due_on"),
        comments=integer(opt(i, "comments"), "comments"),
        created_at=timestamp(opt(i, "created_at"), "created_at"),
        updated_at=timestamp(opt(i, "updated_at"), "updated_at"),
        closed_at=timestamp(opt(i, "closed_at"), "closed_at"),
    )


def _change(event: str, e: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(field, from, to) of one timeline event, in core.ticket_events' vocabulary."""
    if event == "closed":
        reason = text(opt(e, "state_reason"), "state_reason")
        return "status", "open", "closed" + (f" ({reason})" if reason else "")
    if event == "reopened":
        return "status", "closed", "open"
    if event in ("labeled", "unlabeled"):
        name = text(opt(e, "label", "name"), "label.name")
        return ("labels", None, name) if event == "labeled" else ("labels", name, None)
    if event in ("assigned", "unassigned"):
        login = text(opt(e, "assignee", "login"), "assignee.login")
        return ("assignee", None, login) if event == "assigned" else ("assignee", login, None)
    if event in ("milestoned", "demilestoned"):
        title = text(opt(e, "milestone", "title"), "milestone.title")
        return ("Sprint", None, title) if event == "milestoned" else ("Sprint", title, None)
    if event == "renamed":
        return ("title", text(opt(e, "rename", "from"), "rename.from"),
                text(opt(e, "rename", "to"), "rename.to"))
    return event, None, None


def map_event(e: dict[str, Any]) -> GitHubIssueEvent:
    event = text(require(e, "event"), "event")
    assert event is not None
    event_id = text(require(e, "id"), "id")
    issue = opt(e, "issue")
    if not isinstance(issue, dict):
        raise RecordError("missing required field 'issue' (the issue the event belongs to)")
    number = integer(require(issue, "number"), "issue.number")
    assert number is not None
    key = ticket_key(repo_of(issue), number)
    if event == "commented":
        return GitHubIssueEvent(
            ticket_key=key,
            event_id=f"comment:{event_id}",
            occurred_at=timestamp(opt(e, "created_at"), "created_at"),
            author=text(opt(e, "user", "login") or opt(e, "actor", "login"), "user.login"),
            event=event,
            kind="comment",
            field=None,
            from_value=None,
            to_value=None,
            body=text(opt(e, "body"), "body"),
        )
    field, before, after = _change(event, e)
    return GitHubIssueEvent(
        ticket_key=key,
        event_id=f"event:{event_id}",
        occurred_at=timestamp(opt(e, "created_at"), "created_at"),
        author=text(opt(e, "actor", "login"), "actor.login"),
        event=event,
        kind="change",
        field=field,
        from_value=before,
        to_value=after,
        body=None,
    )
