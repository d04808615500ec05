"""Everything a postmortem draft needs from the warehouse, read in one place.

`load_draft_input` only reads (the caller opens the warehouse read-only) and returns the frozen
dataclasses of `models.postmortems.draft`, which the pure renderer turns into Markdown.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import duckdb

from models.ci import FAILED_CONCLUSIONS
from models.postmortems.draft import (
    CiActivity,
    CiFailure,
    CiRecovery,
    ClusterLink,
    DeploymentFacts,
    DraftInput,
    ExcerptLine,
    IncidentFacts,
    PagerDutyEventFacts,
    Recurrence,
    RelatedRepo,
    SlackMessageFacts,
    TicketEventFacts,
    TicketFacts,
)

# A production deploy this close before the incident ties its repository to the incident even
# when the repository is not named after the service.
DEPLOY_LEAD_HOURS = 2.0
# Ticket activity on the incident's own tickets is followed this long after resolution.
TICKET_FOLLOW_HOURS = 24.0
MAX_FAILURES = 200
MAX_TICKET_EVENTS = 200
MAX_SLACK_MESSAGES = 500
# Slack messages are read from this long before the incident (the channel may open as the
# alert fires) until this long after its resolution (the all-clear, the follow-ups).
SLACK_LEAD_HOURS = 1.0
SLACK_FOLLOW_HOURS = 2.0
MAX_HOURS = 24 * 31
# One SQL placeholder per failed conclusion, bound from FAILED_CONCLUSIONS.
_FAILED_IN = ", ".join("?" for _ in FAILED_CONCLUSIONS)
_REPO_URL_RE = re.compile(r"github\.com/(?:repos/)?([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)")
_NON_ALNUM_RE = re.compile(r"[^a-z0-9]+")


class UnknownIncident(LookupError):
    """The incident id (or number) is not in core.incidents."""

    def __init__(self, incident_id: str, recent: list[tuple[str, str | None]]) -> None:
        super().__init__(incident_id)
        self.incident_id = incident_id
        self.recent = recent


class WarehouseNotReady(RuntimeError):
    """The file is not a followthrough warehouse (no core.incidents table)."""


def _utc(t: Any) -> dt.datetime | None:
    if t is None:
        return None
    if isinstance(t, dt.datetime):
        return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)
    return None


def _tables(conn: duckdb.DuckDBPyConnection) -> set[str]:
    rows = conn.execute("SELECT table_schema || '.' || table_name FROM information_schema.tables").fetchall()
    return {r[0] for r in rows}


def _rows(conn: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    rel = conn.execute(sql, params)
    cols = [c[0] for c in rel.description or []]
    return [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]


def normalize_service(name: str) -> str:
    return _NON_ALNUM_RE.sub("-", name.lower()).strip("-")


def repo_matches_service(repo: str, service: str) -> bool:
    """A repository belongs to a service when its name (after the owner) equals or contains it."""
    svc = normalize_service(service)
    if not svc:
        return False
    name = normalize_service(repo.rsplit("/", 1)[-1])
    return svc in name


def find_incident(conn: duckdb.DuckDBPyConnection, incident_id: str) -> IncidentFacts:
    """By PagerDuty id (exact, then case-insensitive), else by incident number ("1185", "#1185")."""
    tables = _tables(conn)
    if "core.incidents" not in tables:
        raise WarehouseNotReady(
            "the file has no core.incidents table: it is not a followthrough warehouse, or no "
            "build has run yet (`followthrough build`)"
        )
    sql = (
        "SELECT incident_id, provider, incident_number, title, service, team, priority, urgency, "
        "status, created_at, resolved_at, duration_min, url FROM core.incidents "
    )
    key = incident_id.strip()
    rows = _rows(conn, sql + "WHERE incident_id = ?", [key])
    if not rows:
        rows = _rows(conn, sql + "WHERE lower(incident_id) = lower(?)", [key])
    number = key.lstrip("#")
    if not rows and number.isdigit():
        rows = _rows(conn, sql + "WHERE incident_number = ? ORDER BY created_at DESC", [int(number)])
    if rows and rows[0]["created_at"] is None:
        raise ValueError(
            f"incident {rows[0]['incident_id']} has no creation time in core.incidents, so no "
            "timeline can be built around it"
        )
    if not rows:
        recent = conn.execute(
            "SELECT incident_id, title FROM core.incidents ORDER BY created_at DESC NULLS LAST LIMIT 5"
        ).fetchall()
        raise UnknownIncident(incident_id, [(r[0], r[1]) for r in recent])
    r = rows[0]
    return IncidentFacts(
        incident_id=r["incident_id"],
        provider=r["provider"] or "pagerduty",
        number=r["incident_number"],
        title=r["title"],
        service=r["service"],
        team=r["team"],
        priority=r["priority"],
        urgency=r["urgency"],
        status=r["status"],
        created_at=_utc(r["created_at"]),  # type: ignore[arg-type]
        resolved_at=_utc(r["resolved_at"]),
        duration_min=r["duration_min"],
        url=r["url"],
    )


def _details(conn: duckdb.DuckDBPyConnection, incident_id: str) -> str:
    row = conn.execute(
        "SELECT coalesce(details, '') FROM core.incidents WHERE incident_id = ?", [incident_id]
    ).fetchone()
    return str(row[0]) if row else ""


def related_repos(
    conn: duckdb.DuckDBPyConnection,
    inc: IncidentFacts,
    window_start: dt.datetime,
) -> list[RelatedRepo]:
    """Repositories whose CI and deploys belong in the draft, each with the reason why."""
    found: dict[str, tuple[str, str]] = {}
    known = [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT repo FROM core.ci_jobs WHERE repo IS NOT NULL "
            "UNION SELECT DISTINCT repo FROM core.deployments WHERE repo IS NOT NULL ORDER BY 1"
        ).fetchall()
    ]
    if inc.service:
        for repo in known:
            if repo_matches_service(repo, inc.service):
                name = repo.rsplit("/", 1)[-1]
                same = normalize_service(name) == normalize_service(inc.service)
                found[repo] = (
                    "repository name matches the service"
                    if same
                    else f"repository name contains the service name {inc.service}",
                    "service_name",
                )
    known_lower = {k.lower(): k for k in known}
    for m in _REPO_URL_RE.finditer(_details(conn, inc.incident_id)):
        repo = known_lower.get(m.group(1).lower().removesuffix(".git"))
        if repo and repo not in found:
            found[repo] = ("named in the PagerDuty incident details", "incident_details")
    lead_start = max(window_start, inc.created_at - dt.timedelta(hours=DEPLOY_LEAD_HOURS))
    rows = conn.execute(
        """
        SELECT repo, bool_or(failed) AS any_failed, max(created_at) AS last_at
        FROM core.deployments
        WHERE production AND repo IS NOT NULL
          AND (
                (created_at >= ? AND created_at <= ?)
             OR (failed AND coalesce(finished_at, created_at) >= ?
                 AND coalesce(finished_at, created_at) <= ?)
          )
        GROUP BY repo ORDER BY repo
        """,
        [lead_start, inc.created_at, window_start, inc.created_at],
    ).fetchall()
    for repo, any_failed, _last in rows:
        if repo in found:
            continue
        found[repo] = (
            "a production deploy failed in the window before the incident"
            if any_failed
            else f"production deploy within {DEPLOY_LEAD_HOURS:g} h before the incident",
            "deploy_timing",
        )
    return [RelatedRepo(repo, reason, kind) for repo, (reason, kind) in found.items()]


def _excerpt(raw: Any) -> tuple[ExcerptLine, ...]:
    if raw is None:
        return ()
    try:
        items = json.loads(raw) if isinstance(raw, str) else raw
    except (TypeError, ValueError):
        return ()
    out: list[ExcerptLine] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or "text" not in item:
            continue
        try:
            n = int(item.get("n") or 0)
        except (TypeError, ValueError):
            n = 0
        out.append(ExcerptLine(n=n, text=str(item["text"]), context=bool(item.get("context"))))
    return tuple(out)


def _failures(
    conn: duckdb.DuckDBPyConnection,
    tables: set[str],
    repos: list[str],
    start: dt.datetime,
    end: dt.datetime,
    incident_at: dt.datetime,
) -> list[CiFailure]:
    have_ex = "models.failure_excerpts" in tables
    have_cl = "models.ci_failure_clusters" in tables
    have_rec = "models.recurrences" in tables
    select = [
        "f.provider, f.job_id, f.run_id, f.repo, f.workflow, f.job_name, f.branch, f.sha, "
        "f.conclusion, f.failed_step, f.failed_at, f.url, f.run_url"
    ]
    joins = []
    if have_ex:
        select.append(
            "e.job_id IS NOT NULL AS analysed, e.fingerprint, CAST(e.excerpt AS VARCHAR) AS excerpt, e.notes"
        )
        joins.append("LEFT JOIN models.failure_excerpts e ON e.provider = f.provider AND e.job_id = f.job_id")
    else:
        select.append("false AS analysed, NULL AS fingerprint, NULL AS excerpt, NULL AS notes")
    if have_cl:
        select.append("c.cluster_id")
        joins.append(
            "LEFT JOIN models.ci_failure_clusters c ON c.provider = f.provider AND c.job_id = f.job_id"
        )
    else:
        select.append("NULL AS cluster_id")
    if have_rec:
        select.append(
            "r.occurrence, r.prior_failures, r.first_seen, r.prior_ticket_keys, "
            "r.prior_postmortem_ids, r.fix_ticket_key, r.fix_resolved_at, r.fix_did_not_hold, "
            "r.message, r.cluster_id AS rec_cluster"
        )
        joins.append("LEFT JOIN models.recurrences r ON r.provider = f.provider AND r.job_id = f.job_id")
    sql = (
        f"SELECT {', '.join(select)} FROM core.ci_failures f {' '.join(joins)} "
        "WHERE list_contains(?, f.repo) AND f.failed_at >= ? AND f.failed_at <= ? "
        "ORDER BY abs(epoch(f.failed_at) - epoch(?::TIMESTAMPTZ)), f.job_id LIMIT ?"
    )
    rows = _rows(conn, sql, [repos, start, end, incident_at, MAX_FAILURES])
    clusters = {r["cluster_id"] or r.get("rec_cluster") for r in rows} - {None}
    links = _cluster_links(conn, tables, sorted(clusters), incident_at) if clusters else {}
    out: list[CiFailure] = []
    for r in rows:
        rec = None
        if have_rec and r.get("occurrence") is not None:
            rec = Recurrence(
                occurrence=int(r["occurrence"]),
                prior_failures=int(r["prior_failures"] or 0),
                first_seen=_utc(r["first_seen"]),
                prior_ticket_keys=tuple(r["prior_ticket_keys"] or ()),
                prior_postmortem_ids=tuple(r["prior_postmortem_ids"] or ()),
                fix_ticket_key=r["fix_ticket_key"],
                fix_resolved_at=_utc(r["fix_resolved_at"]),
                fix_did_not_hold=bool(r["fix_did_not_hold"]),
                message=r["message"],
            )
        cluster = r["cluster_id"] or r.get("rec_cluster")
        out.append(
            CiFailure(
                job_id=int(r["job_id"]),
                repo=r["repo"],
                job_name=r["job_name"] or "(unnamed job)",
                failed_at=_utc(r["failed_at"]) or start,
                provider=r["provider"],
                run_id=r["run_id"],
                workflow=r["workflow"],
                branch=r["branch"],
                sha=r["sha"],
                conclusion=r["conclusion"] or "failure",
                failed_step=r["failed_step"],
                url=r["url"],
                run_url=r["run_url"],
                fingerprint=r["fingerprint"],
                cluster_id=cluster,
                excerpt=_excerpt(r["excerpt"]),
                excerpt_notes=tuple(r["notes"] or ()),
                analysed=bool(r["analysed"]),
                recurrence=rec,
                links=links.get(cluster, ()) if cluster else (),
            )
        )
    out.sort(key=lambda f: (f.failed_at, f.job_id))
    return out


def _cluster_links(
    conn: duckdb.DuckDBPyConnection, tables: set[str], clusters: list[str], before: dt.datetime
) -> dict[str, tuple[ClusterLink, ...]]:
    """Tickets, postmortems and incidents tied to these clusters before the incident began."""
    if "models.cluster_links" not in tables:
        return {}
    rows = conn.execute(
        """
        SELECT cluster_id, link_type, target_id, evidence, linked_at FROM models.cluster_links
        WHERE list_contains(?, cluster_id) AND (linked_at IS NULL OR linked_at < ?)
        ORDER BY cluster_id, linked_at NULLS LAST, link_type, target_id
        """,
        [clusters, before],
    ).fetchall()
    out: dict[str, list[ClusterLink]] = {}
    for cid, kind, target, evidence, at in rows:
        out.setdefault(cid, []).append(ClusterLink(kind, target, evidence, _utc(at)))
    return {k: tuple(v) for k, v in out.items()}


def _activity(
    conn: duckdb.DuckDBPyConnection, repos: list[str], start: dt.datetime, end: dt.datetime
) -> list[CiActivity]:
    rows = conn.execute(
        f"""
        SELECT repo, count(*) AS jobs, count(*) FILTER (WHERE conclusion IN ({_FAILED_IN})) AS failures
        FROM core.ci_jobs
        WHERE list_contains(?, repo) AND completed_at >= ? AND completed_at <= ?
        GROUP BY repo ORDER BY repo
        """,
        [*FAILED_CONCLUSIONS, repos, start, end],
    ).fetchall()
    return [CiActivity(r[0], int(r[1]), int(r[2])) for r in rows]


def _recoveries(
    conn: duckdb.DuckDBPyConnection, repos: list[str], start: dt.datetime, end: dt.datetime
) -> list[CiRecovery]:
    """The first success of a job after it failed, within the window."""
    rows = conn.execute(
        f"""
        WITH j AS (
            SELECT repo, workflow, job_name, branch, sha, url, conclusion, completed_at,
                   lag(conclusion) OVER (PARTITION BY repo, workflow, job_name
                                         ORDER BY completed_at, job_id) AS prev
            FROM core.ci_jobs
            WHERE list_contains(?, repo) AND completed_at >= ? AND completed_at <= ?
              AND conclusion IN ('success', {_FAILED_IN})
        )
        SELECT repo, workflow, job_name, branch, sha, url, completed_at FROM j
        WHERE conclusion = 'success' AND prev IN ({_FAILED_IN})
        ORDER BY completed_at
        """,
        [repos, start, end, *FAILED_CONCLUSIONS, *FAILED_CONCLUSIONS],
    ).fetchall()
    return [
        CiRecovery(
            repo=r[0],
            workflow=r[1],
            job_name=r[2] or "(unnamed job)",
            branch=r[3],
            sha=r[4],
            url=r[5],
            completed_at=_utc(r[6]) or start,
        )
        for r in rows
    ]


def _deployments(
    conn: duckdb.DuckDBPyConnection, repos: list[str], start: dt.datetime, end: dt.datetime
) -> list[DeploymentFacts]:
    # The deploy's CI job: the job whose page is the deployment's target URL, else a job named
    # like a deploy in the run the target URL points at.
    rows = _rows(
        conn,
        """
        WITH d AS (
            SELECT * FROM core.deployments
            WHERE list_contains(?, repo)
              AND ((created_at >= ? AND created_at <= ?) OR (finished_at >= ? AND finished_at <= ?))
        ),
        m AS (
            SELECT d.provider, d.deployment_id, j.job_id,
                   row_number() OVER (PARTITION BY d.provider, d.deployment_id
                                      ORDER BY (j.url = d.target_url) DESC, j.job_id) AS rn
            FROM d JOIN core.ci_jobs j
              ON j.repo = d.repo
             AND (j.url = d.target_url
                  OR (j.run_url = d.target_url AND lower(j.job_name) LIKE '%deploy%'))
        )
        SELECT d.provider, d.deployment_id, d.repo, d.environment, d.production, d.sha, d.ref,
               d.created_at, d.final_state, d.finished_at, d.failed, d.url, d.target_url, m.job_id
        FROM d LEFT JOIN m ON m.provider = d.provider AND m.deployment_id = d.deployment_id
                          AND m.rn = 1
        ORDER BY d.created_at, d.deployment_id
        """,
        [repos, start, end, start, end],
    )
    return [
        DeploymentFacts(
            deployment_id=int(r["deployment_id"]),
            repo=r["repo"],
            created_at=_utc(r["created_at"]) or start,
            provider=r["provider"],
            environment=r["environment"],
            production=bool(r["production"]),
            sha=r["sha"],
            ref=r["ref"],
            final_state=r["final_state"],
            finished_at=_utc(r["finished_at"]),
            failed=bool(r["failed"]),
            url=r["url"],
            target_url=r["target_url"],
            job_id=r["job_id"],
        )
        for r in rows
    ]


def _tickets(
    conn: duckdb.DuckDBPyConnection, inc: IncidentFacts, start: dt.datetime, follow_end: dt.datetime
) -> tuple[list[TicketFacts], list[TicketEventFacts]]:
    """Tickets that cite the incident (id, URL or "INC #number"), and their activity."""
    number = str(inc.number) if inc.number is not None else None
    rows = _rows(
        conn,
        """
        SELECT ticket_key, provider, url, title, status, created_at FROM core.tickets
        WHERE (
                regexp_matches(coalesce(title, '') || ' ' || coalesce(description, ''),
                               '\\b' || ? || '\\b')
             OR (?::VARCHAR IS NOT NULL
                 AND contains(coalesce(description, '') || ' ' || coalesce(title, ''), ?))
             OR (?::VARCHAR IS NOT NULL
                 AND regexp_matches(coalesce(title, ''), '(?i)\\binc(?:ident)?[ -]?#?' || ? || '\\b'))
          )
          AND coalesce(created_at <= ?, true)
        ORDER BY created_at NULLS LAST, ticket_key
        """,
        [re.escape(inc.incident_id), inc.url, inc.url or "", number, number or "0", follow_end],
    )
    tickets = [
        TicketFacts(
            ticket_key=r["ticket_key"],
            created_at=_utc(r["created_at"]),
            provider=r["provider"],
            url=r["url"],
            title=r["title"],
            status=r["status"],
        )
        for r in rows
    ]
    if not tickets:
        return [], []
    ev = conn.execute(
        """
        SELECT ticket_key, occurred_at, kind, field, from_value, to_value FROM core.ticket_events
        WHERE list_contains(?, ticket_key) AND occurred_at >= ? AND occurred_at <= ?
        ORDER BY occurred_at, ticket_key, event_id LIMIT ?
        """,
        [[t.ticket_key for t in tickets], start, follow_end, MAX_TICKET_EVENTS],
    ).fetchall()
    events = [
        TicketEventFacts(
            ticket_key=r[0],
            occurred_at=_utc(r[1]),  # type: ignore[arg-type]
            kind=r[2],
            field=r[3],
            from_value=r[4],
            to_value=r[5],
        )
        for r in ev
        if r[1] is not None
    ]
    return tickets, events


def _slack(
    conn: duckdb.DuckDBPyConnection, tables: set[str], inc: IncidentFacts, end: dt.datetime
) -> list[SlackMessageFacts]:
    """The incident's Slack messages (core.incident_timeline), exact times kept."""
    if "core.incident_timeline" not in tables:
        return []
    rows = _rows(
        conn,
        """
        SELECT channel_name, channel_id, posted_at, ts, user_id, text, is_reply, subtype, link_kind
        FROM core.incident_timeline
        WHERE incident_id = ? AND posted_at >= ? AND posted_at <= ?
        ORDER BY posted_at, channel_id, ts LIMIT ?
        """,
        [
            inc.incident_id,
            inc.created_at - dt.timedelta(hours=SLACK_LEAD_HOURS),
            end + dt.timedelta(hours=SLACK_FOLLOW_HOURS),
            MAX_SLACK_MESSAGES,
        ],
    )
    return [
        SlackMessageFacts(
            channel=r["channel_name"] or r["channel_id"],
            posted_at=_utc(r["posted_at"]),  # type: ignore[arg-type]
            ts=r["ts"],
            user=r["user_id"],
            text=r["text"],
            is_reply=bool(r["is_reply"]),
            subtype=r["subtype"],
            link_kind=r["link_kind"],
        )
        for r in rows
    ]


def _pagerduty_events(
    conn: duckdb.DuckDBPyConnection, tables: set[str], inc: IncidentFacts
) -> list[PagerDutyEventFacts]:
    """The incident's PagerDuty log entries (raw.pagerduty_log_entries), oldest first."""
    if "raw.pagerduty_log_entries" not in tables:
        return []
    rows = _rows(
        conn,
        """
        SELECT created_at, type, summary, agent_summary
        FROM raw.pagerduty_log_entries
        WHERE incident_id = ? AND created_at IS NOT NULL
        ORDER BY created_at, log_entry_id LIMIT 200
        """,
        [inc.incident_id],
    )
    return [PagerDutyEventFacts(at=_utc(r["created_at"]), type=r["type"] or "",  # type: ignore[arg-type]
                                summary=r["summary"], agent=r["agent_summary"]) for r in rows]


def _slo_weeks(conn: duckdb.DuckDBPyConnection, tables: set[str]) -> tuple[float, float]:
    if "models.follow_through_settings" in tables:
        row = conn.execute(
            "SELECT slo_priority_weeks, slo_other_weeks FROM models.follow_through_settings LIMIT 1"
        ).fetchone()
        if row and row[0] and row[1]:
            return float(row[0]), float(row[1])
    return 4.0, 8.0


def load_draft_input(
    conn: duckdb.DuckDBPyConnection, incident_id: str, window_hours: float = 24.0
) -> DraftInput:
    """Facts around one incident: `window_hours` before its creation until its resolution."""
    if not 0 < window_hours <= MAX_HOURS:
        raise ValueError(f"window must be between 0 and {MAX_HOURS} hours, got {window_hours:g}")
    return draft_input_for(conn, find_incident(conn, incident_id), window_hours)


def draft_input_for(
    conn: duckdb.DuckDBPyConnection,
    inc: IncidentFacts,
    window_hours: float = 24.0,
    *,
    end: dt.datetime | None = None,
    repos: tuple[RelatedRepo, ...] = (),
) -> DraftInput:
    """Facts around an incident given as facts rather than looked up (the incident automation
    drafts one for a failed deploy before any PagerDuty incident exists): `repos` are added to
    the related ones, and `end` closes the window when the incident has no resolution."""
    tables = _tables(conn)
    start = inc.created_at - dt.timedelta(hours=window_hours)
    notes: list[str] = []
    if inc.resolved_at is not None and inc.resolved_at >= inc.created_at:
        end = inc.resolved_at
    elif end is None:
        end = inc.created_at + dt.timedelta(hours=window_hours)
        notes.append(
            f"The incident has no resolution time in the PagerDuty data; the window ends "
            f"{window_hours:g} h after it was created."
        )
    for needed in ("models.failure_excerpts", "models.recurrences", "models.cluster_links"):
        if needed not in tables:
            notes.append(
                f"{needed} is missing from this warehouse (built before failure analysis); "
                "excerpts and recurrence links are not shown."
            )
    found = related_repos(conn, inc, start)
    named = {r.repo for r in repos}
    related = [*repos, *(r for r in found if r.repo not in named)]
    names = [r.repo for r in related]
    failures = _failures(conn, tables, names, start, end, inc.created_at) if names else []
    if len(failures) >= MAX_FAILURES:
        notes.append(f"Only the {MAX_FAILURES} failures closest to the incident are included.")
    tickets, events = _tickets(conn, inc, start, end + dt.timedelta(hours=TICKET_FOLLOW_HOURS))
    prio, other = _slo_weeks(conn, tables)
    slack = _slack(conn, tables, inc, end)
    pagerduty = _pagerduty_events(conn, tables, inc)
    return DraftInput(
        incident=inc,
        window_start=start,
        window_end=end,
        window_hours=window_hours,
        repos=tuple(related),
        ci_activity=tuple(_activity(conn, names, start, end)) if names else (),
        failures=tuple(failures),
        recoveries=tuple(_recoveries(conn, names, start, end)) if names else (),
        deployments=tuple(_deployments(conn, names, start, end)) if names else (),
        tickets=tuple(tickets),
        ticket_events=tuple(events),
        slack_messages=tuple(slack),
        pagerduty_events=tuple(pagerduty),
        slo_priority_weeks=prio,
        slo_other_weeks=other,
        notes=tuple(notes),
    )


__all__ = [
    "DEPLOY_LEAD_HOURS",
    "TICKET_FOLLOW_HOURS",
    "UnknownIncident",
    "WarehouseNotReady",
    "draft_input_for",
    "find_incident",
    "load_draft_input",
    "related_repos",
    "repo_matches_service",
]
