"""Readers of one user choice (a repository, a cluster, a postmortem) against a built warehouse.

Each reads only the rows of its choice; every answer is checked against an independent SQL
query of the same warehouse, and the quality page's one-postmortem tabs against the readers.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboards.reads import checklist_compliance as quality
from dashboards.reads import drilldowns
from dashboards.reads import failure_clusters as fc
from dashboards.reads.connection import WAREHOUSE_ENV, TableMissing, has_rows

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"


def _sql(warehouse: Path, sql: str, params: list[object] | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _busiest_repo(org: Path) -> str:
    return _sql(org, "SELECT repo FROM models.ci_failure_clusters GROUP BY repo"
                     " ORDER BY count(*) DESC, repo LIMIT 1")[0][0]


@pytest.mark.parametrize(
    "text",
    ["", None, "\n\n  a  \n b", "\t\x0bx\x1fy \u2028z", "a" * 200, "é" * 120, "\r\n\r\nq\rw",
     "\u00a0 x \u3000", "  \n\x1c x\x1d", " \x0c\x0cab  \x0bc", "x" * 110, "y" * 111,
     "go: downloading <*> <*>\n[ERROR] Could not transfer artifact", "\u2577\n\u2502 Error: lock",
     "<*> ok <*>\nok <*> took <*>", "+ make\n<*> exporting layers\nno SPACE", "ERROR " + "z" * 120],
)
def test_signature_sql_is_signature(text: str | None) -> None:
    con = duckdb.connect()
    try:
        (got,) = con.execute(
            f"SELECT {fc.signature_sql('v')} FROM (SELECT ?::VARCHAR AS v)", [text]
        ).fetchone()
    finally:
        con.close()
    assert got == fc.signature(text)


def test_signature_names_what_went_wrong() -> None:
    assert fc.signature("go: downloading <*> <*>\n[ERROR] Could not transfer artifact") == (
        "[ERROR] Could not transfer artifact")
    assert fc.signature("\u2577\n\u2502 Error: Error acquiring the state lock\n\u2502") == (
        "\u2502 Error: Error acquiring the state lock")
    assert fc.signature("\u0131\n<*> <*>\nmake: ok done") == "make: ok done"  # words, no failure
    assert fc.signature("\u0131\n<*>") == "\u0131"  # nothing better than the first line


def test_stored_signature_is_signature(org: Path) -> None:
    rows = _sql(org, "SELECT representative, signature FROM marts.failure_cluster_summary")
    assert rows and all(sig == fc.signature(rep) for rep, sig in rows)


def test_cluster_summary_of_one_scope(org: Path) -> None:
    repo = _busiest_repo(org)
    for scope in (None, repo):
        df = fc.load_cluster_summary(org, scope)
        where = "grouping_set = 'all'" if scope is None else f"grouping_set = 'repo' AND repo = '{repo}'"
        expected = _sql(org, "SELECT cluster_id, failures, representative"
                             f" FROM marts.failure_cluster_summary WHERE {where} ORDER BY failure_rank")
        assert list(df["cluster_id"]) == [c for c, _, _ in expected]
        assert list(df["failures"]) == [n for _, n, _ in expected]
        assert list(df["signature"]) == [fc.signature(r) for _, _, r in expected]
        assert "representative" not in df.columns


@pytest.mark.parametrize("how", ["null", "dropped"])
def test_cluster_summary_before_the_mart_is_rebuilt(org: Path, tmp_path: Path, how: str) -> None:
    """A warehouse migrated but not rebuilt (NULL signatures), or not yet migrated (no column):
    the page still gets each signature, worked out of the representative text."""
    copy = tmp_path / "old.duckdb"
    shutil.copy(org, copy)
    con = duckdb.connect(str(copy))
    if how == "null":
        con.execute("UPDATE marts.failure_cluster_summary SET signature = NULL")
    else:
        con.execute("ALTER TABLE marts.failure_cluster_summary DROP COLUMN signature")
    con.close()
    assert fc.load_cluster_summary(copy, None).equals(fc.load_cluster_summary(org, None))


def test_latest_failure_and_its_message(org: Path) -> None:
    repo = _busiest_repo(org)
    (cid,) = _sql(org, "SELECT cluster_id FROM models.ci_failure_clusters WHERE repo = ?"
                       " GROUP BY cluster_id ORDER BY count(*) DESC, cluster_id LIMIT 1", [repo])[0]
    for scope in (None, repo):
        got = fc.load_latest_failure(org, cid, scope)
        expected = _sql(
            org,
            "SELECT c.provider, c.job_id, r.message FROM models.ci_failure_clusters c"
            " LEFT JOIN models.recurrences r USING (provider, job_id)"
            " WHERE c.cluster_id = ? AND (? IS NULL OR c.repo = ?)"
            " ORDER BY c.failed_at DESC, c.job_id DESC LIMIT 1",
            [cid, scope, scope],
        )[0]
        assert len(got) == 1
        assert (got["provider"].iloc[0], int(got["job_id"].iloc[0]), got["message"].iloc[0]) == expected
    assert fc.load_latest_failure(org, "no-such-cluster", None).empty


def test_weekly_of_one_cluster(org: Path) -> None:
    repo = _busiest_repo(org)
    (cid,) = _sql(org, "SELECT cluster_id FROM marts.failure_cluster_summary"
                       " WHERE grouping_set = 'all' ORDER BY failure_rank LIMIT 1")[0]
    for scope in (None, repo):
        got = fc.load_weekly(org, cid, scope)
        expected = _sql(
            org,
            "SELECT week, failures FROM marts.failure_cluster_weekly WHERE cluster_id = ?"
            " AND grouping_set = ? AND repo IS NOT DISTINCT FROM ? ORDER BY week",
            [cid, "all" if scope is None else "repo", scope],
        )
        assert [(w.date(), n) for w, n in zip(got["week"], got["failures"], strict=True)] == [
            (pd.Timestamp(w).date(), n) for w, n in expected
        ]


def test_links_of_one_cluster_with_ticket_urls(org: Path) -> None:
    (cid,) = _sql(org, "SELECT cluster_id FROM models.cluster_links WHERE link_type = 'ticket'"
                       " GROUP BY cluster_id ORDER BY count(*) DESC, cluster_id LIMIT 1")[0]
    got = fc.load_cluster_links(org, cid)
    expected = _sql(
        org,
        "SELECT l.link_type, l.target_id, t.url FROM models.cluster_links l"
        " LEFT JOIN core.tickets t ON l.link_type = 'ticket' AND t.ticket_key = l.target_id"
        " WHERE l.cluster_id = ? ORDER BY l.link_type, l.linked_at, l.target_id",
        [cid],
    )
    assert list(got[["link_type", "target_id"]].itertuples(index=False, name=None)) == [
        (t, i) for t, i, _ in expected
    ]
    tickets = got[got["link_type"] == "ticket"]
    assert not tickets.empty and tickets["url"].notna().all()
    assert list(tickets["url"]) == [u for t, _, u in expected if t == "ticket"]


def test_findings_and_checklist_of_one_postmortem(org: Path) -> None:
    (pid, raw) = _sql(org, "SELECT postmortem_id, CAST(findings AS VARCHAR) FROM core.postmortems"
                           " ORDER BY json_array_length(findings) DESC, postmortem_id LIMIT 1")[0]
    findings = quality.load_findings(org, pid)
    assert len(findings) == len(json.loads(raw)) > 0
    assert list(findings["rule"]) == [f["rule"] for f in json.loads(raw)]
    assert quality.load_findings(org, "no-such-postmortem").empty
    checklist = quality.load_checklist(org, pid)
    expected = _sql(org, "SELECT check_id, result FROM marts.checklist_compliance"
                         " WHERE postmortem_id = ?", [pid])
    assert sorted(zip(checklist["check_id"], checklist["result"], strict=True)) == sorted(expected)
    phases = [quality.phase_rank(p) for p in checklist["phase"]]
    assert phases == sorted(phases)


def test_quality_page_one_postmortem(monkeypatch: pytest.MonkeyPatch, org: Path) -> None:
    monkeypatch.setenv(WAREHOUSE_ENV, str(org))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("app_pages/quality.py").run()
    (pid,) = _sql(org, "SELECT postmortem_id FROM core.postmortems"
                       " ORDER BY json_array_length(findings) DESC, postmortem_id LIMIT 1")[0]
    at.selectbox(key="q_postmortem").set_value(pid).run()
    assert not at.exception, [e.value for e in at.exception]
    frames = [d.value for d in at.dataframe]
    shown = next(f for f in frames if "suggestion" in f.columns)
    assert list(shown["rule"]) == list(quality.load_findings(org, pid)["rule"])
    steps = next(f for f in frames if "checklist item" in f.columns)
    expected = quality.load_checklist(org, pid)
    assert list(steps["checklist item"]) == [quality.check_label(c) for c in expected["check_id"]]


def test_has_rows(org: Path, tmp_path: Path) -> None:
    assert has_rows(org, "models.recurrences")
    assert not has_rows(org, "models.no_such_table")
    empty = tmp_path / "empty.duckdb"
    con = duckdb.connect(str(empty))
    con.execute("CREATE SCHEMA models")
    con.execute("CREATE TABLE models.recurrences (x INTEGER)")
    con.close()
    assert not has_rows(empty, "models.recurrences")


def test_sample_reads_cover_every_choice_reader(org: Path) -> None:
    """The benchmark's choice readers run on the sample org, on the heaviest choice."""
    reads = dict(drilldowns.sample_reads(org))
    assert {
        "failure_clusters.load_cluster_summary(all)", "failure_clusters.load_cluster_summary(repo)",
        "failure_clusters.load_latest_failure", "failure_clusters.load_weekly",
        "failure_clusters.load_cluster_links", "checklist_compliance.load_findings",
        "checklist_compliance.load_checklist", "connection.has_rows(models.recurrences)",
    } <= set(reads)
    for name, read in reads.items():
        got = read(org)
        assert got is True or len(got) > 0, name


def test_choice_reader_names_a_missing_table(tmp_path: Path) -> None:
    bare = tmp_path / "bare.duckdb"
    duckdb.connect(str(bare)).close()
    with pytest.raises(TableMissing) as exc:
        fc.load_weekly(bare, "c1", None)
    assert exc.value.table == "marts.failure_cluster_weekly"
    with pytest.raises(TableMissing):
        quality.load_checklist(bare, "pm-1")
