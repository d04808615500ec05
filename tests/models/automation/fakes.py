"""Fake Jira, Linear, GitHub Issues and Slack on 127.0.0.1 that check what they are sent.

Each create route validates the request body against the vendor's contract (the published
example request or schema when `shared/contracts` is present, else our own copies in the same
shapes under tests/fixtures/vendors), answers in the vendor's response shape, and stores what it
created so look-ups by label / description marker find it.
"""

from __future__ import annotations

import copy
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.vendor_server import Request, VendorServer

REPO = Path(__file__).resolve().parents[3]
VENDORS = REPO / "tests" / "fixtures" / "vendors"


def _shared_root() -> Path:
    return Path(os.environ.get("FOLLOWTHROUGH_SHARED", REPO.parent / "shared"))


def _missing_reason(part: str) -> str | None:
    return None if (_shared_root() / part).is_file() else f"shared/{part} absent"

ADF_NODES = {"doc", "paragraph", "heading", "codeBlock", "bulletList", "listItem", "text"}
ADF_MARKS = {"strong", "em", "link", "code"}
GITHUB_ISSUE_FIELDS = {"title", "body", "assignee", "milestone", "labels", "assignees", "type"}
SLACK_POST_ARGS = {"channel", "text", "blocks", "attachments", "metadata", "unfurl_links",
                   "unfurl_media", "thread_ts", "mrkdwn", "username", "icon_emoji"}


def contract(name: str) -> Any:
    """The vendor's published example from shared/contracts when present, else our copy."""
    published = _shared_root() / "contracts" / name
    if _missing_reason(f"contracts/{name}") is None:
        return json.loads(published.read_text(encoding="utf-8"))
    return json.loads((VENDORS / name).read_text(encoding="utf-8"))


def linear_input_fields() -> tuple[set[str], set[str]]:
    """(all fields, required fields) of Linear's IssueCreateInput, from the published SDL when
    present, else our copy of its field list."""
    if _missing_reason("contracts/linear_graphql_schema_excerpt.json") is None:
        sdl = json.loads((_shared_root() / "contracts" / "linear_graphql_schema_excerpt.json")
                         .read_text(encoding="utf-8"))["sdl"]["IssueCreateInput"]
        body = re.sub(r'""".*?"""', "", sdl, flags=re.S)
        found = re.findall(r"^\s*(\w+):\s*([\w\[\]!]+)", body, flags=re.M)
        return {f for f, _ in found}, {f for f, t in found if t.endswith("!")}
    data = json.loads((VENDORS / "linear_issue_create_input.json").read_text(encoding="utf-8"))
    spec = data["IssueCreateInput"]
    return set(spec["fields"]), set(spec["required"])


def adf_problems(node: Any, where: str = "description") -> list[str]:
    """Why `node` is not an ADF document Jira would accept (empty list: it is)."""
    out: list[str] = []
    if not isinstance(node, dict) or "type" not in node:
        return [f"{where}: not an ADF node"]
    kind = node["type"]
    if where == "description" and (kind != "doc" or node.get("version") != 1):
        out.append(f"{where}: top node must be doc version 1")
    if kind not in ADF_NODES:
        out.append(f"{where}: unknown node type {kind}")
    if kind == "text":
        if not isinstance(node.get("text"), str) or not node["text"]:
            out.append(f"{where}: text node with empty text")
        for mark in node.get("marks", []):
            if mark.get("type") not in ADF_MARKS:
                out.append(f"{where}: unknown mark {mark.get('type')}")
            if mark.get("type") == "link" and not mark.get("attrs", {}).get("href"):
                out.append(f"{where}: link mark without href")
    else:
        content = node.get("content")
        if not isinstance(content, list) or not content:
            out.append(f"{where}: {kind} without content")
        else:
            for i, child in enumerate(content):
                out += adf_problems(child, f"{where}.{kind}[{i}]")
    return out


def jira_problems(body: Any) -> list[str]:
    """Check a create-issue body against the published example request: only its fields, each
    of the same JSON type; references as objects; ADF where the example has ADF."""
    example = contract("jira_create_issue_request.json")
    if not isinstance(body, dict) or not isinstance(body.get("fields"), dict):
        return ["body must be an object with fields"]
    out = []
    fields = body["fields"]
    for required in ("project", "issuetype", "summary"):
        if required not in fields:
            out.append(f"Field '{required}' is required")
    for key, value in fields.items():
        if key not in example["fields"]:
            out.append(f"Field '{key}' cannot be set. It is not on the appropriate screen")
            continue
        want = example["fields"][key]
        if type(value) is not type(want):
            out.append(f"Field '{key}': expected {type(want).__name__}")
        elif isinstance(want, dict) and want.get("type") == "doc":
            out += adf_problems(value, key)
        elif isinstance(want, dict) and not set(value) <= {"id", "key", "name"}:
            out.append(f"Field '{key}': a reference takes id, key or name")
        elif (isinstance(want, list) and want and isinstance(want[0], str)
              and not all(isinstance(v, str) and v and " " not in v for v in value)):
            out.append(f"Field '{key}': labels are non-empty strings without spaces")
    if "update" in body and not isinstance(body["update"], dict):
        out.append("update must be an object")
    return out


@dataclass
class Trackers:
    """All four vendors on one server, each under its own path prefix."""

    server: VendorServer
    jira: list[dict[str, Any]] = field(default_factory=list)
    linear: list[dict[str, Any]] = field(default_factory=list)
    github: list[dict[str, Any]] = field(default_factory=list)
    slack: list[dict[str, Any]] = field(default_factory=list)
    slack_error: str | None = None  # answer chat.postMessage with ok:false and this error
    invalid: list[str] = field(default_factory=list)  # contract violations seen

    @property
    def url(self) -> str:
        return self.server.url

    def __enter__(self) -> Trackers:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)

    # --- Jira ---
    def _jira_create(self, req: Request) -> tuple[int, dict[str, str], Any]:
        assert req.headers.get("authorization", "").startswith("Basic ")
        body = req.json()
        problems = jira_problems(body)
        if problems:
            self.invalid += problems
            error = copy.deepcopy(contract("jira_create_issue_error_400.json"))
            error["errorMessages"] = problems
            return 400, {}, error
        n = len(self.jira) + 1
        key = f"{body['fields']['project'].get('key', 'PRJ')}-{n}"
        self.jira.append({"key": key, "id": str(10000 + n), "received_at": time.time(),
                          **body["fields"]})
        answer = copy.deepcopy(contract("jira_create_issue_response.json"))
        answer.update(id=str(10000 + n), key=key,
                      self=f"{self.url}/rest/api/3/issue/{10000 + n}")
        return 201, {}, answer

    def _jira_search(self, req: Request) -> tuple[int, dict[str, str], Any]:
        jql = req.arg("jql") or ""
        m = re.match(r'labels = "([^"]+)"', jql)
        if not m:
            return 400, {}, {"errorMessages": [f"unsupported JQL in the fake: {jql}"]}
        page = copy.deepcopy(contract("jira_search_jql_response.json"))
        template = page["issues"][0]
        page["issues"] = []
        for issue in self.jira:
            if m.group(1) in issue["labels"]:
                item = copy.deepcopy(template)
                item.update(id=issue["id"], key=issue["key"],
                            self=f"{self.url}/rest/api/3/issue/{issue['id']}")
                page["issues"].append(item)
        page["isLast"] = True
        return 200, {}, page

    # --- Linear ---
    def _linear(self, req: Request) -> tuple[int, dict[str, str], Any]:
        assert req.headers.get("authorization")
        body = req.json()
        query, variables = body.get("query", ""), body.get("variables") or {}
        if "issueCreate" in query:
            allowed, required = linear_input_fields()
            data = variables.get("input") or {}
            problems = [f"unknown IssueCreateInput field {k}" for k in data if k not in allowed]
            problems += [f"IssueCreateInput.{k} is required" for k in required if k not in data]
            if problems:
                self.invalid += problems
                return 200, {}, {"errors": [{"message": p, "extensions": {
                    "code": "GRAPHQL_VALIDATION_FAILED"}} for p in problems]}
            if any(i["id"] == data.get("id") for i in self.linear):
                return 200, {}, {"errors": [{"message": "Entity already exists",
                                             "extensions": {"code": "INVALID_INPUT"}}]}
            answer = copy.deepcopy(contract_linear_create())
            n = len(self.linear) + 1
            issue = {"id": data.get("id") or f"issue-{n}", "identifier": f"LED-{n}",
                     "url": f"https://linear.app/quayside-dev/issue/LED-{n}", **data}
            self.linear.append(issue)
            answer["data"]["issueCreate"]["issue"] = {k: issue[k]
                                                      for k in ("id", "identifier", "url")}
            return 200, {}, answer
        if "issues(" in query:
            marker = variables.get("marker", "")
            nodes = [{k: i[k] for k in ("id", "identifier", "url")}
                     for i in self.linear if marker and marker in (i.get("description") or "")]
            return 200, {}, {"data": {"issues": {"nodes": nodes[:1]}}}
        return 200, {}, {"errors": [{"message": "unsupported operation in the fake"}]}

    # --- GitHub Issues ---
    def _github_create(self, req: Request) -> tuple[int, dict[str, str], Any]:
        assert req.headers.get("authorization", "").startswith("Bearer ")
        body = req.json()
        problems = [f"unknown field {k}" for k in body if k not in GITHUB_ISSUE_FIELDS]
        if not isinstance(body.get("title"), str) or not body["title"]:
            problems.append("title is required")
        if not all(isinstance(x, str) and len(x) <= 50 for x in body.get("labels", [])):
            problems.append("labels are strings of at most 50 characters")
        if problems:
            self.invalid += problems
            return 422, {}, {"message": "Validation Failed", "errors": problems}
        repo = f"{req.match.group(1)}/{req.match.group(2)}" if req.match else ""
        answer = copy.deepcopy(contract_github_issue())
        n = len(self.github) + 1
        answer.update(number=n, title=body["title"], body=body.get("body"),
                      html_url=f"https://github.com/{repo}/issues/{n}",
                      url=f"{self.url}/repos/{repo}/issues/{n}")
        template = answer["labels"][0]
        answer["labels"] = [{**template, "name": name} for name in body.get("labels", [])]
        self.github.append({**answer, "repo": repo})
        return 201, {}, answer

    def _github_list(self, req: Request) -> tuple[int, dict[str, str], Any]:
        repo = f"{req.match.group(1)}/{req.match.group(2)}" if req.match else ""
        wanted = set((req.arg("labels") or "").split(",")) - {""}
        found = [i for i in self.github if i["repo"] == repo
                 and wanted <= {lab["name"] for lab in i["labels"]}]
        return 200, {}, [{k: v for k, v in i.items() if k != "repo"} for i in found]

    # --- Slack ---
    def _slack_post(self, req: Request) -> tuple[int, dict[str, str], Any]:
        assert req.headers.get("authorization", "").startswith("Bearer ")
        body = req.json()
        problems = [f"unknown argument {k}" for k in body if k not in SLACK_POST_ARGS]
        if not body.get("channel"):
            problems.append("channel_not_found")
        if not (body.get("text") or body.get("blocks")):
            problems.append("no_text")
        if problems or self.slack_error:
            self.invalid += problems
            error = copy.deepcopy(contract("slack_chat_postMessage_error.json"))
            error["error"] = self.slack_error or problems[0]
            return 200, {}, error
        answer = copy.deepcopy(contract("slack_chat_postMessage_ok.json"))
        ts = f"{1748965381 + len(self.slack)}.000200"
        answer.update(channel=body["channel"], ts=ts)
        answer["message"].update(text=body["text"], ts=ts)
        self.slack.append(body)
        return 200, {}, answer


def contract_linear_create() -> Any:
    return json.loads((VENDORS / "linear_issue_create_response.json").read_text(encoding="utf-8"))


def contract_github_issue() -> Any:
    return json.loads((VENDORS / "github_issue_create_response.json").read_text(encoding="utf-8"))


def start_trackers() -> Trackers:
    """A started server with every vendor route; use as `with start_trackers() as t:`."""
    return mount_trackers(VendorServer())


def mount_trackers(server: VendorServer) -> Trackers:
    """Every tracker and Slack route on `server` (which may serve other vendors too)."""
    t = Trackers(server)
    server.route("POST", r"/rest/api/3/issue", t._jira_create)
    server.route("GET", r"/rest/api/3/search/jql", t._jira_search)
    server.route("POST", r"/linear/graphql", t._linear)
    server.route("POST", r"/github/repos/([^/]+)/([^/]+)/issues", t._github_create)
    server.route("GET", r"/github/repos/([^/]+)/([^/]+)/issues", t._github_list)
    server.route("POST", r"/slack/api/chat\.postMessage", t._slack_post)
    return t


def config_toml(path: Path, url: str, *, tracker: str = "jira", live: bool = True,
                extra: str = "") -> Path:
    """A followthrough.toml pointing every target at the fake server."""
    flag = "true" if live else "false"
    path.write_text(f"""
[automation]
tracker = "{tracker}"
retry_base_s = 60
max_age_hours = 0
{extra}

[automation.jira]
live = {flag}
site_url = "{url}"
project = "OPS"
timeout_s = 0.5

[automation.linear]
live = {flag}
api_url = "{url}/linear/graphql"
team_id = "team-ledger"
timeout_s = 0.5

[automation.github]
live = {flag}
api_url = "{url}/github"
repo = "quayside-dev/incidents"
timeout_s = 0.5

[automation.slack]
live = {flag}
api_url = "{url}/slack/api"
channel = "C07QDEVOPS1"
timeout_s = 0.5
""", encoding="utf-8")
    return path


ENV = {"JIRA_EMAIL": "bot@quayside.dev", "JIRA_API_TOKEN": "jira-token-value",
       "LINEAR_API_KEY": "lin_api_value", "GITHUB_TOKEN": "ghp_valuevaluevalue",
       "SLACK_BOT_TOKEN": "xoxb-value-value"}


LEAKED = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


def seed_warehouse(conn: Any) -> None:
    """A small warehouse: two failed production deploys of one repository (the second a repeat
    whose CI failure has an earlier ticket and postmortem), one failed GitLab production deploy,
    a successful production deploy and a failed staging deploy (neither gets a ticket)."""
    ex = conn.execute
    ex("INSERT INTO core.tickets (ticket_key, provider, created_at, title) VALUES "
       "('OPS-7', 'jira', TIMESTAMPTZ '2025-05-20 10:00:00+00', 'Ledger smoke test 503')")
    ex("INSERT INTO core.postmortems (postmortem_id, path, title, doc_date) VALUES "
       "('2025-05-21-ledger-outage', 'pm/ledger.md', 'Ledger API outage', DATE '2025-05-21')")
    deploys = [
        # provider, id, repo, env, production, sha, creator, created, finished, state, failed, target
        ("github", 501, "quayside-dev/ledger-api", "production", True, "a" * 40, "rosa-diaz",
         "2025-06-03 15:00:00", "2025-06-03 15:04:00", "failure", True,
         "https://github.com/quayside-dev/ledger-api/actions/runs/9001/job/7001"),
        ("github", 502, "quayside-dev/ledger-api", "production", True, "b" * 40, "sam-okoro",
         "2025-06-03 16:00:00", "2025-06-03 16:05:00", "error", True,
         "https://github.com/quayside-dev/ledger-api/actions/runs/9002/job/7002"),
        ("github", 503, "quayside-dev/ledger-api", "production", True, "c" * 40, "sam-okoro",
         "2025-06-02 09:00:00", "2025-06-02 09:03:00", "success", False,
         "https://github.com/quayside-dev/ledger-api/actions/runs/8999/job/6999"),
        ("github", 504, "quayside-dev/ledger-api", "staging", False, "d" * 40, "rosa-diaz",
         "2025-06-03 14:00:00", "2025-06-03 14:02:00", "failure", True,
         "https://github.com/quayside-dev/ledger-api/actions/runs/9000/job/7000"),
        ("gitlab", 77, "quayside-dev/billing", "production", True, "e" * 40, "li-wei",
         "2025-06-04 08:00:00", "2025-06-04 08:10:00", "failed", True,
         "https://gitlab.quayside.dev/quayside-dev/billing/-/jobs/8801"),
    ]
    for d in deploys:
        ex("INSERT INTO core.deployments (provider, deployment_id, repo, environment, production,"
           " sha, ref, creator, created_at, finished_at, final_state, failed, target_url, url) "
           "VALUES (?, ?, ?, ?, ?, ?, 'main', ?, ?::TIMESTAMPTZ, ?::TIMESTAMPTZ, ?, ?, ?, ?)",
           [*d[:7], d[7] + "+00", d[8] + "+00", d[9], d[10], d[11],
            f"https://deploys.example/{d[0]}/{d[1]}"])
    jobs = [
        ("github", 7001, 9001, "quayside-dev/ledger-api", "deploy-production", "Smoke test",
         "a" * 40, "2025-06-03 15:04:00",
         "https://github.com/quayside-dev/ledger-api/actions/runs/9001/job/7001",
         "https://github.com/quayside-dev/ledger-api/actions/runs/9001"),
        ("github", 7002, 9002, "quayside-dev/ledger-api", "deploy-production", "Smoke test",
         "b" * 40, "2025-06-03 16:05:00",
         "https://github.com/quayside-dev/ledger-api/actions/runs/9002/job/7002",
         "https://github.com/quayside-dev/ledger-api/actions/runs/9002"),
        ("gitlab", 8801, 600, "quayside-dev/billing", "deploy:production", "deploy",
         "e" * 40, "2025-06-04 08:10:00",
         "https://gitlab.quayside.dev/quayside-dev/billing/-/jobs/8801",
         "https://gitlab.quayside.dev/quayside-dev/billing/-/pipelines/600"),
    ]
    for j in jobs:
        ex("INSERT INTO core.ci_failures (provider, job_id, run_id, repo, workflow, job_name, "
           "branch, sha, conclusion, failed_step, failed_at, url, run_url) VALUES "
           "(?, ?, ?, ?, 'Deploy', ?, 'main', ?, 'failure', ?, ?::TIMESTAMPTZ, ?, ?)",
           [j[0], j[1], j[2], j[3], j[4], j[6], j[5], j[7] + "+00", j[8], j[9]])
        excerpt = [{"n": 40, "text": "Smoke test GET /healthz -> 503"},
                   {"n": 41, "text": f"using token {LEAKED}"},
                   {"n": 42, "text": "##[error]Process completed with exit code 1."}]
        ex("INSERT INTO models.failure_excerpts (provider, job_id, fingerprint, "
           "fingerprint_version, excerpt) VALUES (?, ?, 'fp', '1', ?)",
           [j[0], j[1], json.dumps(excerpt)])
    ex("INSERT INTO models.recurrences (provider, job_id, cluster_id, repo, job_name, failed_at,"
       " occurrence, prior_failures, first_seen, prior_ticket_keys, prior_postmortem_ids, "
       "fix_did_not_hold) VALUES ('github', 7002, 'c1', 'quayside-dev/ledger-api', "
       "'deploy-production', TIMESTAMPTZ '2025-06-03 16:05:00+00', 4, 3, "
       "TIMESTAMPTZ '2025-05-19 12:00:00+00', ['OPS-7'], ['2025-05-21-ledger-outage'], false)")

