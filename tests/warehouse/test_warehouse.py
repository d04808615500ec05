"""Warehouse: migrations, loading vendor payloads, quarantine, idempotency, read-only SQL."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import duckdb
import pytest

from followthrough.commands.build import build
from models.settings import Settings
from warehouse.db import connect, current_version, migrate, migrations, pending_migrations
from warehouse.ingest import ingest
from warehouse.readonly import SqlRefused, query
from warehouse.sources import GITHUB_JOBS, GITHUB_RUNS, JIRA

DATA_SCHEMAS = ("raw", "core", "models", "marts")


def table_fingerprints(path: Path) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent content hash of every data table."""
    conn = duckdb.connect(str(path), read_only=True)
    try:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            f"WHERE table_schema IN {DATA_SCHEMAS} ORDER BY ALL"
        ).fetchall()
        out = {}
        for schema, name in tables:
            cols = [
                c for (c,) in conn.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                    [schema, name],
                ).fetchall()
                if c not in {"loaded_at", "quarantined_at", "checked_at"}  # when, not what
            ]
            expr = ", ".join(f'"{c}"' for c in cols)
            n, h = conn.execute(
                f"SELECT count(*), coalesce(sum(hash({expr})), 0)::VARCHAR "
                f"FROM {schema}.{name}"
            ).fetchone()
            out[f"{schema}.{name}"] = (n, h)
        return out
    finally:
        conn.close()


def test_new_warehouse_has_every_migration(tmp_path: Path) -> None:
    conn = connect(tmp_path / "w.duckdb")
    assert current_version(conn) == max(v for v, _, _ in migrations())
    assert conn.execute("SELECT count(*) FROM meta.schema_version").fetchone()[0] == len(migrations())
    conn.close()


def test_older_warehouse_is_upgraded_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    conn = duckdb.connect(str(path))
    assert migrate(conn, target=1) == [1]
    conn.execute(
        "INSERT INTO raw.files VALUES ('x.json', 'jira', 'abc', 10, 1, 0, now())"
    )
    assert conn.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'builds'"
    ).fetchone()[0] == 0
    conn.close()

    conn = connect(path)
    assert current_version(conn) == max(v for v, _, _ in migrations())
    assert conn.execute("SELECT count(*) FROM meta.builds").fetchone()[0] == 0
    assert conn.execute("SELECT sha256 FROM raw.files").fetchall() == [("abc",)]
    conn.close()


def test_a_skipped_earlier_migration_is_applied(tmp_path: Path) -> None:
    """A warehouse that got a later migration before an earlier one landed (two branches)
    still gets the earlier one on the next connect."""
    path = tmp_path / "gap.duckdb"
    bundled = migrations()
    assert len(bundled) >= 3
    skipped, later = bundled[-2], bundled[-1]
    conn = duckdb.connect(str(path))
    migrate(conn, target=skipped[0] - 1)
    conn.execute(later[2])
    conn.execute("INSERT INTO meta.schema_version VALUES (?, ?, now())", [later[0], later[1]])
    assert pending_migrations(conn) == [skipped[0]]
    conn.close()

    conn = connect(path)
    assert pending_migrations(conn) == []
    assert conn.execute("SELECT list(version ORDER BY version) FROM meta.schema_version"
                        ).fetchone()[0] == [v for v, _, _ in bundled]
    conn.close()


def test_vendor_payloads_land_in_core(contracts_export: Path, vendor_payload, tmp_path: Path) -> None:
    summary = build(Settings(warehouse=tmp_path / "w.duckdb", exports=contracts_export))
    assert summary.rebuilt
    conn = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    job = vendor_payload("github_workflow_run_jobs_list.json")["jobs"][0]
    row = conn.execute(
        "SELECT job_id, job_name, conclusion, duration_s, failed_step, repo FROM core.ci_jobs"
    ).fetchone()
    assert row == (job["id"], job["name"], "failure", 287.0, "Run tests", "quayside-dev/ledger-api")
    dep = conn.execute(
        "SELECT deployment_id, environment, production, created_at::VARCHAR, final_state "
        "FROM core.deployments"
    ).fetchone()
    assert dep == (1904417, "production", True, "2025-06-03 14:20:05+00", "success")
    inc = conn.execute(
        "SELECT incident_id, incident_number, priority, team, created_at::VARCHAR, duration_min "
        "FROM core.incidents"
    ).fetchone()
    # created 16:09:12+02:00 (14:09:12 UTC), resolved 14:51:42Z: 42 min 30 s
    assert inc[:5] == ("Q1LDG7R", 317, "P1", "Payments", "2025-06-03 14:09:12+00")
    assert inc[5] == pytest.approx(42.5)
    ticket = conn.execute(
        "SELECT ticket_key, provider, url, title, description, created_at::VARCHAR FROM core.tickets"
    ).fetchone()
    assert ticket == ("LEDG-231", "jira", "https://quayside.atlassian.net/browse/LEDG-231",
                      "Ledger writes are lost after a database connection reset",
                      "Retry ledger writes when the connection resets", "2025-06-03 15:00:41+00")
    conn.close()


def test_vendor_examples_land_in_core(published_export: Path, tmp_path: Path) -> None:
    """The mappers against the vendors' own published examples (reference data in shared/)."""
    summary = build(Settings(warehouse=tmp_path / "w.duckdb", exports=published_export))
    assert summary.rebuilt
    conn = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    run = json.loads((published_export / "github/jobs/2020-01-20.json").read_text())["jobs"][0]
    row = conn.execute(
        "SELECT job_id, job_name, conclusion, duration_s FROM core.ci_jobs"
    ).fetchone()
    assert row == (run["id"], run["name"], run["conclusion"], 119.0)
    dep = conn.execute(
        "SELECT deployment_id, environment, production, created_at::VARCHAR FROM core.deployments"
    ).fetchone()
    assert dep == (1, "production", True, "2012-07-20 01:19:13+00")
    inc = conn.execute(
        "SELECT incident_id, incident_number, priority, team, duration_min FROM core.incidents"
    ).fetchone()
    # created 21:30:42, resolved 21:38:23 in the published example: 7 min 41 s
    assert inc[:4] == ("PT4KHLK", 1234, "P2", "Engineering")
    assert inc[4] == pytest.approx(461 / 60)
    ticket = conn.execute("SELECT ticket_key, provider, url, description FROM core.tickets").fetchone()
    assert ticket == ("ED-1", "jira", "https://your-domain.atlassian.net/browse/ED-1",
                      "Main order flow broken")
    conn.close()


def test_timestamps_with_offsets_are_stored_as_utc(vendor_payload, tmp_path: Path) -> None:
    jobs = vendor_payload("github_workflow_run_jobs_list.json")
    job = jobs["jobs"][0]
    job["started_at"] = "2020-01-20T09:42:40.000-08:00"  # the steps' style: a local offset
    root = tmp_path / "exports"
    (root / "github/jobs").mkdir(parents=True)
    (root / "github/jobs/2020-01-20.json").write_text(json.dumps(jobs))
    conn = connect(tmp_path / "w.duckdb")
    ingest(conn, root, [GITHUB_JOBS])
    assert conn.execute("SELECT started_at::VARCHAR FROM raw.github_jobs").fetchone() == (
        "2020-01-20 17:42:40+00",
    )
    conn.close()


def _jobs_payload(n: int, jobs_list: dict) -> dict:
    base = jobs_list["jobs"][0]
    jobs = []
    for i in range(n):
        j = copy.deepcopy(base)
        j["id"] = 1000 + i
        j["name"] = f"build-{i}"
        jobs.append(j)
    return {"total_count": n, "jobs": jobs}


def _quarantine(conn: duckdb.DuckDBPyConnection) -> list[tuple]:
    return conn.execute(
        "SELECT regexp_extract(path, '[^/]+$'), record_index, record_key, reason "
        "FROM raw.quarantine ORDER BY ALL"
    ).fetchall()


def test_truncated_file_keeps_records_before_the_break(vendor_payload, tmp_path: Path) -> None:
    root = tmp_path / "exports"
    (root / "github/jobs").mkdir(parents=True)
    text = json.dumps(_jobs_payload(5, vendor_payload("github_workflow_run_jobs_list.json")))
    cut = text.index('"id": 1004') + 20  # inside the fifth job
    (root / "github/jobs/2020-01-20.json").write_text(text[:cut])
    conn = connect(tmp_path / "w.duckdb")
    [result] = ingest(conn, root, [GITHUB_JOBS])
    assert conn.execute("SELECT list(job_id ORDER BY job_id) FROM raw.github_jobs").fetchone()[0] == [
        1000, 1001, 1002, 1003
    ]
    [(name, index, _key, reason)] = _quarantine(conn)
    assert (name, index) == ("2020-01-20.json", 4)
    assert "truncated" in reason or "malformed" in reason
    assert result.quarantined == 1 and "2020-01-20.json: record 4" in result.problems[0]
    conn.close()


def test_wrong_shape_and_bad_records_are_quarantined_with_reasons(
    vendor_payload, tmp_path: Path
) -> None:
    root = tmp_path / "exports"
    (root / "github/jobs").mkdir(parents=True)
    payload = _jobs_payload(4, vendor_payload("github_workflow_run_jobs_list.json"))
    for key in ("run_id", "run_url", "html_url"):  # nothing left that names the job's run
        del payload["jobs"][1][key]
    payload["jobs"][2]["started_at"] = "yesterday-ish"
    (root / "github/jobs/2020-01-20.json").write_text(json.dumps(payload))
    (root / "github/jobs/2020-01-21.json").write_text(json.dumps([{"id": 1}]))  # not a list response
    conn = connect(tmp_path / "w.duckdb")
    ingest(conn, root, [GITHUB_JOBS])
    assert conn.execute("SELECT list(job_id ORDER BY job_id) FROM raw.github_jobs").fetchone()[0] == [
        1000, 1003
    ]
    rows = _quarantine(conn)
    assert rows[0][:3] == ("2020-01-20.json", 1, "1001")
    assert "run_id" in rows[0][3]
    assert rows[1][:3] == ("2020-01-20.json", 2, "1002")
    assert "started_at" in rows[1][3]
    assert rows[2][:2] == ("2020-01-21.json", -1)
    assert "wrong shape" in rows[2][3]
    conn.close()


def test_non_utf8_record_is_quarantined_and_the_rest_load(vendor_payload, tmp_path: Path) -> None:
    root = tmp_path / "exports"
    (root / "github/runs").mkdir(parents=True)
    payload = vendor_payload("github_workflow_runs_list.json")
    run = payload["workflow_runs"][0]
    second = copy.deepcopy(run)
    second["id"] = run["id"] + 1
    second["display_title"] = "PLACEHOLDER"
    payload["workflow_runs"].append(second)
    raw = json.dumps(payload).encode("utf-8").replace(b"PLACEHOLDER", b"caf\xe9 \xff")
    (root / "github/runs/2020-01-22.json").write_bytes(raw)
    conn = connect(tmp_path / "w.duckdb")
    ingest(conn, root, [GITHUB_RUNS])
    assert conn.execute("SELECT list(run_id) FROM raw.github_workflow_runs").fetchone()[0] == [run["id"]]
    [(name, index, _key, reason)] = _quarantine(conn)
    assert (name, index) == ("2020-01-22.json", 1) and "UTF-8" in reason
    conn.close()


def test_second_build_changes_no_row(contracts_export: Path, tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    first = build(Settings(warehouse=path, exports=contracts_export))
    before = table_fingerprints(path)
    second = build(Settings(warehouse=path, exports=contracts_export))
    assert first.rebuilt and not second.rebuilt
    assert sum(r.files_loaded for r in second.loads) == 0
    assert table_fingerprints(path) == before


def test_changed_file_replaces_its_rows(vendor_payload, tmp_path: Path) -> None:
    root = tmp_path / "exports"
    (root / "jira/issues").mkdir(parents=True)
    payload = vendor_payload("jira_search_jql_response.json")
    target = root / "jira/issues/2023-06.json"
    target.write_text(json.dumps(payload))
    conn = connect(tmp_path / "w.duckdb")
    ingest(conn, root, [JIRA])
    payload["issues"][0]["key"] = "LEDG-7"
    target.write_text(json.dumps(payload))
    [result] = ingest(conn, root, [JIRA])
    assert result.files_loaded == 1
    assert conn.execute("SELECT list(key) FROM raw.jira_issues").fetchone()[0] == ["LEDG-7"]
    assert conn.execute("SELECT count(*) FROM raw.files").fetchone()[0] == 1
    conn.close()


@pytest.mark.parametrize(
    "sql, expected",
    [
        ("DELETE FROM core.tickets", "DELETE"),
        ("CREATE TABLE x AS SELECT 1", "CREATE"),
        ("ATTACH 'other.duckdb'", "ATTACH"),
        ("COPY core.tickets TO 'out.csv'", "COPY"),
        ("INSTALL httpfs", "INSTALL/LOAD"),
        ("LOAD httpfs", "INSTALL/LOAD"),
        ("SELECT 1; DROP TABLE core.tickets", "DROP"),
        ("SET enable_external_access = true", "SET"),
    ],
)
def test_sql_refuses_anything_but_reading(
    contracts_export: Path, tmp_path: Path, sql: str, expected: str
) -> None:
    path = tmp_path / "w.duckdb"
    build(Settings(warehouse=path, exports=contracts_export))
    with pytest.raises(SqlRefused, match=expected):
        query(sql, path)
    assert query("SELECT count(*) FROM core.tickets", path).rows == [(1,)]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('{f}')",
        "SELECT * FROM read_text('{f}')",
        "SELECT * FROM read_json_auto('{f}')",
    ],
)
def test_sql_cannot_read_local_files(contracts_export: Path, tmp_path: Path, sql: str) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("token\nabc\n")
    path = tmp_path / "w.duckdb"
    build(Settings(warehouse=path, exports=contracts_export))
    with pytest.raises(SqlRefused, match="outside the warehouse"):
        query(sql.format(f=secret), path)


def test_sql_reads_with_select_describe_and_summarize(contracts_export: Path, tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    build(Settings(warehouse=path, exports=contracts_export))
    res = query("WITH t AS (SELECT * FROM core.incidents) SELECT incident_id FROM t", path)
    assert res.columns == ["incident_id"] and res.rows == [("Q1LDG7R",)]
    assert query("DESCRIBE core.tickets", path).rows[0][0] == "ticket_key"
    assert query("SUMMARIZE core.incidents", path).rows


def test_postmortems_from_a_separate_folder(contracts_export: Path, tmp_path: Path) -> None:
    repo = tmp_path / "postmortem-repo" / "2025"
    repo.mkdir(parents=True)
    (repo / "db-failover.md").write_text(
        "# Database failover stalled\n\n**Date:** 2025-03-04\n\n## Action Items\n\n"
        "| Action | Owner | Ticket |\n|---|---|---|\n| Add failover drill | @dana | LEDG-231 |\n",
        encoding="utf-8",
    )
    path = tmp_path / "w.duckdb"
    build(Settings(warehouse=path, exports=contracts_export,
                   postmortems=tmp_path / "postmortem-repo"))
    conn = duckdb.connect(str(path), read_only=True)
    rows = conn.execute(
        "SELECT action_item_id, ticket_key, link_kind FROM marts.time_to_ticket"
    ).fetchall()
    conn.close()
    assert rows == [("2025/db-failover#1", "LEDG-231", "doc_key")]


def test_core_failures_use_the_one_failed_conclusion_list() -> None:
    """SQL cannot import Python: the list in core.ci_failures is held to models.ci here."""
    import re

    from models.ci import FAILED_CONCLUSIONS
    from warehouse.transform import step

    [listed] = re.findall(r"conclusion IN \(([^)]*)\)", step("core.ci_failures").sql)
    assert tuple(v.strip().strip("'") for v in listed.split(",")) == FAILED_CONCLUSIONS
