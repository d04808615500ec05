"""The export files the `files` source understands (see docs/export-format.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from models.sources import buildkite, github, github_issues, gitlab, jira, linear, pagerduty, slack
from warehouse.loader import SKIPPED, Mapped, Problem, Source


@dataclass(frozen=True, slots=True)
class LogRef:
    provider: str
    job_id: int
    path: str
    bytes: int


@dataclass(frozen=True, slots=True)
class PostmortemDoc:
    postmortem_id: str
    path: str
    format: str | None
    title: str | None
    doc_date: date | None
    meeting_at: datetime | None
    identified_at: datetime | None
    authors: list[str]
    status: str | None
    incident_refs: list[str]
    ticket_refs: list[str]
    ci_refs: list[str]
    parts_present: list[str]
    contributing_count: int
    timeline_entries: int
    impact_duration_min: float | None
    affected_users: int | None
    severity: str | None
    lint_errors: int
    lint_warnings: int
    findings: str
    verification_criteria: str


@dataclass(frozen=True, slots=True)
class ActionItemRow:
    postmortem_id: str
    ordinal: int
    text: str
    owner: str | None
    ticket: str | None
    status: str | None
    priority: str | None
    due_date: date | None
    sprint: str | None
    verification: str | None
    line: int | None


def _one(table: str):
    def mapper(record: Any) -> Mapped:
        return {table: [record]}

    return mapper


def _runs(r: Any) -> Mapped:
    return {"raw.github_workflow_runs": [github.map_run(r)]}


def _jobs(r: Any) -> Mapped:
    return {"raw.github_jobs": [github.map_job(r)]}


def _deployments(r: Any) -> Mapped:
    return {"raw.github_deployments": [github.map_deployment(r)]}


def _deployment_statuses(r: Any) -> Mapped:
    return {"raw.github_deployment_statuses": [github.map_deployment_status(r)]}


def _jira(r: Any) -> Mapped:
    skipped: list[Any] = []
    issue, events = jira.map_issue(r, skipped)
    return {"raw.jira_issues": [issue], "raw.jira_events": events, SKIPPED: skipped}


def _linear(r: Any) -> Mapped:
    issue, events = linear.map_issue(r)
    return {"raw.linear_issues": [issue], "raw.linear_events": events}


def _pagerduty(r: Any) -> Mapped:
    return {"raw.pagerduty_incidents": [pagerduty.map_incident(r)]}


def _pagerduty_log_entry(r: Any) -> Mapped:
    return {"raw.pagerduty_log_entries": [pagerduty.map_log_entry(r)]}


GITHUB_RUNS = Source(
    "github_runs", ("github/runs/*.json",), ("workflow_runs",), ("raw.github_workflow_runs",),
    _runs, dated=True, bulk=True,
)
GITHUB_JOBS = Source(
    "github_jobs", ("github/jobs/*.json",), ("jobs",), ("raw.github_jobs",), _jobs, dated=True,
    bulk=True,
)
GITHUB_LOGS = Source(
    "github_logs", ("github/logs/*/*.txt", "github/logs/*/*.log"), (), ("raw.ci_logs",),
    _one("raw.ci_logs"), dated=True,
)
GITHUB_DEPLOYMENTS = Source(
    "github_deployments", ("github/deployments/*.json",), (), ("raw.github_deployments",),
    _deployments, dated=True,
)
GITHUB_DEPLOYMENT_STATUSES = Source(
    "github_deployment_statuses", ("github/deployment_statuses/*.json",), (),
    ("raw.github_deployment_statuses",), _deployment_statuses, dated=True,
)
JIRA = Source(
    "jira", ("jira/issues/*.json",), ("issues",), ("raw.jira_issues", "raw.jira_events"), _jira,
    key_field="key", bare_list=True,
)
LINEAR = Source(
    "linear", ("linear/issues/*.json",), ("data", "issues", "nodes"),
    ("raw.linear_issues", "raw.linear_events"), _linear, key_field="identifier", bare_list=True,
)
PAGERDUTY = Source(
    "pagerduty", ("pagerduty/incidents/*.json",), ("incidents",), ("raw.pagerduty_incidents",),
    _pagerduty, bare_list=True,
)
PAGERDUTY_LOG_ENTRIES = Source(
    "pagerduty_log_entries", ("pagerduty/log_entries/*.json",), ("log_entries",),
    ("raw.pagerduty_log_entries",), _pagerduty_log_entry, bare_list=True,
)
# Patterns relative to the postmortems folder: `<exports>/postmortems`, or a folder (a git
# checkout of a postmortem repository) given on its own.
POSTMORTEMS = Source(
    "postmortems",
    ("**/*.md", "**/*.markdown", "**/*.html", "**/*.htm"),
    (), ("raw.postmortem_documents", "raw.postmortem_action_items"), _one("unused"),
)

GITHUB_SOURCES = (GITHUB_RUNS, GITHUB_JOBS, GITHUB_LOGS, GITHUB_DEPLOYMENTS,
                  GITHUB_DEPLOYMENT_STATUSES)
TICKET_SOURCES = (JIRA, LINEAR)
ALL_SOURCES = (*GITHUB_SOURCES, *TICKET_SOURCES, PAGERDUTY, PAGERDUTY_LOG_ENTRIES, POSTMORTEMS)


def _github_issue(r: Any) -> Mapped:
    if isinstance(r, dict) and "pull_request" in r:
        return {}  # the issues endpoint lists pull requests too; they are not tickets
    return {"raw.github_issues": [github_issues.map_issue(r)]}


def _github_issue_event(r: Any) -> Mapped:
    return {"raw.github_issue_events": [github_issues.map_event(r)]}


def _slack_message(r: Any) -> Mapped:
    return {"raw.slack_messages": [slack.map_message(r)]}


# Month files per repository (`<created month>.<owner__repo>.json`), bare arrays.
GITHUB_ISSUES = Source(
    "github_issues", ("github_issues/issues/*.json",), (), ("raw.github_issues",),
    _github_issue,
)
GITHUB_ISSUE_EVENTS = Source(
    "github_issue_events", ("github_issues/events/*.json",), (), ("raw.github_issue_events",),
    _github_issue_event,
)
# Day files per channel (`<day>.<channel>.json`), bare arrays keyed by `ts`.
SLACK = Source(
    "slack", ("slack/messages/*.json",), ("messages",), ("raw.slack_messages",), _slack_message,
    key_field="ts", dated=True, bare_list=True,
)
GITHUB_ISSUES_SOURCES = (GITHUB_ISSUES, GITHUB_ISSUE_EVENTS)
ALL_SOURCES = (*ALL_SOURCES, *GITHUB_ISSUES_SOURCES, SLACK)
def _gitlab_pipelines(r: Any) -> Mapped:
    return {"raw.gitlab_pipelines": [gitlab.map_pipeline(r)]}


def _gitlab_jobs(r: Any) -> Mapped:
    return {"raw.gitlab_jobs": [gitlab.map_job(r)]}


def _gitlab_deployments(r: Any) -> Mapped:
    return {"raw.gitlab_deployments": [gitlab.map_deployment(r)]}


def _buildkite_builds(r: Any) -> Mapped:
    build, jobs = buildkite.map_build(r)
    return {"raw.buildkite_builds": [build], "raw.buildkite_jobs": jobs}


GITLAB_PIPELINES = Source(
    "gitlab_pipelines", ("gitlab/pipelines/*.json",), (), ("raw.gitlab_pipelines",),
    _gitlab_pipelines, dated=True, bulk=True,
)
GITLAB_JOBS = Source(
    "gitlab_jobs", ("gitlab/jobs/*.json",), (), ("raw.gitlab_jobs",), _gitlab_jobs, dated=True,
    bulk=True,
)
GITLAB_LOGS = Source(
    "gitlab_logs", ("gitlab/logs/*/*.txt", "gitlab/logs/*/*.log"), (), ("raw.ci_logs",),
    _one("raw.ci_logs"), dated=True,
)
GITLAB_DEPLOYMENTS = Source(
    "gitlab_deployments", ("gitlab/deployments/*.json",), (), ("raw.gitlab_deployments",),
    _gitlab_deployments, dated=True,
)
BUILDKITE_BUILDS = Source(
    "buildkite_builds", ("buildkite/builds/*.json",), (),
    ("raw.buildkite_builds", "raw.buildkite_jobs"), _buildkite_builds, dated=True, bulk=True,
)
BUILDKITE_LOGS = Source(
    "buildkite_logs", ("buildkite/logs/*/*.txt", "buildkite/logs/*/*.log"), (), ("raw.ci_logs",),
    _one("raw.ci_logs"), dated=True,
)

GITLAB_SOURCES = (GITLAB_PIPELINES, GITLAB_JOBS, GITLAB_LOGS, GITLAB_DEPLOYMENTS)
BUILDKITE_SOURCES = (BUILDKITE_BUILDS, BUILDKITE_LOGS)
ALL_SOURCES = (*ALL_SOURCES, *GITLAB_SOURCES, *BUILDKITE_SOURCES)
# Sources whose files are job logs (read by `read_log`), and the provider each loads.
LOG_PROVIDERS = {"github_logs": "github", "gitlab_logs": "gitlab", "buildkite_logs": "buildkite"}
LOG_SOURCES = (GITHUB_LOGS, GITLAB_LOGS, BUILDKITE_LOGS)


def read_log(source: Source, path: Path, data: bytes) -> tuple[list[Mapped], list[Problem]]:
    """A job log is referenced by its job id (the file name); its text is read later.

    GitHub and GitLab name a log `<job id>.txt`; Buildkite `<job UUID>.txt`, whose integer id
    is `models.sources.buildkite.bigint_id` of the UUID, as in raw.buildkite_jobs."""
    provider = LOG_PROVIDERS.get(source.name, "github")
    stem = path.stem
    if provider == "buildkite":
        try:
            job_id = buildkite.bigint_id(stem)
        except ValueError:
            return [], [Problem(-1, None, f"log file name should be <job UUID>{path.suffix}")]
    elif stem.isdigit():
        job_id = int(stem)
    else:
        return [], [Problem(-1, None, f"log file name should be <job_id>{path.suffix}")]
    ref = LogRef(provider, job_id, str(path), len(data))
    return [{"raw.ci_logs": [ref]}], []


def postmortem_id(folder: Path, path: Path) -> str:
    """The document's path under the postmortems folder, without suffix."""
    rel = path.relative_to(folder) if folder in path.parents else Path(path.name)
    return rel.with_suffix("").as_posix()


def make_postmortem_reader(folder: Path):
    """Reader that parses and lints each document of `folder` with models.postmortems."""

    def read(source: Source, path: Path, data: bytes) -> tuple[list[Mapped], list[Problem]]:
        from models.postmortems import lint, parse_postmortem

        if b"\x00" in data[:8192]:
            return [], [Problem(-1, None, "binary file, not a postmortem document")]
        text = data.decode("utf-8", "replace")
        try:
            pm = parse_postmortem(text, path=str(path))
            findings = lint(pm)
        except Exception as exc:  # a parser bug must not stop the other documents
            return [], [Problem(-1, None, f"could not parse: {type(exc).__name__}: {exc}")]
        pid = postmortem_id(folder, path)
        parts = [name for name, sec in pm.sections.items() if sec.present]
        doc = PostmortemDoc(
            postmortem_id=pid,
            path=str(path),
            format="html" if path.suffix.lower() in {".html", ".htm"} else "markdown",
            title=pm.title,
            doc_date=pm.date,
            meeting_at=pm.meeting_at,
            identified_at=pm.identified_at,
            authors=list(pm.authors),
            status=pm.status,
            incident_refs=list(pm.incident_refs),
            ticket_refs=list(pm.ticket_refs),
            ci_refs=list(pm.ci_refs),
            parts_present=parts,
            contributing_count=len(pm.contributing_conditions),
            timeline_entries=len(pm.timeline),
            impact_duration_min=pm.impact.duration_minutes if pm.impact else None,
            affected_users=pm.impact.affected_users if pm.impact else None,
            severity=pm.impact.severity if pm.impact else None,
            lint_errors=sum(1 for f in findings if f.severity == "error"),
            lint_warnings=sum(1 for f in findings if f.severity == "warning"),
            findings=json.dumps(
                [
                    {"rule": f.rule, "severity": f.severity, "line": f.line,
                     "message": f.message, "suggestion": f.suggestion}
                    for f in findings
                ]
            ),
            verification_criteria=json.dumps(
                [
                    {"text": c.text, "checkable": c.checkable, "metric": c.metric,
                     "scope": c.scope, "comparator": c.comparator, "threshold": c.threshold,
                     "window_days": c.window_days}
                    for c in pm.verification_criteria
                ]
            ),
        )
        items = [
            ActionItemRow(
                postmortem_id=pid,
                ordinal=a.ordinal,
                text=a.text,
                owner=a.owner,
                ticket=a.ticket,
                status=a.status,
                priority=a.priority,
                due_date=a.due,
                sprint=a.sprint,
                verification=a.verification,
                line=a.line,
            )
            for a in pm.action_items
        ]
        mapped: Mapped = {"raw.postmortem_documents": [doc]}
        if items:
            mapped["raw.postmortem_action_items"] = items
        return [mapped], []

    return read
