"""Recurring CI failures: which failure clusters keep coming back, and which fixes did not hold.

Reads models.ci_failure_clusters (one row per failed job and its cluster), models.recurrences
(each failure's place in its cluster's history), models.cluster_links (tickets, postmortems and
incidents that cite a cluster's failures) and models.failure_excerpts (redacted log lines).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from dashboards.reads.connection import TableMissing, grouped, query
from models.logs.excerpt import ExcerptLine

LINK_TYPES: tuple[str, ...] = ("ticket", "postmortem", "incident")


def load_failures(path: Path) -> pd.DataFrame:
    """models.ci_failure_clusters: every clustered CI failure."""
    df = query(
        path,
        "SELECT provider, job_id, cluster_id, fingerprint, repo, job_name, failed_at, run_url, url"
        " FROM models.ci_failure_clusters ORDER BY failed_at, provider, job_id",
        "models.ci_failure_clusters",
        times=("failed_at",),
    )
    return df


def load_recurrences(path: Path) -> pd.DataFrame:
    """models.recurrences: each failure's occurrence number, prior links, fix and message."""
    df = query(
        path,
        "SELECT provider, job_id, cluster_id, repo, job_name, failed_at, occurrence,"
        " prior_failures, first_seen, fix_ticket_key, fix_resolved_at, fix_did_not_hold, message"
        " FROM models.recurrences ORDER BY failed_at, provider, job_id",
        "models.recurrences",
        times=("failed_at", "first_seen", "fix_resolved_at"),
    )
    return df


def load_links(path: Path) -> pd.DataFrame:
    """models.cluster_links: tickets, postmortems and incidents linked to a cluster."""
    df = query(
        path,
        "SELECT cluster_id, link_type, target_id, evidence, linked_at FROM models.cluster_links"
        " ORDER BY cluster_id, link_type, linked_at, target_id",
        "models.cluster_links",
        times=("linked_at",),
    )
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
        times=("created_at",),
    )
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


def _scoped(path: Path, table: str, columns: str, order: str, times: tuple[str, ...]) -> pd.DataFrame:
    return grouped(path, table, "repo", columns, order, times)


def load_cluster_summary(path: Path) -> pd.DataFrame:
    """marts.failure_cluster_summary: per cluster, over all repositories and per repository."""
    return _scoped(
        path,
        "marts.failure_cluster_summary",
        "cluster_id, failure_rank, failures, repos, repo_list, jobs, first_seen, last_seen,"
        " tickets, postmortems, incidents, linked, failures_after_fix, representative",
        "grouping_set, repo, failure_rank",
        ("first_seen", "last_seen"),
    )


def load_cluster_sizes(path: Path) -> pd.DataFrame:
    """marts.failure_cluster_sizes: clusters with at least N failures, for each N that occurs."""
    return _scoped(
        path,
        "marts.failure_cluster_sizes",
        "min_failures, clusters, failures, linked_clusters, share_of_failures, all_failures,"
        " all_clusters",
        "grouping_set, repo, min_failures",
        (),
    )


def load_fixes_not_held(path: Path) -> pd.DataFrame:
    """marts.fixes_not_held: failures after a fix ticket was resolved, per cluster and ticket."""
    return _scoped(
        path,
        "marts.fixes_not_held",
        "cluster_id, fix_ticket_key, ticket_url, ticket_title, fix_resolved_at,"
        " failures_after_fix, first_after_fix, last_after_fix, repos, representative",
        "grouping_set, repo, last_after_fix DESC, cluster_id",
        ("fix_resolved_at", "first_after_fix", "last_after_fix"),
    )


def load_recurring_summary(path: Path) -> pd.DataFrame:
    """marts.recurring_failure_summary: failures, clusters, fixes that did not hold."""
    return _scoped(
        path,
        "marts.recurring_failure_summary",
        "failures, clusters, fix_clusters, failures_after_fix",
        "grouping_set, repo",
        (),
    )


def load_weekly(path: Path) -> pd.DataFrame:
    """marts.failure_cluster_weekly: failures per cluster and week."""
    df = _scoped(
        path,
        "marts.failure_cluster_weekly",
        "cluster_id, week, failures, repos",
        "grouping_set, repo, cluster_id, week",
        (),
    )
    df["week"] = pd.to_datetime(df["week"])
    return df


def scoped(df: pd.DataFrame | None, repo: str | None) -> pd.DataFrame | None:
    """The rows of a per-repository mart answering the repository choice (None: all)."""
    if df is None:
        return None
    if repo is None:
        return df[df["grouping_set"] == "all"]
    return df[(df["grouping_set"] == "repo") & (df["repo"] == repo)]


def at_least(sizes: pd.DataFrame, min_failures: int) -> pd.Series | None:
    """The marts.failure_cluster_sizes row for "at least `min_failures` failures": the
    smallest cluster size that reaches it; None when no cluster is that big."""
    rows = sizes[sizes["min_failures"] >= min_failures].sort_values("min_failures")
    return None if rows.empty else rows.iloc[0]


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
