"""Recurring CI failures: which failure clusters keep coming back, and which fixes did not hold.

The page opens on the per-repository marts (failure_cluster_summary, _sizes, _weekly,
fixes_not_held, recurring_failure_summary). For the chosen cluster it reads only that cluster's
rows: its latest failure in models.ci_failure_clusters with the models.recurrences message
(each failure's place in its cluster's history), its models.cluster_links (tickets,
postmortems and incidents that cite it) and the excerpt in models.failure_excerpts (redacted
log lines). At 1M jobs those tables hold ~60k rows each, which a page must not read whole.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pandas as pd

from dashboards.reads.connection import fetch, grouped, has_table, opened, query
from models.logs.excerpt import ExcerptLine

LINK_TYPES: tuple[str, ...] = ("ticket", "postmortem", "incident")


def _scope(repo: str | None) -> tuple[str, list[object]]:
    """The WHERE clause (and its parameters) picking one repository's rows of a per-repository
    mart, or the 'all' rows when `repo` is None."""
    if repo is None:
        return "grouping_set = 'all'", []
    return "grouping_set = 'repo' AND repo = ?", [repo]


# Python's str.strip() whitespace and str.splitlines() breaks, as RE2 classes: `signature_sql`
# is `signature` below in SQL, as is the signature column of marts.failure_cluster_summary
# (the tests hold all three to the same answer).
_SPACE = r"[\s\x{0b}\x{1c}-\x{1f}\x{85}\pZ]"
_BREAK = r"\n\r\x{0b}\x{0c}\x{1c}-\x{1e}\x{85}\x{2028}\x{2029}"
# A line that says what went wrong, and a line with words at all; spelt without flags so RE2
# and Python's re read them alike.
_SAYS = (r"[Ee]rror|ERROR|[Ff]ail|FAIL|[Ff]atal|FATAL|[Ee]xception|[Pp]anic|PANIC|[Tt]imed out"
         r"|[Tt]imeout|TIMEOUT|[Dd]enied|[Rr]efused|[Cc]annot|[Cc]ould not|[Uu]nable|[Nn]ot found"
         r"|[Aa]bort|[Nn]o space")
_WORDS = r"[A-Za-z]{2,}[^A-Za-z]+[A-Za-z]{2,}"
_SAYS_RE = re.compile(_SAYS)
_WORDS_RE = re.compile(_WORDS)


def signature(representative: str | None, limit: int = 110) -> str:
    """A cluster's name on the pages: the first line of its masked representative text that
    says what went wrong (an error, a failure, a timeout...), else the first with words, else
    the first non-blank one; stripped and shortened. The first line alone named clusters after
    a progress line (`go: downloading <*>`) or a box-drawing glyph."""
    lines = [s for line in (representative or "").splitlines() if (s := line.strip())]
    line = next((x for x in lines if _SAYS_RE.search(x)),
                next((x for x in lines if _WORDS_RE.search(x)), lines[0] if lines else ""))
    return line if len(line) <= limit else line[: limit - 1] + "…"


def signature_sql(column: str, limit: int = 110) -> str:
    """SQL of `signature(column, limit)`, so the page receives one short line instead of the
    whole masked text."""
    lines = (
        f"list_filter(list_transform(string_split_regex(coalesce({column}, ''), '[{_BREAK}]'),"
        f" x -> regexp_replace(x, '^{_SPACE}+|{_SPACE}+$', '', 'g')), x -> x <> '')"
    )
    pick = (
        f"coalesce(list_filter(ls, x -> regexp_matches(x, '{_SAYS}'))[1],"
        f" list_filter(ls, x -> regexp_matches(x, '{_WORDS}'))[1], ls[1], '')"
    )
    short = f"CASE WHEN length(s) <= {limit} THEN s ELSE left(s, {limit - 1}) || '…' END"
    return f"list_transform(list_transform([{lines}], ls -> {pick}), s -> {short})[1]"


def load_latest_failure(path: Path, cluster_id: str, repo: str | None) -> pd.DataFrame:
    """The cluster's most recent failure (in `repo`, or anywhere), ties broken by job id, with
    its models.recurrences message ("happened N time(s) before…"): zero or one row."""
    where = "cluster_id = ?" + ("" if repo is None else " AND repo = ?")
    params: list[object] = [cluster_id] + ([] if repo is None else [repo])
    with opened(path) as con:
        df = fetch(
            con,
            path,
            "SELECT provider, job_id, repo, job_name, failed_at, url"
            f" FROM models.ci_failure_clusters WHERE {where}"
            " ORDER BY failed_at DESC NULLS LAST, job_id DESC, provider DESC LIMIT 1",
            "models.ci_failure_clusters",
            params,
            times=("failed_at",),
        )
        message = None
        if len(df) and has_table(con, "models.recurrences"):
            row = con.execute(
                "SELECT message FROM models.recurrences WHERE provider = ? AND job_id = ?",
                [df["provider"].iloc[0], int(df["job_id"].iloc[0])],
            ).fetchone()
            message = row[0] if row else None
    return df.assign(message=[message] * len(df))


def load_cluster_links(path: Path, cluster_id: str) -> pd.DataFrame:
    """models.cluster_links of one cluster, with the ticket's url for ticket links (when
    core.tickets is built)."""
    with opened(path) as con:
        if has_table(con, "core.tickets"):
            url = "t.url"
            join = (" LEFT JOIN core.tickets t ON l.link_type = 'ticket'"
                    " AND t.ticket_key = l.target_id")
        else:
            url, join = "CAST(NULL AS VARCHAR)", ""
        return fetch(
            con,
            path,
            f"SELECT l.link_type, l.target_id, {url} AS url, l.evidence, l.linked_at"
            f" FROM models.cluster_links l{join} WHERE l.cluster_id = ?"
            " ORDER BY l.link_type, l.linked_at, l.target_id",
            "models.cluster_links",
            [cluster_id],
            times=("linked_at",),
        )


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


def _scoped(path: Path, table: str, columns: str, order: str, times: tuple[str, ...]) -> pd.DataFrame:
    return grouped(path, table, "repo", columns, order, times)


def load_cluster_summary(path: Path, repo: str | None) -> pd.DataFrame:
    """marts.failure_cluster_summary for all repositories (None) or one: each cluster's counts,
    links and signature (not its whole representative text), most failures first."""
    where, params = _scope(repo)
    columns = (
        "cluster_id, failure_rank, failures, repos, repo_list, first_seen, last_seen,"
        " tickets, postmortems, incidents, failures_after_fix"
    )
    table = "marts.failure_cluster_summary"
    with opened(path) as con:
        try:
            df = fetch(con, path, f"SELECT {columns}, signature FROM {table} WHERE {where}"
                       " ORDER BY failure_rank", table, params, times=("first_seen", "last_seen"))
            stored = "signature"
        except duckdb.BinderException:  # a warehouse from before migration 18, not built since
            df, stored = None, "NULL"
        if df is None or df["signature"].isna().any():
            # NULL until a build rebuilds the mart: work it out of the representative text.
            df = fetch(
                con,
                path,
                f"SELECT {columns}, coalesce({stored}, {signature_sql('representative')})"
                f" AS signature FROM {table} WHERE {where} ORDER BY failure_rank",
                table,
                params,
                times=("first_seen", "last_seen"),
            )
    return df


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
    """marts.fixes_not_held: failures after a fix ticket was resolved, per cluster and ticket,
    with the cluster's signature."""
    return _scoped(
        path,
        "marts.fixes_not_held",
        "cluster_id, fix_ticket_key, ticket_url, ticket_title, fix_resolved_at,"
        " failures_after_fix, first_after_fix, last_after_fix, repos,"
        f" {signature_sql('representative')} AS signature",
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


def load_weekly(path: Path, cluster_id: str, repo: str | None) -> pd.DataFrame:
    """marts.failure_cluster_weekly: one cluster's failures per week, in all repositories
    (None) or one."""
    where, params = _scope(repo)
    df = query(
        path,
        "SELECT week, failures, repos FROM marts.failure_cluster_weekly"
        f" WHERE {where} AND cluster_id = ? ORDER BY week",
        "marts.failure_cluster_weekly",
        [*params, cluster_id],
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
