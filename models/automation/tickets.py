"""Failed production deployment -> an incident ticket draft carrying everything a responder needs.

The draft is built from the warehouse alone (deployment, the CI job behind it, its redacted
excerpt, the recurrence links), so writing it costs a person nothing at 2 a.m. and the same
deployment always yields the same draft.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import duckdb

from models.automation.config import AutomationConfig, SeverityRule
from models.logs.redact import redact_many

NOT_FOUND = "(not found)"
EXCERPT_LINES = 12
HISTORY_LINES = 5

# One row per failed deployment: the CI job it ran in (by the deployment's log/target URL, else
# the failed job of the same repository and commit closest to the failure), its excerpt, its
# recurrence row, and the streak of production failures it belongs to.
_SQL = """
WITH d AS (
    SELECT *, coalesce(finished_at, created_at) AS failed_at_
    FROM core.deployments
    WHERE failed AND (production OR environment IN (SELECT unnest(?::VARCHAR[])))
),
job AS (
    SELECT d.provider AS d_provider, d.deployment_id, f.provider, f.job_id, f.run_id,
           f.job_name, f.workflow, f.failed_step, f.url AS job_url, f.run_url,
           f.failed_at AS job_failed_at
    FROM d JOIN core.ci_failures f
      ON f.repo = d.repo AND (f.url = d.target_url OR f.run_url = d.target_url
                              OR f.sha = d.sha)
    QUALIFY row_number() OVER (
        PARTITION BY d.provider, d.deployment_id
        ORDER BY (f.url = d.target_url) DESC, (f.run_url = d.target_url) DESC,
                 abs(epoch(f.failed_at) - epoch(d.failed_at_)), f.job_id) = 1
),
envdeps AS (
    SELECT provider, deployment_id, repo, environment, failed, url,
           coalesce(finished_at, created_at) AS at_
    FROM core.deployments
),
last_ok AS (
    SELECT d.provider, d.deployment_id, max(o.at_) AS ok_at
    FROM d JOIN envdeps o
      ON o.repo = d.repo AND o.environment = d.environment AND NOT o.failed
     AND o.at_ < d.failed_at_
    GROUP BY ALL
),
streak AS (
    SELECT d.provider, d.deployment_id, min(p.at_) AS first_failed_at
    FROM d LEFT JOIN last_ok l USING (provider, deployment_id)
    JOIN envdeps p
      ON p.repo = d.repo AND p.environment = d.environment AND p.failed
     AND p.at_ <= d.failed_at_ AND (l.ok_at IS NULL OR p.at_ > l.ok_at)
    GROUP BY ALL
),
repeats AS (
    SELECT d.provider, d.deployment_id, count(p.deployment_id) AS repeat_count,
           list(struct_pack(at := p.at_, url := p.url, id := p.deployment_id)
                ORDER BY p.at_ DESC) FILTER (WHERE p.deployment_id <> d.deployment_id)
               AS earlier
    FROM d JOIN envdeps p
      ON p.repo = d.repo AND p.environment = d.environment AND p.failed
     AND p.at_ <= d.failed_at_
     AND p.at_ > d.failed_at_ - to_microseconds(CAST(? * 86400e6 AS BIGINT))
    GROUP BY ALL
)
SELECT d.provider, d.deployment_id, d.repo, d.environment, d.production, d.sha, d.ref,
       d.creator, d.created_at, d.failed_at_ AS failed_at, d.final_state, d.target_url,
       d.url AS deployment_url,
       j.provider AS job_provider, j.job_id, j.run_id, j.job_name, j.workflow, j.failed_step,
       j.job_url, j.run_url,
       e.excerpt,
       r.cluster_id, r.prior_failures, r.first_seen, r.prior_ticket_keys,
       r.prior_postmortem_ids, r.fix_ticket_key, r.fix_resolved_at, r.fix_did_not_hold,
       s.first_failed_at, rp.repeat_count, rp.earlier
FROM d
LEFT JOIN job j ON j.d_provider = d.provider AND j.deployment_id = d.deployment_id
LEFT JOIN models.failure_excerpts e ON e.provider = j.provider AND e.job_id = j.job_id
LEFT JOIN models.recurrences r ON r.provider = j.provider AND r.job_id = j.job_id
LEFT JOIN streak s ON s.provider = d.provider AND s.deployment_id = d.deployment_id
LEFT JOIN repeats rp ON rp.provider = d.provider AND rp.deployment_id = d.deployment_id
ORDER BY failed_at, d.provider, d.deployment_id
"""


@dataclass(frozen=True)
class TicketDraft:
    """One incident ticket, tracker-neutral; `senders` turns it into each vendor's request."""

    idempotency_key: str
    provider: str
    deployment_id: int
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

    @property
    def key_label(self) -> str:
        """The tracker label carrying the idempotency key (labels allow no spaces or colons
        everywhere, so ':' becomes '-')."""
        return "followthrough-" + self.idempotency_key.replace(":", "-")

    def facts(self) -> list[tuple[str, str]]:
        """(label, value) lines every tracker's description starts with."""
        return [
            ("Severity", f"{self.severity} (rule: {self.rule})"),
            ("Repository", self.repo),
            ("Environment", self.environment),
            ("CI run", self.run_url),
            ("Failing job", f"{self.job_name} (step: {self.failed_step})"),
            ("Job log", self.job_url),
            ("Commit", self.sha),
            ("Merged by", self.merged_by),
            ("Deployment", self.deployment_url),
            ("Failed at", self.failed_at.strftime("%Y-%m-%d %H:%M:%S UTC")),
            ("Failed deploys in window", str(self.repeat_count)),
            ("Failing for", f"{self.failing_minutes:.0f} min"),
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
             failing_minutes: float, prior_failures: int) -> SeverityRule:
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
        lines.append(f"This path has failed before; see deployment {earlier['id']} "
                     f"({_date(earlier['at'])}) {earlier['url'] or ''}".rstrip() + ".")
    return lines[:HISTORY_LINES + 3]


def _excerpt(raw: Any) -> tuple[str, ...]:
    if not raw:
        return (NOT_FOUND,)
    lines = json.loads(raw) if isinstance(raw, str) else raw
    texts = [str(x.get("text", "")) if isinstance(x, dict) else str(x) for x in lines]
    return tuple(redact_many(texts[-EXCERPT_LINES:])) or (NOT_FOUND,)


def incident_tickets(conn: duckdb.DuckDBPyConnection,
                     cfg: AutomationConfig | None = None) -> list[TicketDraft]:
    """A draft for every failed production deployment in the warehouse, oldest first."""
    cfg = cfg or AutomationConfig()
    cur = conn.execute(_SQL, [list(cfg.environments), cfg.repeat_window_days])
    names = [c[0] for c in cur.description]
    drafts = []
    for values in cur.fetchall():
        row = dict(zip(names, values, strict=True))
        failed_at: datetime = row["failed_at"]
        first = row.get("first_failed_at") or failed_at
        failing = max(0.0, (failed_at - first).total_seconds() / 60)
        repeat = int(row.get("repeat_count") or 1)
        prior = int(row.get("prior_failures") or 0)
        rule = classify(cfg, environment=row["environment"] or "", repo=row["repo"] or "",
                        repeat_count=repeat, failing_minutes=failing, prior_failures=prior)
        tracker, team = cfg.route(row["repo"] or "")
        job = row.get("job_name") or NOT_FOUND
        drafts.append(TicketDraft(
            idempotency_key=f"{row['provider']}:{row['deployment_id']}",
            provider=row["provider"],
            deployment_id=int(row["deployment_id"]),
            repo=row["repo"] or NOT_FOUND,
            environment=row["environment"] or NOT_FOUND,
            tracker=tracker,
            team=team,
            severity=rule.severity,
            rule=rule.describe(),
            title=f"[{rule.severity}] {row['environment']} deploy of {row['repo']} failed "
                  f"({job}, {(row['sha'] or '')[:7]})",
            run_url=row.get("run_url") or row.get("target_url") or NOT_FOUND,
            job_url=row.get("job_url") or row.get("target_url") or NOT_FOUND,
            job_name=job,
            failed_step=row.get("failed_step") or NOT_FOUND,
            excerpt=_excerpt(row.get("excerpt")),
            sha=row["sha"] or NOT_FOUND,
            merged_by=row["creator"] or NOT_FOUND,
            deployment_url=row.get("deployment_url") or row.get("target_url") or NOT_FOUND,
            failed_at=failed_at,
            repeat_count=repeat,
            failing_minutes=round(failing, 1),
            prior_failures=prior,
            history=tuple(_history(conn, row)),
        ))
    return drafts
