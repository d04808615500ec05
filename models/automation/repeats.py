"""Repeat failures: a new CI failure joining a cluster that already has a ticket or postmortem
alerts its team with that context, and a failure after the linked fix was closed reopens or
comments on the fix's ticket.

Both read `models.recurrences` (the "failed before; see KEY" links, computed by the build) for
failures at or after the watermark (`automation.watermarks`, set on the first evaluation to
`repeats.lookback_hours` before the newest failure then in the warehouse), so the first run
does not replay history. Every message is keyed by the failure, so each is queued once however
often the pass runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb

from models.automation import outbox
from models.automation.config import AutomationConfig
from models.automation.notify import Directory, enqueue_personal, exports_dir
from models.automation.senders import LINEAR_COMMENT, comment_adf, slack_payload
from models.logs.redact import redact_many

EXCERPT_LINES = 8
WATERMARK = "repeats"

_SQL = """
SELECT r.provider, r.job_id, r.cluster_id, r.repo, r.job_name, r.failed_at, r.prior_failures,
       r.first_seen, r.prior_ticket_keys, r.prior_postmortem_ids, r.fix_ticket_key,
       r.fix_resolved_at, r.fix_did_not_hold,
       f.run_url, f.url AS job_url, f.branch, f.sha, f.workflow, f.failed_step,
       e.excerpt, fc.representative,
       -- the CI behind a failed production deploy: its incident ticket carries the history
       EXISTS (SELECT 1 FROM core.deployments d
               WHERE d.failed AND (d.production OR d.environment IN (SELECT unnest(?::VARCHAR[])))
                 AND d.repo = f.repo
                 AND (d.target_url IN (f.url, f.run_url) OR d.sha = f.sha)) AS deploy_job
FROM models.recurrences r
JOIN core.ci_failures f USING (provider, job_id)
LEFT JOIN models.failure_excerpts e USING (provider, job_id)
LEFT JOIN models.failure_clusters fc ON fc.cluster_id = r.cluster_id
WHERE r.failed_at >= ?
  AND (len(r.prior_ticket_keys) > 0 OR len(r.prior_postmortem_ids) > 0 OR r.fix_did_not_hold)
ORDER BY r.failed_at, r.provider, r.job_id
"""


@dataclass(frozen=True)
class PriorTicket:
    key: str
    provider: str
    ticket_id: str
    url: str
    title: str
    created_at: datetime | None
    status: str
    status_category: str
    resolved_at: datetime | None


@dataclass(frozen=True)
class PriorPostmortem:
    postmortem_id: str
    title: str
    date: str
    team: str


@dataclass(frozen=True)
class Repeat:
    """One new failure of a cluster with history, and that history."""

    provider: str
    job_id: int
    cluster_id: str
    repo: str
    job_name: str
    workflow: str
    branch: str
    sha: str
    failed_at: datetime
    run_url: str
    prior_failures: int
    first_seen: datetime | None
    representative: str
    excerpt: tuple[str, ...]
    tickets: tuple[PriorTicket, ...]
    postmortems: tuple[PriorPostmortem, ...]
    fix: PriorTicket | None  # closed before this failure: the fix did not hold
    deploy_job: bool = False  # the CI of a failed production deploy (it has an incident ticket)

    @property
    def failure_key(self) -> str:
        return f"{self.provider}:{self.job_id}"


def _date(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    return str(value)[:10] if value else "date unknown"


def watermark(conn: duckdb.DuckDBPyConnection, cfg: AutomationConfig, now: datetime) -> datetime:
    """The time from which failures are alerted; set once, on the first evaluation."""
    row = conn.execute("SELECT since FROM automation.watermarks WHERE name = ?",
                       [WATERMARK]).fetchone()
    if row:
        return row[0]
    newest = conn.execute("SELECT max(failed_at) FROM core.ci_failures").fetchone()
    anchor = min(now, newest[0]) if newest and newest[0] else now
    since = anchor - timedelta(hours=cfg.repeats.lookback_hours)
    note = (f"{cfg.repeats.lookback_hours:g} h before the newest CI failure then in the "
            f"warehouse ({anchor.isoformat()})" if anchor != now
            else f"{cfg.repeats.lookback_hours:g} h before the first evaluation")
    conn.execute("INSERT INTO automation.watermarks (name, since, set_at, note) "
                 "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", [WATERMARK, since, now, note])
    got = conn.execute("SELECT since FROM automation.watermarks WHERE name = ?",
                       [WATERMARK]).fetchone()
    return got[0] if got else since


def _excerpt(raw: Any) -> tuple[str, ...]:
    if not raw:
        return ()
    lines = json.loads(raw) if isinstance(raw, str) else raw
    texts = [str(x.get("text", "")) if isinstance(x, dict) else str(x) for x in lines]
    return tuple(redact_many(texts[-EXCERPT_LINES:]))


def repeats_since(conn: duckdb.DuckDBPyConnection, since: datetime,
                  branches: tuple[str, ...] = (),
                  environments: tuple[str, ...] = ()) -> list[Repeat]:
    """Failures at or after `since` whose cluster has a prior ticket or postmortem, or whose
    linked fix had been closed, oldest first. `deploy_job` marks the CI of a failed production
    deployment (`environments` as in the deploy-failure config)."""
    cur = conn.execute(_SQL, [list(environments), since])
    names = [c[0] for c in cur.description]
    rows = [dict(zip(names, v, strict=True)) for v in cur.fetchall()]
    if branches:
        rows = [r for r in rows if r["branch"] in branches]
    keys = sorted({k for r in rows for k in (r["prior_ticket_keys"] or [])}
                  | {r["fix_ticket_key"] for r in rows if r["fix_ticket_key"]})
    pms = sorted({p for r in rows for p in (r["prior_postmortem_ids"] or [])})
    tickets = {t[0]: PriorTicket(t[0], t[1] or "", str(t[2] or ""), t[3] or "", t[4] or "",
                                 t[5], t[6] or "", t[7] or "", t[8])
               for t in conn.execute(
                   "SELECT ticket_key, provider, ticket_id, url, title, created_at, status, "
                   "status_category, resolved_at FROM core.tickets "
                   "WHERE ticket_key IN (SELECT unnest(?::VARCHAR[]))", [keys]).fetchall()}
    postmortems = {p[0]: PriorPostmortem(p[0], p[1] or "", _date(p[2]), p[3] or "")
                   for p in conn.execute(
                       "SELECT postmortem_id, title, coalesce(doc_date::VARCHAR, "
                       "identified_at::VARCHAR), team FROM core.postmortems "
                       "WHERE postmortem_id IN (SELECT unnest(?::VARCHAR[]))", [pms]).fetchall()}
    out = []
    for r in rows:
        known = [tickets.get(k) or PriorTicket(k, "", "", "", "", None, "", "", None)
                 for k in r["prior_ticket_keys"] or []]
        fix = None
        if r["fix_did_not_hold"] and r["fix_ticket_key"]:
            fix = tickets.get(r["fix_ticket_key"]) or PriorTicket(
                r["fix_ticket_key"], "", "", "", "", None, "", "done", r["fix_resolved_at"])
        out.append(Repeat(
            provider=r["provider"], job_id=int(r["job_id"]), cluster_id=r["cluster_id"],
            repo=r["repo"] or "", job_name=r["job_name"] or "", workflow=r["workflow"] or "",
            branch=r["branch"] or "", sha=r["sha"] or "", failed_at=r["failed_at"],
            run_url=r["run_url"] or r["job_url"] or "", prior_failures=int(r["prior_failures"]),
            first_seen=r["first_seen"], representative=r["representative"] or "",
            excerpt=_excerpt(r["excerpt"]), tickets=tuple(known),
            postmortems=tuple(postmortems.get(p) or PriorPostmortem(p, "", "date unknown", "")
                              for p in r["prior_postmortem_ids"] or []),
            fix=fix, deploy_job=bool(r["deploy_job"])))
    return out


def _ticket_line(t: PriorTicket) -> str:
    state = f", {t.status}" if t.status else ""
    return f"{t.key} ({_date(t.created_at)}{state}) {t.url}".rstrip()


_SIGNAL = re.compile(r"(?i)\b(error|fail(ed|ure)?|assert\w*|exception|panic\w*|timed out|"
                     r"timeout|mismatch|expected)\b")
_GENERIC = re.compile(r"(?i)process completed with exit code|^\[?\w*\]? ?tests run:")


def headline(representative: str) -> str:
    """The cluster's most telling line: the first that names an error and is not a runner's
    generic exit line, else its first line."""
    lines = [x.strip() for x in representative.splitlines() if x.strip()]
    for line in lines:
        if _SIGNAL.search(line) and not _GENERIC.search(line):
            return line[:160]
    return lines[0][:160] if lines else ""


def context_lines(r: Repeat) -> list[str]:
    """What is known about the cluster: its history, prior tickets and postmortems."""
    lines = [f"Cluster {r.cluster_id}: seen {r.prior_failures} time(s) before, first on "
             f"{_date(r.first_seen)}."]
    if r.representative:
        lines.append(f"Failure: {headline(r.representative)}")
    lines += [f"Prior ticket: {_ticket_line(t)}" for t in r.tickets[:3]]
    lines += [f"Postmortem: {p.postmortem_id} ({p.date}){': ' + p.title if p.title else ''}"
              for p in r.postmortems[:2]]
    if r.fix is not None:
        lines.append(f"The fix in {r.fix.key} (closed {_date(r.fix.resolved_at)}) did not hold.")
    return lines


def alert_text(r: Repeat) -> str:
    """The team channel's alert: context, the new run's link and its redacted excerpt."""
    head = f":repeat: *Repeat failure in {r.repo}*: {r.job_name}"
    head += f" ({r.workflow})" if r.workflow else ""
    head += f" on {r.branch}" if r.branch else ""
    lines = [head, *context_lines(r), f"New failure {_date(r.failed_at)}: {r.run_url}"]
    if r.excerpt:
        lines += ["```", *r.excerpt, "```"]
    return "\n".join(lines)


def em_text(r: Repeat) -> str:
    """The engineering manager's message: the ticket first, no raw CI link."""
    refs = [t for t in ([r.fix] if r.fix else []) + list(r.tickets) if t.url]
    head = (f"Repeat failure in {r.repo} ({r.job_name}): ticket {refs[0].key} {refs[0].url}"
            if refs else f"Repeat failure in {r.repo} ({r.job_name})")
    return "\n".join([head, *context_lines(r)])


def _fix_lines(r: Repeat, action: str) -> tuple[list[str], str]:
    assert r.fix is not None
    marker = f"followthrough:fixfail:{r.fix.key}:{r.failure_key}"
    lines = [f"The fix did not hold: {r.repo} failed again on {_date(r.failed_at)} "
             f"({r.job_name}), after this ticket was closed on {_date(r.fix.resolved_at)}.",
             f"Run: {r.run_url}",
             f"Same failure cluster {r.cluster_id}, seen {r.prior_failures} time(s) before.",
             f"{'Reopened' if action == 'reopen' else 'Commented'} by followthrough ({marker})."]
    return lines, marker


def fix_payload(r: Repeat, action: str) -> tuple[str, str, dict[str, Any]]:
    """(kind, target, payload) of the follow-up on the fix's ticket, by its tracker."""
    assert r.fix is not None
    t = r.fix
    provider = t.provider
    kind = "comment" if provider == "linear" else action
    lines, marker = _fix_lines(r, kind)
    excerpt = list(r.excerpt[-6:])
    if provider == "jira":
        return kind, "jira", {"op": kind, "issue": t.key, "marker": marker,
                              "request": {"body": comment_adf(lines, excerpt or None)}}
    body = "\n\n".join(lines)
    if excerpt:
        body += "\n\n```\n" + "\n".join(excerpt) + "\n```"
    if provider == "github":
        repo, _, number = t.key.rpartition("#")
        return kind, "github", {"op": kind, "repo": repo, "number": int(number),
                                "marker": marker, "request": {"body": body}}
    return kind, "linear", {
        "op": "comment", "issue": t.key, "issue_id": t.ticket_id or t.key, "marker": marker,
        "query": LINEAR_COMMENT,
        "variables": {"input": {"issueId": t.ticket_id or t.key, "body": body}}}


def enqueue_repeats(conn: duckdb.DuckDBPyConnection, cfg: AutomationConfig,
                    env: Mapping[str, str], now: datetime,
                    directory: Directory | None = None) -> dict[str, int]:
    """Queue repeat-failure alerts (team channel and EM) and fix-did-not-hold follow-ups for
    failures since the watermark; returns rows added by kind."""
    if not cfg.repeats.enabled:
        return {}
    since = watermark(conn, cfg, now)
    found = repeats_since(conn, since, cfg.repeats.branches, cfg.environments)
    if not found:
        return {}
    directory = directory or Directory(cfg, exports_dir(env))
    slack = cfg.target("slack")
    oldest = now - timedelta(hours=cfg.max_age_hours) if cfg.max_age_hours else None
    added: dict[str, int] = {}

    def count(kind: str | None, n: int = 1) -> None:
        if kind and n:
            added[kind] = added.get(kind, 0) + n

    for r in found:
        # A failure already old when first seen is recorded, never sent (as for tickets).
        fresh = oldest is None or r.failed_at >= oldest
        pm_team = next((p.team for p in r.postmortems if p.team), "")
        team, _how = directory.team_for(r.repo, r.excerpt, fallback=pm_team)
        team_cfg = directory.team_config(team)
        channel = (team_cfg.channel if team_cfg else "") or slack.channel
        key = f"repeat:{r.failure_key}"
        # A failed production deploy's CI already has an incident ticket (and, above the
        # severity threshold, a channel alert) carrying this history: no second alert.
        if (r.tickets or r.postmortems) and not r.deploy_job:
            count("alert", outbox.enqueue(
                conn, key=key, kind="alert", target="slack",
                payload=slack_payload(channel, alert_text(r), key),
                live=slack.is_live(env) and fresh, rule=f"repeat failure (team {team or '?'})",
                event_at=r.failed_at, now=now))
            em = directory.em(team) if team else None
            if em is not None:
                count(enqueue_personal(
                    conn, cfg, env, now, key=f"repeat-em:{r.failure_key}", kind=None, to=em,
                    subject=f"Repeat failure in {r.repo}: {r.job_name}", text=em_text(r),
                    send=fresh, event_at=r.failed_at))
        if r.fix is not None and r.fix.provider in ("jira", "github", "linear"):
            kind, target, payload = fix_payload(r, cfg.repeats.fix_not_held)
            count(kind, outbox.enqueue(
                conn, key=f"fixfail:{r.fix.key}:{r.failure_key}", kind=kind, target=target,
                payload=payload, live=cfg.target(target).is_live(env) and fresh,
                rule="fix did not hold", event_at=r.failed_at, now=now))
    return added
