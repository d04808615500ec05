"""Failed production deployment -> an incident ticket draft carrying everything a responder needs.

The draft is built from the warehouse alone (deployment, the CI job behind it, its redacted
excerpt, the recurrence links), so writing it costs a person nothing at 2 a.m. and the same
deployment always yields the same draft.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from models.automation.config import AutomationConfig, SeverityRule, TriggerConfig
from models.logs.redact import redact_many

NOT_FOUND = "(not found)"
EXCERPT_LINES = 12
HISTORY_LINES = 5
_RUN_RE = r'/actions/runs/([0-9]+)'

# Trigger names, as the ticket states them.
DEPLOYMENT_STATUS = "failed GitHub deployment status"
GITLAB_DEPLOYMENT = "failed GitLab deployment"
WORKFLOW_JOB = "failed job in a production workflow (no deployment record)"
GITLAB_JOB = "failed GitLab production job (no deployment record)"
BUILDKITE_BUILD = "failed build of a production Buildkite pipeline"

# One row per failed deployment record: the CI job it ran in (by the deployment's log/target
# URL, else the failed job of the same repository and commit closest to the failure).
_DEPLOYMENTS_SQL = """
WITH d AS (
    SELECT *, coalesce(finished_at, created_at) AS failed_at_
    FROM core.deployments
    WHERE failed AND (production OR environment IN (SELECT unnest(?::VARCHAR[])))
),
job AS (
    SELECT d.provider AS d_provider, d.deployment_id, f.provider, f.job_id, f.run_id,
           f.job_name, f.workflow, f.failed_step, f.url AS job_url, f.run_url
    FROM d JOIN core.ci_failures f
      ON f.repo = d.repo AND (f.url = d.target_url OR f.run_url = d.target_url
                              OR f.sha = d.sha)
    QUALIFY row_number() OVER (
        PARTITION BY d.provider, d.deployment_id
        ORDER BY (f.url = d.target_url) DESC, (f.run_url = d.target_url) DESC,
                 abs(epoch(f.failed_at) - epoch(d.failed_at_)), f.job_id) = 1
)
SELECT d.provider, d.deployment_id, d.repo, d.environment, d.sha, d.ref, d.creator,
       d.failed_at_ AS failed_at, d.target_url, d.url AS deployment_url,
       j.provider AS job_provider, j.job_id, j.run_id, j.job_name, j.workflow, j.failed_step,
       j.job_url, j.run_url
FROM d
LEFT JOIN job j ON j.d_provider = d.provider AND j.deployment_id = d.deployment_id
ORDER BY failed_at, d.provider, d.deployment_id
"""

# Every deploy attempt to a ticketed environment, failed or not: the streak and repeat counts.
_DEPLOY_ATTEMPTS_SQL = """
SELECT provider, deployment_id, repo, environment, failed, final_state = 'success' AS ok,
       coalesce(finished_at, created_at) AS at_, url,
       TRY_CAST(regexp_extract(coalesce(target_url, ''), '""" + _RUN_RE + """', 1) AS BIGINT)
           AS gh_run_id
FROM core.deployments
WHERE (production OR environment IN (SELECT unnest(?::VARCHAR[])))
  AND coalesce(finished_at, created_at) IS NOT NULL
"""
# (runs are linked to a deployment whatever its state; only failed and successful ones count
# as attempts)


@dataclass(frozen=True)
class TicketDraft:
    """One incident ticket, tracker-neutral; `senders` turns it into each vendor's request."""

    idempotency_key: str
    provider: str
    deployment_id: int | None  # None: the trigger was a CI job or build, not a deployment
    repo: str
    environment: str
    tracker: str
    team: str
    severity: str
    rule: str  # the rule that fired, with its conditions
    title: str
    run_url: str
    job_url: str
    job_name: str
    failed_step: str
    excerpt: tuple[str, ...]
    sha: str
    merged_by: str
    deployment_url: str
    failed_at: datetime
    repeat_count: int
    failing_minutes: float
    prior_failures: int
    history: tuple[str, ...] = field(default_factory=tuple)  # "this path has failed before" lines
    trigger: str = DEPLOYMENT_STATUS
    blast_radius: int = 1
    blast_detail: str = "only this repository"

    @property
    def key_label(self) -> str:
        """The tracker label carrying the idempotency key (labels allow no spaces or colons
        everywhere, so ':' becomes '-')."""
        return "followthrough-" + self.idempotency_key.replace(":", "-").replace("/", "-")

    def facts(self) -> list[tuple[str, str]]:
        """(label, value) lines every tracker's description starts with."""
        return [
            ("Severity", f"{self.severity} (rule: {self.rule})"),
            ("Repository", self.repo),
            ("Environment", self.environment),
            ("Trigger", self.trigger),
            ("CI run", self.run_url),
            ("Failing job", f"{self.job_name} (step: {self.failed_step})"),
            ("Job log", self.job_url),
            ("Commit", self.sha),
            ("Merged by", self.merged_by),
            ("Deployment", self.deployment_url),
            ("Failed at", self.failed_at.strftime("%Y-%m-%d %H:%M:%S UTC")),
            ("Failed deploys in window", str(self.repeat_count)),
            ("Failing for", f"{self.failing_minutes:.0f} min"),
            ("Blast radius", f"{self.blast_radius} ({self.blast_detail})"),
        ]

    def history_lines(self) -> list[str]:
        return list(self.history) or ["No earlier failure of this path is on record."]

    def markdown(self) -> str:
        """Body for GitHub Issues and Linear (both render Markdown)."""
        out = [f"**{k}:** {v}" for k, v in self.facts()]
        out += ["", "**Failure excerpt (redacted):**", "```", *self.excerpt, "```", "",
                "**History:**", *[f"- {h}" for h in self.history_lines()], "",
                f"<!-- followthrough:{self.idempotency_key} -->"]
        return "\n".join(out)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["failed_at"] = self.failed_at.isoformat()
        data["excerpt"] = list(self.excerpt)
        data["history"] = list(self.history)
        return data


def classify(cfg: AutomationConfig, *, environment: str, repo: str, repeat_count: int,
             failing_minutes: float, prior_failures: int,
             blast_radius: int = 1) -> SeverityRule:
    """The first rule whose every condition holds; a config without a catch-all gets one."""
    tier = cfg.tier(repo)
    for rule in cfg.rules:
        if rule.environments and environment not in rule.environments:
            continue
        if rule.tiers and tier not in rule.tiers:
            continue
        if repeat_count < rule.min_repeat:
            continue
        if failing_minutes < rule.min_failing_minutes:
            continue
        if prior_failures < rule.min_prior_failures:
            continue
        if blast_radius < rule.min_blast_radius:
            continue
        return rule
    return SeverityRule("unmatched", "SEV4")


def _date(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    return str(value)[:10] if value else "date unknown"


def _history(conn: duckdb.DuckDBPyConnection, row: dict[str, Any]) -> list[str]:
    """'this path has failed before' lines: the failure cluster's earlier tickets and
    postmortems (with their dates), a fix that did not hold, earlier failed deploys."""
    lines: list[str] = []
    tickets = row.get("prior_ticket_keys") or []
    postmortems = row.get("prior_postmortem_ids") or []
    if tickets:
        dates = dict(conn.execute(
            "SELECT ticket_key, created_at FROM core.tickets WHERE ticket_key IN "
            "(SELECT unnest(?::VARCHAR[]))", [tickets]).fetchall())
        for key in tickets:
            lines.append(f"This path has failed before; see {key} ({_date(dates.get(key))}).")
    if postmortems:
        found = {r[0]: r[1:] for r in conn.execute(
            "SELECT postmortem_id, coalesce(doc_date::VARCHAR, identified_at::VARCHAR), title "
            "FROM core.postmortems WHERE postmortem_id IN (SELECT unnest(?::VARCHAR[]))",
            [postmortems]).fetchall()}
        for pid in postmortems:
            when, title = found.get(pid, (None, None))
            about = f": {title}" if title else ""
            lines.append(f"Prior postmortem {pid} ({_date(when)}){about}.")
    if row.get("fix_did_not_hold") and row.get("fix_ticket_key"):
        lines.append(f"The fix in {row['fix_ticket_key']} (resolved "
                     f"{_date(row.get('fix_resolved_at'))}) did not hold.")
    if row.get("prior_failures"):
        lines.append(f"The same CI failure was seen {row['prior_failures']} time(s) before, "
                     f"first on {_date(row.get('first_seen'))}.")
    for earlier in (row.get("earlier") or [])[:3]:
        lines.append(f"This path has failed before; see {earlier.label} "
                     f"({_date(earlier.at)}) {earlier.url or ''}".rstrip() + ".")
    return lines[:HISTORY_LINES + 3]


def _excerpt(raw: Any) -> tuple[str, ...]:
    if not raw:
        return ("(no log excerpt: the job's log is not in the warehouse or was not analysed)",)
    lines = json.loads(raw) if isinstance(raw, str) else raw
    texts = [str(x.get("text", "")) if isinstance(x, dict) else str(x) for x in lines]
    return tuple(redact_many(texts[-EXCERPT_LINES:])) or (NOT_FOUND,)


# --- Triggers ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Attempt:
    """One deploy attempt to a ticketed environment: the streak and repeat counts read these."""

    repo: str
    environment: str
    at: datetime
    failed: bool
    label: str  # "deployment 42", "run 9001", "build 17"
    url: str | None


def _rows(conn: duckdb.DuckDBPyConnection, sql: str,
          params: list[Any]) -> list[dict[str, Any]]:
    cur = conn.execute(sql, params)
    names = [c[0] for c in cur.description]
    return [dict(zip(names, values, strict=True)) for values in cur.fetchall()]


def _deployment_rows(conn: duckdb.DuckDBPyConnection, cfg: AutomationConfig,
                     ) -> tuple[list[dict[str, Any]], list[Attempt], set[tuple[str, int]]]:
    """Failed deployment records, every attempt, and the CI runs deployment records cover
    (GitHub runs by the status's log URL, GitLab pipelines and jobs by the deployable)."""
    rows = []
    for r in _rows(conn, _DEPLOYMENTS_SQL, [list(cfg.environments)]):
        dep = f"{r['provider']}:{r['deployment_id']}"
        trigger = GITLAB_DEPLOYMENT if r["provider"] == "gitlab" else DEPLOYMENT_STATUS
        rows.append({**r, "key": dep, "trigger": trigger,
                     "deployment_url": r["deployment_url"] or r["target_url"]})
    attempts: list[Attempt] = []
    covered: set[tuple[str, int]] = set()
    for r in _rows(conn, _DEPLOY_ATTEMPTS_SQL, [list(cfg.environments)]):
        if r["gh_run_id"] is not None:
            covered.add(("github-run", int(r["gh_run_id"])))
        if r["failed"] or r["ok"]:
            attempts.append(Attempt(r["repo"] or "", r["environment"] or "", r["at_"],
                                    bool(r["failed"]), f"deployment {r['deployment_id']}",
                                    r["url"]))
    for pipeline_id, job_id in conn.execute(
            "SELECT pipeline_id, job_id FROM raw.gitlab_deployments").fetchall():
        if pipeline_id is not None:
            covered.add(("gitlab-pipeline", int(pipeline_id)))
        if job_id is not None:
            covered.add(("gitlab-job", int(job_id)))
    for r in rows:  # the job matched by commit when the URLs said nothing
        if r.get("job_provider") == "github" and r.get("run_id") is not None:
            covered.add(("github-run", int(r["run_id"])))
        if r.get("job_provider") == "gitlab" and r.get("run_id") is not None:
            covered.add(("gitlab-pipeline", int(r["run_id"])))
    return rows, attempts, covered


def _group_runs(jobs: list[dict[str, Any]], run_key: str) -> dict[Any, list[dict[str, Any]]]:
    runs: dict[Any, list[dict[str, Any]]] = {}
    for j in jobs:
        runs.setdefault(j[run_key], []).append(j)
    return runs


_FAILED = ("failure", "timed_out", "startup_failure")


def _run_outcome(jobs: list[dict[str, Any]]) -> tuple[bool | None, dict[str, Any] | None]:
    """(failed?, the first failed job) of one run's production jobs; None: neither failed nor
    all passed (cancelled, still running)."""
    failed = sorted((j for j in jobs if j["conclusion"] in _FAILED),
                    key=lambda j: (j["completed_at"] or datetime.max.replace(tzinfo=UTC),
                                   j["job_id"]))
    if failed:
        return True, failed[0]
    if jobs and all(j["conclusion"] == "success" for j in jobs):
        return False, max(jobs, key=lambda j: (j["completed_at"], j["job_id"]))
    return None, None


def _narrowed(trig: TriggerConfig, jobs: list[tuple[str | None, str | None]]) -> set[str]:
    """The workflows (pipelines) in which `production_jobs` names at least one job: only those
    jobs count there. Elsewhere every job does, so patterns written for one provider's job
    names do not silence another's."""
    if not trig.production_jobs:
        return set()
    return {where for where, name in jobs if where and trig.job_counts(name)}


def _workflow_rows(conn: duckdb.DuckDBPyConnection, cfg: AutomationConfig,
                   covered: set[tuple[str, int]]) -> tuple[list[dict[str, Any]], list[Attempt]]:
    """GitHub runs of production workflows with no deployment record: one ticket per failed run
    (its first failed production job), and every finished run as an attempt."""
    trig = cfg.triggers
    if not trig.production_workflows:
        return [], []
    workflows = conn.execute(
        "SELECT DISTINCT workflow_path, workflow_name FROM raw.github_workflow_runs").fetchall()
    names = sorted({name or "" for path, name in workflows
                    if trig.workflow_is_production(path, name)}
                   | {path or "" for path, name in workflows
                      if trig.workflow_is_production(path, name)})
    if not names:
        return [], []
    jobs = _rows(conn, """
        SELECT j.job_id, j.run_id, j.repo, j.workflow, j.job_name, j.sha, j.branch, j.conclusion,
               j.completed_at, j.url, j.run_url, j.failed_step, r.actor, r.workflow_path,
               r.workflow_name
        FROM core.ci_jobs j JOIN raw.github_workflow_runs r USING (run_id)
        WHERE j.provider = 'github' AND j.status = 'completed'
          AND (list_contains(?, r.workflow_name) OR list_contains(?, r.workflow_path))
        ORDER BY j.run_id, j.job_id
        """, [names, names])
    narrowed = _narrowed(trig, [(j["workflow_path"] or j["workflow_name"], j["job_name"])
                                for j in jobs])
    rows, attempts = [], []
    for run_id, run_jobs in _group_runs(jobs, "run_id").items():
        first = run_jobs[0]
        if not trig.workflow_is_production(first["workflow_path"], first["workflow_name"]):
            continue
        if ("github-run", int(run_id)) in covered:
            continue  # the deployment-status trigger speaks for this run
        wf_key = first["workflow_path"] or first["workflow_name"]
        prod = [j for j in run_jobs
                if wf_key not in narrowed or trig.job_counts(j["job_name"])]
        failed, job = _run_outcome(prod)
        if failed is None or job is None or job["completed_at"] is None:
            continue
        attempts.append(Attempt(job["repo"] or "", "production", job["completed_at"], failed,
                                f"run {run_id}", job["run_url"]))
        if not failed:
            continue
        wf = first["workflow_path"] or first["workflow_name"] or "a production workflow"
        rows.append({
            "key": f"github-run:{run_id}", "provider": "github", "trigger": WORKFLOW_JOB,
            "deployment_id": None, "repo": job["repo"], "environment": "production",
            "sha": job["sha"], "ref": job["branch"], "creator": job["actor"],
            "failed_at": job["completed_at"],
            "deployment_url": f"(no deployment record: the deploy ran as job "
                              f"{job['job_name']} of {wf})",
            "target_url": job["url"], "job_provider": "github", "job_id": job["job_id"],
            "run_id": run_id, "job_name": job["job_name"], "workflow": job["workflow"],
            "failed_step": job["failed_step"], "job_url": job["url"],
            "run_url": job["run_url"]})
    return rows, attempts


def _gitlab_rows(conn: duckdb.DuckDBPyConnection, cfg: AutomationConfig,
                 covered: set[tuple[str, int]]) -> tuple[list[dict[str, Any]], list[Attempt]]:
    """GitLab jobs configured as production deploys whose pipeline has no deployment record:
    one ticket per failed pipeline."""
    trig = cfg.triggers
    if not trig.gitlab_production_jobs:
        return [], []
    kinds = [f"{stage}:{name}" for stage, name in conn.execute(
        "SELECT DISTINCT coalesce(stage, ''), name FROM raw.gitlab_jobs").fetchall()
        if trig.gitlab_job_is_production(stage, name)]
    if not kinds:
        return [], []
    jobs = _rows(conn, """
        SELECT c.job_id, c.run_id, c.repo, c.workflow, c.job_name, c.sha, c.branch,
               c.conclusion, c.completed_at, c.url, c.run_url, g.stage, g.username,
               g.failure_reason, coalesce(g.allow_failure, false) AS allow_failure
        FROM core.ci_jobs c JOIN raw.gitlab_jobs g ON c.provider = 'gitlab' AND g.job_id = c.job_id
        WHERE c.status = 'completed' AND list_contains(?, coalesce(g.stage, '') || ':' || g.name)
        ORDER BY c.run_id, c.job_id
        """, [kinds])
    rows, attempts = [], []
    for pipeline_id, run_jobs in _group_runs(jobs, "run_id").items():
        prod = [j for j in run_jobs if not j["allow_failure"]
                and trig.gitlab_job_is_production(j["stage"], j["job_name"])
                and ("gitlab-job", int(j["job_id"])) not in covered]
        if not prod or ("gitlab-pipeline", int(pipeline_id)) in covered:
            continue
        failed, job = _run_outcome(prod)
        if failed is None or job is None or job["completed_at"] is None:
            continue
        attempts.append(Attempt(job["repo"] or "", "production", job["completed_at"], failed,
                                f"pipeline {pipeline_id}", job["run_url"]))
        if not failed:
            continue
        reason = job["failure_reason"] or "not given"
        rows.append({
            "key": f"gitlab-pipeline:{pipeline_id}", "provider": "gitlab", "trigger": GITLAB_JOB,
            "deployment_id": None, "repo": job["repo"], "environment": "production",
            "sha": job["sha"], "ref": job["branch"], "creator": job["username"],
            "failed_at": job["completed_at"],
            "deployment_url": f"(no deployment record: job {job['stage']}:{job['job_name']} "
                              f"is configured as a production deploy)",
            "target_url": job["url"], "job_provider": "gitlab", "job_id": job["job_id"],
            "run_id": pipeline_id, "job_name": job["job_name"], "workflow": job["workflow"],
            "failed_step": f"(GitLab reports no step; failure reason: {reason})",
            "job_url": job["url"], "run_url": job["run_url"]})
    return rows, attempts


def _buildkite_rows(conn: duckdb.DuckDBPyConnection, cfg: AutomationConfig,
                    ) -> tuple[list[dict[str, Any]], list[Attempt]]:
    """Builds of production Buildkite pipelines: one ticket per failed build."""
    trig = cfg.triggers
    if not trig.production_pipelines:
        return [], []
    builds = [b for b in _rows(conn, """
        SELECT build_uuid, run_id, number, pipeline_slug, pipeline_name, state, branch, sha,
               creator, coalesce(finished_at, created_at) AS at_, web_url
        FROM raw.buildkite_builds WHERE state IN ('passed', 'failed')
        ORDER BY at_, build_uuid
        """, []) if trig.pipeline_is_production(b["pipeline_slug"], b["pipeline_name"])]
    if not builds:
        return [], []
    jobs = _group_runs(_rows(conn, """
        SELECT c.job_id, c.run_id, c.repo, c.workflow, c.job_name, c.conclusion, c.completed_at,
               c.url, c.run_url, b.exit_status, coalesce(b.soft_failed, false) AS soft_failed,
               coalesce(b.retried, false) AS retried
        FROM core.ci_jobs c JOIN raw.buildkite_jobs b ON b.job_id = c.job_id
        WHERE c.provider = 'buildkite' AND list_contains(?, c.run_id)
        ORDER BY c.run_id, c.job_id
        """, [[b["run_id"] for b in builds]]), "run_id")
    narrowed = _narrowed(trig, [(j["repo"], j["job_name"]) for js in jobs.values() for j in js])
    rows, attempts = [], []
    for b in builds:
        # a retried job's last attempt decides; a soft failure is allowed to fail
        narrow = b["pipeline_slug"] in narrowed
        counted = [j for j in jobs.get(b["run_id"], []) if not j["soft_failed"]
                   and not j["retried"] and (not narrow or trig.job_counts(j["job_name"]))]
        failed, job = _run_outcome(counted)
        if narrow and failed is None:
            continue  # none of the configured deploy steps finished in this build
        failed = b["state"] == "failed" if failed is None else failed
        at = (job or {}).get("completed_at") if failed else b["at_"]
        at = at or b["at_"]
        if at is None:
            continue
        slug = b["pipeline_slug"]
        attempts.append(Attempt(slug, "production", at, failed, f"build {b['number']}",
                                b["web_url"]))
        if not failed:
            continue
        job = job or {}
        exit_status = job.get("exit_status")
        rows.append({
            "key": f"buildkite:{b['build_uuid']}", "provider": "buildkite",
            "trigger": BUILDKITE_BUILD, "deployment_id": None, "repo": slug,
            "environment": "production", "sha": b["sha"], "ref": b["branch"],
            "creator": b["creator"], "failed_at": at,
            "deployment_url": f"(no deployment record: build {b['number']} of production "
                              f"pipeline {slug})",
            "target_url": b["web_url"], "job_provider": "buildkite" if job else None,
            "job_id": job.get("job_id"), "run_id": b["run_id"],
            "job_name": job.get("job_name"), "workflow": b["pipeline_name"],
            "failed_step": ("(Buildkite jobs have no steps; exit status "
                            f"{exit_status if exit_status is not None else 'not given'})"
                            if job else None),
            "job_url": job.get("url") or b["web_url"], "run_url": b["web_url"]})
    return rows, attempts


def _analysis(conn: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    """Add each failing job's excerpt and recurrence row (in place)."""
    by_provider: dict[str, list[int]] = {}
    for r in rows:
        if r.get("job_provider") and r.get("job_id") is not None:
            by_provider.setdefault(r["job_provider"], []).append(int(r["job_id"]))
    found: dict[tuple[str, int], dict[str, Any]] = {}
    for provider, ids in by_provider.items():
        for e in _rows(conn, "SELECT job_id, excerpt FROM models.failure_excerpts "
                             "WHERE provider = ? AND list_contains(?, job_id)", [provider, ids]):
            found.setdefault((provider, e["job_id"]), {})["excerpt"] = e["excerpt"]
        for rec in _rows(conn, """
                SELECT job_id, cluster_id, prior_failures, first_seen, prior_ticket_keys,
                       prior_postmortem_ids, fix_ticket_key, fix_resolved_at, fix_did_not_hold
                FROM models.recurrences WHERE provider = ? AND list_contains(?, job_id)
                """, [provider, ids]):
            found.setdefault((provider, rec.pop("job_id")), {}).update(rec)
    for r in rows:
        if r.get("job_id") is not None:
            r.update(found.get((r["job_provider"], int(r["job_id"])), {}))


def _streaks(rows: list[dict[str, Any]], attempts: list[Attempt], window_days: float) -> None:
    """Repeat count, earlier failures and the start of the failing streak (in place)."""
    by_path: dict[tuple[str, str], list[Attempt]] = {}
    for a in attempts:
        by_path.setdefault((a.repo, a.environment), []).append(a)
    for path in by_path.values():
        path.sort(key=lambda a: a.at)
    window = timedelta(days=window_days)
    for r in rows:
        at: datetime = r["failed_at"]
        path = [a for a in by_path.get((r["repo"] or "", r["environment"] or ""), [])
                if a.at <= at]
        fails = [a for a in path if a.failed]
        recent = [a for a in fails if a.at > at - window]
        r["repeat_count"] = max(1, len(recent))
        r["earlier"] = [a for a in reversed(recent) if a.at < at]
        last_ok = max((a.at for a in path if not a.failed), default=None)
        streak = [a.at for a in fails if last_ok is None or a.at > last_ok]
        r["first_failed_at"] = min(streak, default=at)


def _blast(cfg: AutomationConfig, rows: list[dict[str, Any]]) -> None:
    """How many services are failing in production around each failure (in place): the
    repositories with a failed production deploy within `blast_window_minutes` before it, this
    one included, counted once per configured service, plus the services that depend on it."""
    window = timedelta(minutes=cfg.blast_window_minutes)

    def entity(repo: str) -> str:
        svc = cfg.service_of(repo)
        return svc.name if svc is not None else repo

    for r in rows:
        at: datetime = r["failed_at"]
        repo = r["repo"] or ""
        failing = sorted({entity(o["repo"] or "") for o in rows
                          if at - window <= o["failed_at"] <= at} | {entity(repo)})
        dependents = [d for d in cfg.dependents(repo) if d not in failing]
        r["blast_radius"] = len(failing) + len(dependents)
        parts = []
        others = [e for e in failing if e != entity(repo)]
        if others:
            parts.append(f"also failing in production within {cfg.blast_window_minutes:g} min: "
                         + ", ".join(others))
        if dependents:
            parts.append("dependent services: " + ", ".join(dependents))
        r["blast_detail"] = "; ".join(parts) or "only this repository"


def incident_tickets(conn: duckdb.DuckDBPyConnection,
                     cfg: AutomationConfig | None = None) -> list[TicketDraft]:
    """A draft for every failed production deploy in the warehouse, oldest first: deployment
    records (GitHub statuses, GitLab deployments), then the configured production workflows,
    GitLab jobs and Buildkite pipelines for runs no deployment record covers."""
    cfg = cfg or AutomationConfig()
    rows, attempts, covered = _deployment_rows(conn, cfg)
    for more, more_attempts in (_workflow_rows(conn, cfg, covered),
                                _gitlab_rows(conn, cfg, covered), _buildkite_rows(conn, cfg)):
        rows += more
        attempts += more_attempts
    rows = [r for r in rows if r["failed_at"] is not None]
    rows.sort(key=lambda r: (r["failed_at"], r["key"]))
    _analysis(conn, rows)
    _streaks(rows, attempts, cfg.repeat_window_days)
    _blast(cfg, rows)
    drafts = []
    for row in rows:
        failed_at: datetime = row["failed_at"]
        failing = max(0.0, (failed_at - row["first_failed_at"]).total_seconds() / 60)
        repeat = int(row["repeat_count"])
        prior = int(row.get("prior_failures") or 0)
        rule = classify(cfg, environment=row["environment"] or "", repo=row["repo"] or "",
                        repeat_count=repeat, failing_minutes=failing, prior_failures=prior,
                        blast_radius=row["blast_radius"])
        tracker, team = cfg.route(row["repo"] or "")
        job = row.get("job_name") or "(no failed job on record)"
        sha = row.get("sha") or ""
        drafts.append(TicketDraft(
            idempotency_key=row["key"],
            provider=row["provider"],
            deployment_id=(int(row["deployment_id"]) if row.get("deployment_id") is not None
                           else None),
            repo=row["repo"] or NOT_FOUND,
            environment=row["environment"] or NOT_FOUND,
            tracker=tracker,
            team=team,
            severity=rule.severity,
            rule=rule.describe(),
            title=f"[{rule.severity}] {row['environment']} deploy of {row['repo']} failed "
                  f"({job}, {sha[:7] or 'commit unknown'})",
            run_url=row.get("run_url") or row.get("target_url") or NOT_FOUND,
            job_url=row.get("job_url") or row.get("target_url") or NOT_FOUND,
            job_name=job,
            failed_step=row.get("failed_step") or "(the job reports no failed step)",
            excerpt=_excerpt(row.get("excerpt")),
            sha=sha or "(the provider reports no commit)",
            merged_by=row.get("creator") or "(the provider reports no user)",
            deployment_url=row.get("deployment_url") or row.get("target_url") or NOT_FOUND,
            failed_at=failed_at,
            repeat_count=repeat,
            failing_minutes=round(failing, 1),
            prior_failures=prior,
            history=tuple(_history(conn, row)),
            trigger=row["trigger"],
            blast_radius=int(row["blast_radius"]),
            blast_detail=row["blast_detail"],
        ))
    return drafts
