"""A job exported with its older web address still matches the references that cite it."""

from __future__ import annotations

from pathlib import Path

from warehouse.db import connect
from warehouse.transform import rebuild, step

RUN = "https://github.com/acme/api/actions/runs/4205440316"


def test_older_job_url_matches_a_ticket_a_postmortem_and_an_incident_citing_todays_form(
        tmp_path: Path) -> None:
    conn = connect(tmp_path / "w.duckdb")
    # GitHub stored this job as `.../runs/RUN/jobs/N` (N is not the job id); its cluster peer
    # in another run has today's `.../runs/RUN/job/JOB`.
    conn.execute(
        "INSERT INTO models.ci_failure_clusters (provider, job_id, cluster_id, fingerprint, repo, "
        "run_url, url) VALUES "
        f"('github', 11421878319, 1, 'fp1', 'acme/api', '{RUN}', '{RUN}/jobs/7297536068'), "
        "('github', 99, 2, 'fp2', 'acme/api', 'https://github.com/acme/api/actions/runs/5', "
        "'https://github.com/acme/api/actions/runs/5/job/99')"
    )
    conn.execute(
        "INSERT INTO models.failure_clusters (cluster_id, representative, founded_by) VALUES "
        "(1, 'connection reset', 'job'), (2, 'disk full', 'job')"
    )
    conn.execute(
        "INSERT INTO core.tickets (ticket_key, provider, created_at, description) VALUES "
        f"('OPS-1', 'jira', TIMESTAMPTZ '2023-02-18 10:00:00+00', "
        f"'Flaky again: {RUN}/job/11421878319?check_suite_focus=true.')"
    )
    conn.execute(
        "INSERT INTO raw.postmortem_documents (postmortem_id, path, source_path, ci_refs) VALUES "
        f"('2023-02-17-reset', 'a.md', 'a.md', ['{RUN}/job/11421878319#step:5:40'])"
    )
    # An incident cites the same job; another cites run 55, which is not run 5 (an address
    # is a whole reference, not a prefix of a longer one).
    conn.execute(
        "INSERT INTO core.incidents (incident_id, provider, service, created_at, details) VALUES "
        "('P1', 'pagerduty', 'billing', TIMESTAMPTZ '2023-02-18 11:00:00+00', "
        f"'Deploy blocked. CI: {RUN}/job/11421878319?pr=3, see runbook'), "
        "('P2', 'pagerduty', 'billing', TIMESTAMPTZ '2023-02-18 12:00:00+00', "
        "'CI: https://github.com/acme/api/actions/runs/55.')"
    )
    rebuild(conn, step("models.cluster_links"))
    assert conn.execute(
        "SELECT cluster_id, link_type, target_id, evidence FROM models.cluster_links ORDER BY ALL"
    ).fetchall() == [("1", "incident", "P1", "job_url"),
                     ("1", "postmortem", "2023-02-17-reset", "job_url"),
                     ("1", "ticket", "OPS-1", "job_url")]
    conn.close()
