"""Recurring CI failures: which failure clusters keep coming back, and which fixes did not hold.

Reads models.ci_failure_clusters (one row per failed job and its cluster), models.recurrences
(each failure's place in its cluster's history), models.cluster_links (tickets, postmortems and
incidents that cite a cluster's failures) and models.failure_excerpts (redacted log lines).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from dashboards.reads.connection import TableMissing, query
from models.logs.excerpt import ExcerptLine

LINK_TYPES: tuple[str, ...] = ("ticket", "postmortem", "incident")


def load_failures(path: Path) -> pd.DataFrame:
    """models.ci_failure_clusters: every clustered CI failure."""
    df = query(
        path,
        "SELECT provider, job_id, cluster_id, fingerprint, repo, job_name, failed_at, run_url, url"
        " FROM models.ci_failure_clusters ORDER BY failed_at, provider, job_id",
        "models.ci_failure_clusters",
    )
    df["failed_at"] = pd.to_datetime(df["failed_at"], utc=True)
    return df


def load_recurrences(path: Path) -> pd.DataFrame:
    """models.recurrences: each failure's occurrence number, prior links, fix and message."""
    df = query(
        path,
        "SELECT provider, job_id, cluster_id, repo, job_name, failed_at, occurrence,"
        " prior_failures, first_seen, fix_ticket_key, fix_resolved_at, fix_did_not_hold, message"
        " FROM models.recurrences ORDER BY failed_at, provider, job_id",
        "models.recurrences",
    )
    for col in ("failed_at", "first_seen", "fix_resolved_at"):
        df[col] = pd.to_datetime(df[col], utc=True)
    return df


def load_links(path: Path) -> pd.DataFrame:
    """models.cluster_links: tickets, postmortems and incidents linked to a cluster."""
    df = query(
        path,
        "SELECT cluster_id, link_type, target_id, evidence, linked_at FROM models.cluster_links"
        " ORDER BY cluster_id, link_type, linked_at, target_id",
        "models.cluster_links",
    )
    df["linked_at"] = pd.to_datetime(df["linked_at"], utc=True)
    return df


def load_clusters(path: Path) -> pd.DataFrame:
    """models.failure_clusters: the masked representative text of each cluster."""
    return query(
        path,
        "SELECT cluster_id, representative FROM models.failure_clusters ORDER BY cluster_id",
        "models.failure_clusters",
    )


def load_tickets(path: Path) -> pd.DataFrame:
    """Ticket key -> url, title, status, for linking cluster tickets; empty when not built."""
    try:
        return query(
            path,
            "SELECT ticket_key, url, title, status, resolved_at FROM core.tickets",
            "core.tickets",
        )
    except TableMissing:
        return pd.DataFrame(columns=["ticket_key", "url", "title", "status", "resolved_at"])


def load_repeat_incidents(path: Path) -> pd.DataFrame:
    """marts.repeat_incidents (incidents whose cluster already had a postmortem)."""
    df = query(
        path,
        "SELECT incident_id, incident_number, title, service, team, created_at, cluster_key,"
        " cluster_source, previous_incident_id, previous_postmortem_id, days_since_postmortem,"
        " prior_items, prior_items_done, fix_did_not_hold FROM marts.repeat_incidents"
        " ORDER BY created_at DESC",
        "marts.repeat_incidents",
    )
    df["created_at"] = pd.to_datetime(df["created_at"], utc=True)
    return df


def parse_excerpt(raw: str | None) -> list[ExcerptLine]:
    """`[{"n", "text", "context"?}]` as stored (already redacted); bad entries are skipped."""
    if raw is None or (isinstance(raw, float) and pd.isna(raw)) or raw == "":
        return []
    try:
        parsed = json.loads(raw)
    except (TypeError, ValueError):
        return []
    out = []
    for item in parsed if isinstance(parsed, list) else []:
        if not isinstance(item, dict) or "text" not in item:
            continue
        n = item.get("n")
        out.append(
            ExcerptLine(
                n=int(n) if isinstance(n, int | float) and not isinstance(n, bool) else None,
                text=str(item["text"]),
                context=bool(item.get("context", False)),
            )
        )
    return out


def load_excerpt(path: Path, provider: str, job_id: int) -> tuple[list[ExcerptLine], int | None]:
    """Excerpt lines and total log lines of one failed job; ([], None) when it has none."""
    df = query(
        path,
        "SELECT CAST(excerpt AS VARCHAR) AS excerpt, total_lines FROM models.failure_excerpts"
        " WHERE provider = ? AND job_id = ?",
        "models.failure_excerpts",
        [provider, int(job_id)],
    )
    if df.empty:
        return [], None
    total = df["total_lines"].iloc[0]
    return parse_excerpt(df["excerpt"].iloc[0]), int(total) if pd.notna(total) else None


def format_excerpt(lines: list[ExcerptLine]) -> str:
    """Lines with their log line numbers; context lines (kept around an error) marked '·'."""
    width = max((len(str(line.n)) for line in lines if line.n is not None), default=1)
    out = []
    for line in lines:
        num = str(line.n) if line.n is not None else ""
        mark = "·" if line.context else "›"
        out.append(f"{num:>{width}} {mark} {line.text}")
    return "\n".join(out)


def signature(representative: str | None, limit: int = 110) -> str:
    """First non-blank line of a cluster's masked representative text, shortened."""
    for line in (representative or "").splitlines():
        line = line.strip()
        if line:
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""


def _joined(values: pd.Series) -> str:
    return ", ".join(sorted({str(v) for v in values.dropna()}))


def cluster_summary(
    failures: pd.DataFrame,
    links: pd.DataFrame | None,
    clusters: pd.DataFrame | None,
    recurrences: pd.DataFrame | None,
) -> pd.DataFrame:
    """One row per cluster: failures, repositories, first/last seen, links, fixes that failed.

    Most failures first. Links and representatives are optional context: a missing table
    leaves those columns empty instead of hiding the clusters.
    """
    cols = [
        "cluster_id",
        "failures",
        "repos",
        "repo_list",
        "jobs",
        "first_seen",
        "last_seen",
        "tickets",
        "postmortems",
        "incidents",
        "failures_after_fix",
        "signature",
    ]
    if failures.empty:
        return pd.DataFrame(columns=cols)
    g = failures.groupby("cluster_id", sort=False)
    out = g.agg(
        failures=("job_id", "size"),
        repos=("repo", "nunique"),
        repo_list=("repo", _joined),
        jobs=("job_name", "nunique"),
        first_seen=("failed_at", "min"),
        last_seen=("failed_at", "max"),
    ).reset_index()
    for kind, col in (("ticket", "tickets"), ("postmortem", "postmortems"), ("incident", "incidents")):
        if links is None or links.empty:
            out[col] = ""
            continue
        per = links[links["link_type"] == kind].groupby("cluster_id")["target_id"].agg(_joined)
        out[col] = out["cluster_id"].map(per).fillna("")
    if recurrences is not None and not recurrences.empty:
        broken = recurrences[recurrences["fix_did_not_hold"].astype(bool)]
        out["failures_after_fix"] = (
            out["cluster_id"].map(broken.groupby("cluster_id").size()).fillna(0).astype(int)
        )
    else:
        out["failures_after_fix"] = 0
    if clusters is not None and not clusters.empty:
        rep = clusters.set_index("cluster_id")["representative"]
        out["signature"] = out["cluster_id"].map(rep).map(signature)
    else:
        out["signature"] = ""
    return out.sort_values(
        ["failures", "last_seen", "cluster_id"], ascending=[False, False, True], ignore_index=True
    )[cols]


def fix_did_not_hold(recurrences: pd.DataFrame, tickets: pd.DataFrame | None) -> pd.DataFrame:
    """Per cluster and fix ticket: failures after the fix was resolved, newest first."""
    cols = [
        "cluster_id",
        "fix_ticket_key",
        "ticket_url",
        "ticket_title",
        "fix_resolved_at",
        "failures_after_fix",
        "first_after_fix",
        "last_after_fix",
        "repos",
    ]
    broken = recurrences[recurrences["fix_did_not_hold"].astype(bool)]
    if broken.empty:
        return pd.DataFrame(columns=cols)
    out = (
        broken.groupby(["cluster_id", "fix_ticket_key"], dropna=False)
        .agg(
            fix_resolved_at=("fix_resolved_at", "max"),
            failures_after_fix=("job_id", "size"),
            first_after_fix=("failed_at", "min"),
            last_after_fix=("failed_at", "max"),
            repos=("repo", _joined),
        )
        .reset_index()
    )
    if tickets is not None and not tickets.empty:
        t = tickets.set_index("ticket_key")
        out["ticket_url"] = out["fix_ticket_key"].map(t["url"])
        out["ticket_title"] = out["fix_ticket_key"].map(t["title"])
    else:
        out["ticket_url"] = None
        out["ticket_title"] = None
    return out.sort_values(
        ["last_after_fix", "cluster_id"], ascending=[False, True], ignore_index=True
    )[cols]


def latest_failure(failures: pd.DataFrame, cluster_id: str) -> pd.Series | None:
    """The cluster's most recent failure (ties broken by job id), or None."""
    rows = failures[failures["cluster_id"] == cluster_id]
    if rows.empty:
        return None
    return rows.sort_values(["failed_at", "job_id"], na_position="first").iloc[-1]


def message_for(recurrences: pd.DataFrame | None, provider: str, job_id: int) -> str | None:
    """The recurrence message of one failure ("this failure has happened N time(s) before…")."""
    if recurrences is None or recurrences.empty:
        return None
    hit = recurrences[(recurrences["provider"] == provider) & (recurrences["job_id"] == job_id)]
    if hit.empty or pd.isna(hit["message"].iloc[0]):
        return None
    return str(hit["message"].iloc[0])


def weekly_failures(failures: pd.DataFrame, cluster_id: str) -> pd.DataFrame:
    """Failures of one cluster per week (starting Monday, UTC), with that week's repositories."""
    rows = failures[(failures["cluster_id"] == cluster_id) & failures["failed_at"].notna()]
    if rows.empty:
        return pd.DataFrame(columns=["week", "failures", "repos"])
    naive = rows["failed_at"].dt.tz_convert("UTC").dt.tz_localize(None)
    week = naive.dt.to_period("W-SUN").dt.start_time
    return (
        rows.assign(week=week, repo=rows["repo"].fillna("(no repo)"))
        .groupby("week")
        .agg(failures=("job_id", "size"), repos=("repo", _joined))
        .reset_index()
    )
