"""Test helpers for repeat alerts, follow-ups on tickets, digests and email.

- `mount_followups(trackers)`: Jira comments and transitions, GitHub issue PATCH and comments,
  and Linear `commentCreate` on the fake trackers' server, each checking the request body
  against the vendor's documented fields (tests/fixtures/vendors) and answering in its shape.
- `SmtpServer`: a minimal SMTP server on 127.0.0.1 (socketserver; EHLO, AUTH PLAIN, MAIL, RCPT,
  DATA, RSET, NOOP, QUIT) that parses what it receives and can refuse or fail on request.
- `seed_repeats(conn, now)`: CI failures of one cluster with a prior ticket and postmortem,
  including one after its fix closed, plus old history that must not be alerted.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import socketserver
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from tests.models.automation.fakes import LEAKED, VENDORS, Trackers, adf_problems
from tests.vendor_server import Request

GITHUB_UPDATE_FIELDS = {"title", "body", "assignee", "state", "state_reason", "milestone",
                        "labels", "assignees", "type"}
GITHUB_STATE_REASONS = {"completed", "not_planned", "duplicate", "reopened", None}


def vendor(name: str) -> Any:
    return json.loads((VENDORS / name).read_text(encoding="utf-8"))


@dataclass
class FollowUps:
    """What the fake trackers received as comments, transitions and state changes."""

    trackers: Trackers
    jira_comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    jira_transitions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    jira_moved: list[tuple[str, str]] = field(default_factory=list)  # (issue, transition id)
    github_comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    github_patches: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    linear_comments: list[dict[str, Any]] = field(default_factory=list)

    def invalid(self, problems: list[str]) -> None:
        self.trackers.invalid += problems

    # --- Jira ---
    def transitions_for(self, issue: str) -> list[dict[str, Any]]:
        if issue not in self.jira_transitions:
            self.jira_transitions[issue] = vendor("jira_transitions_list.json")["transitions"]
        return self.jira_transitions[issue]

    def _jira_transitions(self, req: Request) -> tuple[int, dict[str, str], Any]:
        issue = req.match.group(1) if req.match else ""
        if req.method == "GET":
            return 200, {}, {"expand": "transitions", "transitions": self.transitions_for(issue)}
        spec = vendor("jira_comment_request_fields.json")["DoTransition"]
        body = req.json()
        problems = [f"unknown field {k}" for k in body if k not in spec["fields"]]
        tid = (body.get("transition") or {}).get("id")
        if not isinstance(tid, str) or tid not in {t["id"] for t in self.transitions_for(issue)}:
            problems.append(f"Transition id '{tid}' is not valid for this issue.")
        if problems:
            self.invalid(problems)
            return 400, {}, {"errorMessages": problems, "errors": {}}
        self.jira_moved.append((issue, tid))
        # Once reopened, only the close transition is left.
        self.jira_transitions[issue] = [t for t in self.transitions_for(issue)
                                        if t["to"]["statusCategory"]["key"] == "done"]
        return 204, {}, b""

    def _jira_comment(self, req: Request) -> tuple[int, dict[str, str], Any]:
        issue = req.match.group(1) if req.match else ""
        comments = self.jira_comments.setdefault(issue, [])
        if req.method == "GET":
            return 200, {}, {"comments": comments, "maxResults": 100, "startAt": 0,
                             "total": len(comments)}
        spec = vendor("jira_comment_request_fields.json")["AddComment"]
        body = req.json()
        problems = [f"unknown field {k}" for k in body if k not in spec["fields"]]
        problems += adf_problems(body.get("body"), "description")
        if problems:
            self.invalid(problems)
            return 400, {}, {"errorMessages": problems, "errors": {}}
        answer = copy.deepcopy(vendor("jira_comment_response.json"))
        cid = str(10000 + sum(len(c) for c in self.jira_comments.values()))
        answer.update(id=cid, body=body["body"],
                      self=f"{self.trackers.url}/rest/api/3/issue/{issue}/comment/{cid}")
        comments.append(answer)
        return 201, {}, answer

    # --- GitHub ---
    def _github_patch(self, req: Request) -> tuple[int, dict[str, str], Any]:
        assert req.match is not None
        key = f"{req.match.group(1)}/{req.match.group(2)}#{req.match.group(3)}"
        body = req.json()
        problems = [f"unknown field {k}" for k in body if k not in GITHUB_UPDATE_FIELDS]
        if body.get("state") not in (None, "open", "closed"):
            problems.append("state must be open or closed")
        if body.get("state_reason", None) not in GITHUB_STATE_REASONS:
            problems.append("state_reason is not one of the allowed values")
        if problems:
            self.invalid(problems)
            return 422, {}, {"message": "Validation Failed", "errors": problems}
        self.github_patches.append((key, body))
        answer = copy.deepcopy(vendor("github_issue_create_response.json"))
        answer.update(number=int(req.match.group(3)), state=body.get("state", "open"))
        return 200, {}, answer

    def _github_comments(self, req: Request) -> tuple[int, dict[str, str], Any]:
        assert req.match is not None
        repo, number = f"{req.match.group(1)}/{req.match.group(2)}", req.match.group(3)
        comments = self.github_comments.setdefault(f"{repo}#{number}", [])
        if req.method == "GET":
            return 200, {}, comments
        body = req.json()
        problems = [f"unknown field {k}" for k in body if k != "body"]
        if not isinstance(body.get("body"), str) or not body["body"]:
            problems.append("body is required")
        if problems:
            self.invalid(problems)
            return 422, {}, {"message": "Validation Failed", "errors": problems}
        answer = copy.deepcopy(vendor("github_issue_comment_response.json"))
        cid = 1900 + sum(len(c) for c in self.github_comments.values())
        answer.update(id=cid, body=body["body"],
                      html_url=f"https://github.com/{repo}/issues/{number}#issuecomment-{cid}")
        comments.append(answer)
        return 201, {}, answer

    # --- Linear ---
    def _linear(self, req: Request) -> tuple[int, dict[str, str], Any]:
        body = req.json()
        query, variables = body.get("query", ""), body.get("variables") or {}
        if "commentCreate" in query:
            spec = vendor("linear_comment_create_input.json")
            data = variables.get("input") or {}
            allowed = set(spec["CommentCreateInput"]["fields"])
            problems = [f"unknown CommentCreateInput field {k}" for k in data if k not in allowed]
            if not data.get("issueId") or not data.get("body"):
                problems.append("commentCreate needs issueId and body")
            if problems:
                self.invalid(problems)
                return 200, {}, {"errors": [{"message": p} for p in problems]}
            n = len(self.linear_comments) + 1
            comment = {"id": f"comment-{n}", "body": data["body"], "issueId": data["issueId"],
                       "url": f"https://linear.app/quayside-dev/comment/{n}"}
            self.linear_comments.append(comment)
            answer = copy.deepcopy(spec["CommentPayload"])
            answer["data"]["commentCreate"]["comment"] = {"id": comment["id"],
                                                          "url": comment["url"]}
            return 200, {}, answer
        if "issue(id:" in query:
            wanted = variables.get("id")
            nodes = [{k: c[k] for k in ("id", "body", "url")}
                     for c in self.linear_comments if c["issueId"] == wanted]
            return 200, {}, {"data": {"issue": {"id": wanted, "identifier": wanted,
                                                "url": f"https://linear.app/i/{wanted}",
                                                "comments": {"nodes": nodes}}}}
        return self.trackers._linear(req)


def mount_followups(trackers: Trackers) -> FollowUps:
    f = FollowUps(trackers)
    s = trackers.server
    s.route("GET", r"/rest/api/3/issue/([A-Z]+-\d+)/transitions", f._jira_transitions)
    s.route("POST", r"/rest/api/3/issue/([A-Z]+-\d+)/transitions", f._jira_transitions)
    s.route("GET", r"/rest/api/3/issue/([A-Z]+-\d+)/comment", f._jira_comment)
    s.route("POST", r"/rest/api/3/issue/([A-Z]+-\d+)/comment", f._jira_comment)
    s.route("PATCH", r"/github/repos/([^/]+)/([^/]+)/issues/(\d+)", f._github_patch)
    s.route("GET", r"/github/repos/([^/]+)/([^/]+)/issues/(\d+)/comments", f._github_comments)
    s.route("POST", r"/github/repos/([^/]+)/([^/]+)/issues/(\d+)/comments", f._github_comments)
    s.routes.insert(0, ("POST", re.compile(r"/linear/graphql$"), f._linear))
    return f


# --- SMTP ------------------------------------------------------------------------------------

@dataclass
class Received:
    mail_from: str
    rcpt_to: list[str]
    message: EmailMessage


class SmtpServer:
    """A minimal SMTP server on 127.0.0.1 that records parsed messages.

    `auth` = (user, password) requires AUTH PLAIN before MAIL; `refuse` lists recipients
    answered 550; `fail_data` queues reply codes (e.g. 451) for the next DATA commands.
    """

    def __init__(self, auth: tuple[str, str] | None = None, starttls: bool = False) -> None:
        self.auth = auth
        self.starttls = starttls
        self.received: list[Received] = []
        self.refuse: set[str] = set()
        self.fail_data: list[int] = []
        self.commands: list[str] = []
        self.logins: list[tuple[str, str]] = []
        server = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write((line + "\r\n").encode())

            def handle(self) -> None:
                self.reply("220 fake.smtp.local ESMTP ready")
                authed = server.auth is None
                mail_from, rcpts = "", []
                while True:
                    raw = self.rfile.readline()
                    if not raw:
                        return
                    line = raw.decode("utf-8", "replace").rstrip("\r\n")
                    verb = line.split(" ", 1)[0].upper()
                    server.commands.append(verb)
                    if verb == "EHLO":
                        caps = ["250-fake.smtp.local", "250-8BITMIME", "250-SIZE 10485760"]
                        if server.auth:
                            caps.append("250-AUTH PLAIN")
                        if server.starttls:
                            caps.append("250-STARTTLS")
                        caps.append("250 SMTPUTF8")
                        for c in caps:
                            self.reply(c)
                    elif verb == "HELO":
                        self.reply("250 fake.smtp.local")
                    elif verb == "AUTH":
                        parts = line.split()
                        if len(parts) < 3 or parts[1].upper() != "PLAIN":
                            self.reply("504 5.5.4 only AUTH PLAIN with an initial response")
                            continue
                        _, user, password = base64.b64decode(parts[2]).decode().split("\0")
                        server.logins.append((user, password))
                        if (user, password) == server.auth:
                            authed = True
                            self.reply("235 2.7.0 Authentication successful")
                        else:
                            self.reply("535 5.7.8 Authentication credentials invalid")
                    elif verb == "MAIL":
                        if not authed:
                            self.reply("530 5.7.0 Authentication required")
                            continue
                        mail_from = re.sub(r"^MAIL FROM:\s*<?([^>\s]*)>?.*$", r"\1", line,
                                           flags=re.I)
                        rcpts = []
                        self.reply("250 2.1.0 OK")
                    elif verb == "RCPT":
                        to = re.sub(r"^RCPT TO:\s*<?([^>\s]*)>?.*$", r"\1", line, flags=re.I)
                        if to in server.refuse:
                            self.reply(f"550 5.1.1 <{to}>: mailbox unavailable")
                        else:
                            rcpts.append(to)
                            self.reply("250 2.1.5 OK")
                    elif verb == "DATA":
                        if not rcpts:
                            self.reply("554 5.5.1 no valid recipients")
                            continue
                        self.reply("354 End data with <CR><LF>.<CR><LF>")
                        chunks = []
                        while True:
                            data = self.rfile.readline()
                            if data in (b".\r\n", b".\n", b""):
                                break
                            chunks.append(data[1:] if data.startswith(b"..") else data)
                        if server.fail_data:
                            code = server.fail_data.pop(0)
                            self.reply(f"{code} 4.3.0 try again later")
                            continue
                        msg = message_from_bytes(b"".join(chunks), policy=policy.default)
                        server.received.append(Received(mail_from, rcpts, msg))  # type: ignore[arg-type]
                        self.reply("250 2.0.0 queued")
                    elif verb in ("RSET", "NOOP"):
                        mail_from, rcpts = "", []
                        self.reply("250 2.0.0 OK")
                    elif verb == "QUIT":
                        self.reply("221 2.0.0 bye")
                        return
                    else:
                        self.reply("502 5.5.2 command not implemented")

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> SmtpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def smtp_toml(port: int, *, live: bool = True, starttls: bool = False,
              auth: bool = False) -> str:
    lines = ["[automation.smtp]", f"live = {'true' if live else 'false'}", 'host = "127.0.0.1"',
             f"port = {port}", 'from = "followthrough@quayside.dev"',
             f"starttls = {'true' if starttls else 'false'}", "timeout_s = 2"]
    if auth:
        lines += ['user_env = "SMTP_USER"', 'password_env = "SMTP_PASSWORD"']
    return "\n".join(lines) + "\n"


# --- Warehouse -------------------------------------------------------------------------------

REPO = "quayside-dev/ledger-api"
CLUSTER = "c0ffee0123456789"


def _failure(conn: Any, job_id: int, at: datetime, *, repo: str = REPO,
             branch: str = "main", cluster: str = CLUSTER, occurrence: int,
             tickets: list[str], postmortems: list[str], fix: str | None = None,
             fix_at: datetime | None = None) -> None:
    run_url = f"https://github.com/{repo}/actions/runs/{job_id + 100000}"
    conn.execute(
        "INSERT INTO core.ci_failures (provider, job_id, run_id, repo, workflow, job_name, "
        "branch, sha, conclusion, failed_step, failed_at, url, run_url) VALUES "
        "('github', ?, ?, ?, 'CI', 'integration-tests', ?, ?, 'failure', 'Run tests', ?, ?, ?)",
        [job_id, job_id + 100000, repo, branch, f"{job_id:040x}", at,
         f"{run_url}/job/{job_id}", run_url])
    excerpt = [{"n": 10, "text": "FAILED tests/ledger/test_refunds.py::test_refund_twice"},
               {"n": 11, "text": f"Authorization: token {LEAKED}"},
               {"n": 12, "text": "AssertionError: balance -20 != 0"}]
    conn.execute("INSERT INTO models.failure_excerpts (provider, job_id, fingerprint, "
                 "fingerprint_version, excerpt) VALUES ('github', ?, 'fp-refund', '1', ?)",
                 [job_id, json.dumps(excerpt)])
    conn.execute("INSERT INTO models.ci_failure_clusters (provider, job_id, cluster_id, "
                 "fingerprint, repo, job_name, failed_at, run_url) VALUES "
                 "('github', ?, ?, 'fp-refund', ?, 'integration-tests', ?, ?)",
                 [job_id, cluster, repo, at, run_url])
    if occurrence > 1:
        conn.execute(
            "INSERT INTO models.recurrences (provider, job_id, cluster_id, repo, job_name, "
            "failed_at, occurrence, prior_failures, first_seen, prior_ticket_keys, "
            "prior_postmortem_ids, fix_ticket_key, fix_resolved_at, fix_did_not_hold) VALUES "
            "('github', ?, ?, ?, 'integration-tests', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [job_id, cluster, repo, at, occurrence, occurrence - 1,
             datetime(2025, 3, 1, 12, tzinfo=at.tzinfo), tickets, postmortems, fix, fix_at,
             fix is not None])


def seed_repeats(conn: Any, now: datetime, *, fix_provider: str = "jira") -> dict[str, Any]:
    """A cluster with history: a ticket (closed 90 minutes ago) and a postmortem; an old repeat
    (40 days ago, before any look-back), a fresh repeat before the fix closed and one after it.

    Returns the job ids by role and the fix's ticket key."""
    fix_key = {"jira": "OPS-31", "github": f"{REPO}#77", "linear": "LED-9"}[fix_provider]
    closed = now - timedelta(minutes=90)
    conn.execute(
        "INSERT INTO core.tickets (ticket_key, provider, ticket_id, url, title, status, "
        "status_category, created_at, resolved_at) VALUES (?, ?, ?, ?, "
        "'Refund test fails twice', 'Done', 'done', TIMESTAMPTZ '2025-03-02 09:00:00+00', ?)",
        [fix_key, fix_provider,
         {"jira": "10031", "github": "2419000077",
          "linear": "9b2f5c1e-0d43-4d43-9d2a-5e3e6f7a8b9c"}[fix_provider],
         {"jira": "https://quayside.atlassian.net/browse/OPS-31",
          "github": f"https://github.com/{REPO}/issues/77",
          "linear": "https://linear.app/quayside-dev/issue/LED-9"}[fix_provider], closed])
    conn.execute("INSERT INTO core.postmortems (postmortem_id, path, title, doc_date, team) "
                 "VALUES ('2025-03-04-refund-double-spend', 'pm/refund.md', "
                 "'Refunds applied twice', DATE '2025-03-04', 'Payments')")
    ids = {"first": 8001, "history": 8002, "fresh": 8003, "after_fix": 8004}
    _failure(conn, ids["first"], datetime(2025, 3, 1, 12, tzinfo=now.tzinfo), occurrence=1,
             tickets=[], postmortems=[])
    # Old history: a repeat with context, long before the automation starts.
    _failure(conn, ids["history"], now - timedelta(days=40), occurrence=2,
             tickets=[fix_key], postmortems=["2025-03-04-refund-double-spend"])
    _failure(conn, ids["fresh"], now - timedelta(hours=2), occurrence=3,
             tickets=[fix_key], postmortems=["2025-03-04-refund-double-spend"])
    _failure(conn, ids["after_fix"], now - timedelta(hours=1), occurrence=4,
             tickets=[fix_key], postmortems=["2025-03-04-refund-double-spend"], fix=fix_key,
             fix_at=closed)
    conn.execute("INSERT INTO models.failure_clusters VALUES (?, ?, 'fp-refund')",
                 [CLUSTER, "FAILED tests/ledger/test_refunds.py::test_refund_twice"])
    return {**ids, "fix_key": fix_key}
