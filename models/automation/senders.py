"""Tracker and Slack requests: what each vendor is sent for a draft, and how it is sent once.

`payload_for` builds the exact request body stored in the outbox (so a dry run shows precisely
what would go out). Each sender first looks the idempotency key up in the tracker (a label, or a
marker in the description) and only creates when nothing carries it: a crash after the tracker
accepted but before the outbox recorded it is found, not repeated. The create request itself is
sent once per attempt (no transport-level retry of a POST that may have landed); retrying is the
outbox's job, after the look-up.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from models.automation.config import TargetConfig
from models.automation.tickets import TicketDraft
from models.connectors.http import ApiClient, ApiError, RetryPolicy

INCIDENT_LABEL = "incident"
LINEAR_PRIORITY = {"SEV1": 1, "SEV2": 2, "SEV3": 3}


class SendError(RuntimeError):
    """A vendor refused the message (Slack `ok: false`, a GraphQL error) or answered oddly."""


@dataclass(frozen=True)
class Delivered:
    external_key: str
    external_url: str
    found: bool = False  # already in the tracker (an earlier attempt landed): nothing created


# Follow-ups on an existing ticket ("fix did not hold"): the payload names the operation, the
# ticket, the request body, and a marker text the comment carries so a retry finds it.
TICKET_OPS = ("reopen", "comment")
# Jira transitions that take an issue back into work: a name containing "reopen", or a
# transition or target status named exactly like a way back ("To Do", "Back to In Progress").
_REOPEN_WORDS = ("reopen", "re-open")
_REOPEN_NAMES = ("to do", "todo", "open", "back to in progress", "back to to do", "in progress")


# --- Atlassian Document Format -------------------------------------------------------------

def _text(text: str, *marks: dict[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": text}
    if marks:
        node["marks"] = list(marks)
    return node


def _fact(label: str, value: str) -> dict[str, Any]:
    content = [_text(f"{label}: ", {"type": "strong"})]
    if value.startswith(("http://", "https://")):
        content.append(_text(value, {"type": "link", "attrs": {"href": value}}))
    else:
        content.append(_text(value))
    return {"type": "paragraph", "content": content}


def adf(draft: TicketDraft) -> dict[str, Any]:
    """The description as an ADF document (Jira Cloud REST v3 takes no plain text)."""
    content: list[dict[str, Any]] = [_fact(k, v) for k, v in draft.facts()]
    content.append({"type": "heading", "attrs": {"level": 3},
                    "content": [_text("Failure excerpt (redacted)")]})
    content.append({"type": "codeBlock", "attrs": {},
                    "content": [_text("\n".join(draft.excerpt))]})
    content.append({"type": "heading", "attrs": {"level": 3}, "content": [_text("History")]})
    content.append({"type": "bulletList", "content": [
        {"type": "listItem", "content": [{"type": "paragraph", "content": [_text(line)]}]}
        for line in draft.history_lines()]})
    content.append({"type": "paragraph", "content": [
        _text(f"Opened by followthrough ({draft.idempotency_key}).", {"type": "em"})]})
    return {"type": "doc", "version": 1, "content": content}


def comment_adf(lines: list[str], code: list[str] | None = None) -> dict[str, Any]:
    """An ADF comment body: one paragraph per line (links marked), an optional code block."""
    content: list[dict[str, Any]] = []
    for line in lines:
        parts: list[dict[str, Any]] = []
        for word in line.split(" "):
            if parts:
                parts.append(_text(" "))
            if word.startswith(("http://", "https://")):
                parts.append(_text(word, {"type": "link", "attrs": {"href": word}}))
            elif word:
                parts.append(_text(word))
        merged: list[dict[str, Any]] = []
        for node in parts:  # adjacent plain text nodes become one
            if merged and "marks" not in node and "marks" not in merged[-1]:
                merged[-1] = _text(merged[-1]["text"] + node["text"])
            else:
                merged.append(node)
        if merged and any(n["text"].strip() for n in merged):
            content.append({"type": "paragraph", "content": merged})
    if code:
        content.append({"type": "codeBlock", "attrs": {}, "content": [_text("\n".join(code))]})
    return {"type": "doc", "version": 1, "content": content}


def adf_plain(node: Any) -> str:
    """The text of an ADF document (for finding a marker in a comment)."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict):
        return node.get("text", "") + " ".join(adf_plain(c) for c in node.get("content") or [])
    return ""


def _is_reopen(transition: dict[str, Any]) -> bool:
    to = transition.get("to") or {}
    names = (str(transition.get("name", "")).lower(), str(to.get("name", "")).lower())
    category = ((to.get("statusCategory") or {}).get("key") or "").lower()
    if category == "done":
        return False
    return any(w in n for w in _REOPEN_WORDS for n in names) or \
        any(n in _REOPEN_NAMES for n in names)


def labels(draft: TicketDraft) -> list[str]:
    return [INCIDENT_LABEL, draft.key_label, draft.severity.lower()]


def linear_issue_id(key: str) -> str:
    """A UUID v4-shaped id derived from the key: Linear accepts a client-chosen issue id, so a
    second create of the same key is refused by Linear itself."""
    return str(uuid.UUID(bytes=hashlib.sha256(key.encode()).digest()[:16], version=4))


def payload_for(target: TargetConfig, draft: TicketDraft) -> dict[str, Any]:
    """The request body for `target` (one of jira, linear, github)."""
    if target.name == "jira":
        return {"fields": {
            "project": {"key": target.project or "INCIDENT"},
            "issuetype": {"name": target.issue_type},
            "summary": draft.title[:255],
            "description": adf(draft),
            "labels": labels(draft),
        }, "update": {}}
    if target.name == "linear":
        return {
            "query": LINEAR_CREATE,
            "variables": {"input": {
                "id": linear_issue_id(draft.idempotency_key),
                "teamId": target.team_id or "TEAM_ID",
                "title": draft.title,
                "description": draft.markdown(),
                "priority": LINEAR_PRIORITY.get(draft.severity, 4),
            }},
        }
    if target.name == "github":
        return {"repo": target.repo or draft.repo, "title": draft.title,
                "body": draft.markdown(), "labels": labels(draft)}
    raise ValueError(f"no ticket payload for target {target.name!r}")


def slack_payload(channel: str, text: str, key: str) -> dict[str, Any]:
    """`chat.postMessage` arguments; the key rides along as message metadata."""
    return {"channel": channel, "text": text, "unfurl_links": False,
            "metadata": {"event_type": "followthrough_alert", "event_payload": {"key": key}}}


def alert_text(draft: TicketDraft, ticket_ref: str) -> str:
    lines = [f":rotating_light: *{draft.title}*",
             f"Ticket: {ticket_ref}",
             f"Severity {draft.severity} — rule {draft.rule}",
             f"Merged by {draft.merged_by}; commit {draft.sha[:12]}; "
             f"job {draft.job_name} (step {draft.failed_step})"]
    lines += draft.history[:2]
    return "\n".join(lines)


# --- Senders ---------------------------------------------------------------------------------

class Sender(Protocol):
    def deliver(self, key: str, payload: dict[str, Any]) -> Delivered: ...

    def close(self) -> None: ...


def _clients(source: str, base: str, headers: Mapping[str, str], target: TargetConfig,
             sleep: Callable[[float], None],
             auth: Any = None) -> tuple[ApiClient, ApiClient]:
    """(reader, writer): look-ups retry like any GET; a create is tried once per send."""
    read = RetryPolicy(max_attempts=target.max_attempts, timeout_s=target.timeout_s,
                       max_wait_s=120.0)
    write = RetryPolicy(max_attempts=1, timeout_s=target.timeout_s, max_wait_s=120.0)
    return (ApiClient(source, base, headers, policy=read, sleep=sleep, auth=auth),
            ApiClient(source, base, headers, policy=write, sleep=sleep, auth=auth))


class _Base:
    reader: ApiClient
    writer: ApiClient

    def close(self) -> None:
        self.reader.close()
        self.writer.close()


class JiraSender(_Base):
    def __init__(self, target: TargetConfig, env: Mapping[str, str],
                 sleep: Callable[[float], None]) -> None:
        cred = f"{target.email(env)}:{target.token(env)}".encode()
        headers = {"Authorization": "Basic " + base64.b64encode(cred).decode(),
                   "Accept": "application/json"}
        self.site = target.api_url.rstrip("/")
        self.reader, self.writer = _clients("jira", self.site, headers, target, sleep)

    def find(self, key_label: str) -> Delivered | None:
        data, _ = self.reader.get_json("/rest/api/3/search/jql", {
            "jql": f'labels = "{key_label}" ORDER BY created ASC', "fields": "summary",
            "maxResults": 1})
        issues = data.get("issues") or [] if isinstance(data, dict) else []
        if not issues:
            return None
        key = issues[0]["key"]
        return Delivered(key, f"{self.site}/browse/{key}", found=True)

    def deliver(self, key: str, payload: dict[str, Any]) -> Delivered:
        if payload.get("op") in TICKET_OPS:
            return self.follow_up(payload)
        label = next(x for x in payload["fields"]["labels"] if x.startswith("followthrough-"))
        found = self.find(label)
        if found:
            return found
        data, _ = self.writer.json("POST", "/rest/api/3/issue", json_body=payload)
        if not isinstance(data, dict) or not data.get("key"):
            raise SendError(f"jira: create-issue answered without a key: {str(data)[:200]}")
        return Delivered(data["key"], f"{self.site}/browse/{data['key']}")


    def follow_up(self, payload: dict[str, Any]) -> Delivered:
        """Reopen (a transition named like one, when the workflow has it) and comment; a comment
        already carrying the marker means an earlier attempt landed."""
        issue, marker = payload["issue"], payload["marker"]
        url = f"{self.site}/browse/{issue}"
        data, _ = self.reader.get_json(f"/rest/api/3/issue/{issue}/comment",
                                       {"orderBy": "-created", "maxResults": 100})
        for c in (data.get("comments") or []) if isinstance(data, dict) else []:
            if marker in adf_plain(c.get("body")):
                return Delivered(f"{issue} comment {c.get('id')}", url, found=True)
        done = "commented"
        if payload["op"] == "reopen":
            data, _ = self.reader.get_json(f"/rest/api/3/issue/{issue}/transitions")
            found = [t for t in (data.get("transitions") or []) if _is_reopen(t)] \
                if isinstance(data, dict) else []
            if found:
                self.writer.request("POST", f"/rest/api/3/issue/{issue}/transitions",
                                    json_body={"transition": {"id": str(found[0]["id"])}})
                done = f"reopened ({found[0].get('name')}) and commented"
            else:
                done = "commented (no reopen transition)"
        data, _ = self.writer.json("POST", f"/rest/api/3/issue/{issue}/comment",
                                   json_body=payload["request"])
        if not isinstance(data, dict) or not data.get("id"):
            raise SendError(f"jira: add-comment answered without an id: {str(data)[:200]}")
        return Delivered(f"{issue} comment {data['id']}: {done}", url)


LINEAR_CREATE = (
    "mutation IssueCreate($input: IssueCreateInput!) { issueCreate(input: $input) "
    "{ success issue { id identifier url } } }"
)
LINEAR_COMMENT = (
    "mutation CommentCreate($input: CommentCreateInput!) { commentCreate(input: $input) "
    "{ success comment { id url } } }"
)
LINEAR_COMMENTS = (
    "query IssueComments($id: String!) { issue(id: $id) { id identifier url "
    "comments(first: 100) { nodes { id body url } } } }"
)
LINEAR_FIND = (
    "query FindIssue($marker: String!) { issues(first: 1, filter: "
    "{ description: { contains: $marker } }) { nodes { id identifier url } } }"
)


def linear_rate_limited(response: Any) -> float | None:
    """Linear signals limits as HTTP 400 with `RATELIMITED` in the GraphQL errors."""
    if response.status_code == 400 and b"RATELIMITED" in response.content[:4000]:
        return 60.0
    return None if response.status_code != 429 else 60.0


class LinearSender(_Base):
    def __init__(self, target: TargetConfig, env: Mapping[str, str],
                 sleep: Callable[[float], None]) -> None:
        token = target.token(env) or ""
        auth = token if not token.startswith("lin_oauth_") else f"Bearer {token}"
        self.endpoint = target.api_url
        self.reader, self.writer = _clients("linear", target.api_url,
                                            {"Authorization": auth}, target, sleep)
        for client in (self.reader, self.writer):
            client.rate_limited = linear_rate_limited

    def _graphql(self, client: ApiClient, query: str, variables: dict[str, Any]) -> Any:
        data, _ = client.json("POST", self.endpoint, json_body={"query": query, "variables": variables})
        if not isinstance(data, dict) or data.get("errors"):
            errors = data.get("errors") if isinstance(data, dict) else data
            raise SendError(f"linear: {str(errors)[:300]}")
        return data["data"]

    def deliver(self, key: str, payload: dict[str, Any]) -> Delivered:
        if payload.get("op") in TICKET_OPS:
            return self.follow_up(payload)
        marker = f"followthrough:{key}"
        nodes = self._graphql(self.reader, LINEAR_FIND, {"marker": marker})["issues"]["nodes"]
        if nodes:
            return Delivered(nodes[0]["identifier"], nodes[0]["url"], found=True)
        result = self._graphql(self.writer, payload["query"], payload["variables"])
        created = result.get("issueCreate") or {}
        if not created.get("success") or not created.get("issue"):
            raise SendError(f"linear: issueCreate did not succeed: {str(created)[:200]}")
        issue = created["issue"]
        return Delivered(issue["identifier"], issue["url"])


    def follow_up(self, payload: dict[str, Any]) -> Delivered:
        """Linear: a comment (reopening needs the team's workflow state ids)."""
        issue_id, marker = payload["issue_id"], payload["marker"]
        found = self._graphql(self.reader, LINEAR_COMMENTS, {"id": issue_id})
        issue = found.get("issue") or {}
        for c in (issue.get("comments") or {}).get("nodes") or []:
            if marker in (c.get("body") or ""):
                return Delivered(f"{issue.get('identifier', issue_id)} comment {c.get('id')}",
                                 c.get("url") or issue.get("url", ""), found=True)
        result = self._graphql(self.writer, payload["query"], payload["variables"])
        created = result.get("commentCreate") or {}
        if not created.get("success") or not created.get("comment"):
            raise SendError(f"linear: commentCreate did not succeed: {str(created)[:200]}")
        c = created["comment"]
        return Delivered(f"{payload.get('issue', issue_id)} comment {c['id']}: commented",
                         c.get("url") or issue.get("url", ""))


class GitHubSender(_Base):
    def __init__(self, target: TargetConfig, env: Mapping[str, str],
                 sleep: Callable[[float], None]) -> None:
        headers = {"Authorization": f"Bearer {target.token(env)}",
                   "Accept": "application/vnd.github+json",
                   "X-GitHub-Api-Version": "2022-11-28"}
        self.reader, self.writer = _clients("github_issues", target.api_url, headers, target,
                                            sleep)

    def deliver(self, key: str, payload: dict[str, Any]) -> Delivered:
        if payload.get("op") in TICKET_OPS:
            return self.follow_up(payload)
        repo = payload["repo"]
        label = next(x for x in payload["labels"] if x.startswith("followthrough-"))
        data, _ = self.reader.get_json(f"/repos/{repo}/issues",
                                       {"labels": label, "state": "all", "per_page": 1})
        if isinstance(data, list) and data:
            return Delivered(f"{repo}#{data[0]['number']}", data[0]["html_url"], found=True)
        body = {k: v for k, v in payload.items() if k != "repo"}
        data, _ = self.writer.json("POST", f"/repos/{repo}/issues", json_body=body)
        if not isinstance(data, dict) or "number" not in data:
            raise SendError(f"github: create-issue answered without a number: {str(data)[:200]}")
        return Delivered(f"{repo}#{data['number']}", data["html_url"])


    def follow_up(self, payload: dict[str, Any]) -> Delivered:
        """Reopen (PATCH state=open) and comment, unless a comment carrying the marker exists."""
        repo, number, marker = payload["repo"], payload["number"], payload["marker"]
        base = f"/repos/{repo}/issues/{number}"
        for page, _ in self.reader.link_pages(f"{base}/comments", {"per_page": 100}):
            for c in page if isinstance(page, list) else []:
                if marker in (c.get("body") or ""):
                    return Delivered(f"{repo}#{number} comment {c.get('id')}",
                                     c.get("html_url", ""), found=True)
        done = "commented"
        if payload["op"] == "reopen":
            self.writer.json("PATCH", base, json_body={"state": "open",
                                                        "state_reason": "reopened"})
            done = "reopened and commented"
        data, _ = self.writer.json("POST", f"{base}/comments", json_body=payload["request"])
        if not isinstance(data, dict) or "id" not in data:
            raise SendError(f"github: create-comment answered without an id: {str(data)[:200]}")
        return Delivered(f"{repo}#{number} comment {data['id']}: {done}",
                         data.get("html_url", ""))


class SlackSender(_Base):
    def __init__(self, target: TargetConfig, env: Mapping[str, str],
                 sleep: Callable[[float], None]) -> None:
        headers = {"Authorization": f"Bearer {target.token(env)}"}
        self.reader, self.writer = _clients("slack", target.api_url, headers, target, sleep)

    def deliver(self, key: str, payload: dict[str, Any]) -> Delivered:
        data, _ = self.writer.json("POST", "/chat.postMessage", json_body=payload)
        if not isinstance(data, dict) or not data.get("ok"):
            error = data.get("error") if isinstance(data, dict) else "not a JSON object"
            raise SendError(f"slack: chat.postMessage: {error}")
        channel, ts = data.get("channel", payload["channel"]), data.get("ts", "")
        return Delivered(f"{channel}/{ts}", f"slack://channel?id={channel}&message={ts}")


def _smtp_sender(target: TargetConfig, env: Mapping[str, str],
                 sleep: Callable[[float], None]) -> Sender:
    from models.automation.smtp import SmtpSender  # smtp imports this module

    return SmtpSender(target, env, sleep)


SENDERS: dict[str, Callable[[TargetConfig, Mapping[str, str], Callable[[float], None]], Sender]]
SENDERS = {
    "jira": JiraSender, "linear": LinearSender, "github": GitHubSender, "slack": SlackSender,
    "smtp": _smtp_sender,
}

__all__ = ["SENDERS", "TICKET_OPS", "ApiError", "Delivered", "SendError", "comment_adf",
           "payload_for", "slack_payload"]
