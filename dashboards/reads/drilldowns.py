"""The readers a page runs for one user choice, with the choice a benchmark should time them on.

Readers that take only the warehouse path are what a page reads when it opens; the readers here
take a choice (a repository, a cluster, a postmortem) and read its rows only. `sample_reads`
pairs each with the heaviest choice the warehouse offers (the biggest cluster, the busiest
repository, the postmortem with the most findings), so timing them measures the worst a user
can ask for, not a convenient case.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb

from dashboards.reads import checklist_compliance, failure_clusters
from dashboards.reads.connection import has_rows, has_table

Reader = Callable[[Path], Any]


def _first(con: duckdb.DuckDBPyConnection, table: str, sql: str) -> tuple[Any, ...] | None:
    if not has_table(con, table):
        return None
    return con.execute(sql).fetchone()


def sample_reads(path: Path) -> Iterator[tuple[str, Reader]]:
    """(name, reader of the path) for each choice reader, on the heaviest choice; readers whose
    tables are not built are left out."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        cluster = _first(
            con,
            "marts.failure_cluster_summary",
            "SELECT cluster_id FROM marts.failure_cluster_summary"
            " WHERE grouping_set = 'all' ORDER BY failure_rank LIMIT 1",
        )
        repo = _first(
            con,
            "marts.recurring_failure_summary",
            "SELECT repo FROM marts.recurring_failure_summary WHERE grouping_set = 'repo'"
            " ORDER BY failures DESC, repo LIMIT 1",
        )
        linked = _first(
            con,
            "models.cluster_links",
            "SELECT cluster_id FROM models.cluster_links GROUP BY cluster_id"
            " ORDER BY count(*) DESC, cluster_id LIMIT 1",
        )
        postmortem = _first(
            con,
            "core.postmortems",
            "SELECT postmortem_id FROM core.postmortems"
            " ORDER BY json_array_length(findings) DESC NULLS LAST, postmortem_id LIMIT 1",
        )
    finally:
        con.close()

    fc, cc = failure_clusters, checklist_compliance
    yield "connection.has_rows(models.recurrences)", lambda p: has_rows(p, "models.recurrences")
    yield "failure_clusters.load_cluster_summary(all)", lambda p: fc.load_cluster_summary(p, None)
    if repo is not None:
        yield ("failure_clusters.load_cluster_summary(repo)",
               lambda p, r=repo[0]: fc.load_cluster_summary(p, r))
    if cluster is not None:
        cid = cluster[0]
        yield ("failure_clusters.load_latest_failure",
               lambda p: fc.load_latest_failure(p, cid, None))
        yield "failure_clusters.load_weekly", lambda p: fc.load_weekly(p, cid, None)
    if linked is not None:
        yield ("failure_clusters.load_cluster_links",
               lambda p, c=linked[0]: fc.load_cluster_links(p, c))
    if postmortem is not None:
        pid = postmortem[0]
        yield "checklist_compliance.load_findings", lambda p: cc.load_findings(p, pid)
        yield "checklist_compliance.load_checklist", lambda p: cc.load_checklist(p, pid)
