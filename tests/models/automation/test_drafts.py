"""The postmortem draft starts with the incident ticket and keeps filling: created with the
ticket, new events appended on the next run, people's edits kept, never written twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from models.automation import outbox
from models.automation.config import AutomationConfig, load_automation
from models.automation.drafts import BEGIN, blocks_of, drafts_folder
from models.automation.run import run_once
from models.postmortems import lint, parse_postmortem
from tests.models.automation.fakes import ENV, Trackers, config_toml
from tests.models.automation.test_triggers import CONFIG, EXPECTED, GH, REPO, seed
from warehouse.db import connect

FAILED_AT = datetime(2025, 6, 3, 10, 9, tzinfo=UTC)  # run 100's deploy job
EXPECTED_LINT = {"action-item-no-owner", "action-item-no-ticket"}


@pytest.fixture
def tw(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    conn = connect(tmp_path / "w.duckdb")
    seed(conn)
    yield conn
    conn.close()


def cfg_for(tmp_path: Path, extra: str = "") -> AutomationConfig:
    path = tmp_path / "followthrough.toml"
    path.write_text(CONFIG + '\n[automation.drafts]\nfolder = "pm-drafts"\n' + extra,
                    encoding="utf-8")
    return load_automation(path)


def draft_rows(conn: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str, str | None]]:
    return {r[0]: r[1:] for r in conn.execute(
        "SELECT ticket_key, path, status, incident_id FROM automation.drafts").fetchall()}


def the_draft(tmp_path: Path) -> Path:
    return tmp_path / "pm-drafts" / "2025-06-03-github-run-100.md"


def add_incident_and_events(conn: duckdb.DuckDBPyConnection) -> None:
    """What arrives after the ticket: the PagerDuty incident the failure led to, its on-call
    log, the incident channel's Slack messages, and one more failed CI job."""
    ex = conn.execute
    ex("INSERT INTO core.incidents (incident_id, provider, incident_number, title, service, "
       "priority, urgency, status, created_at, url, details) VALUES ('PQX9LED', 'pagerduty', "
       "4412, 'Ledger API 5xx after deploy', 'ledger-api', 'P1', 'high', 'triggered', "
       "TIMESTAMPTZ '2025-06-03 10:14:00+00', 'https://quayside.pagerduty.com/incidents/PQX9LED',"
       " ?)", [f"Deploy run {GH}/100 failed"])
    ex("INSERT INTO raw.pagerduty_log_entries (log_entry_id, incident_id, type, created_at, "
       "summary, agent_summary, source_path) VALUES ('L1', 'PQX9LED', 'acknowledge_log_entry', "
       "TIMESTAMPTZ '2025-06-03 10:17:31+00', 'Acknowledged by Rosa Diaz', 'Rosa Diaz', 'x')")
    ex("INSERT INTO core.incident_timeline (incident_id, source, channel_id, channel_name, ts, "
       "posted_at, user_id, is_reply, text, link_kind) VALUES ('PQX9LED', 'slack', 'C1', "
       "'inc-4412-ledger', '1748945880.000100', TIMESTAMPTZ '2025-06-03 10:18:00.0001+00', "
       "'U7', false, 'Rolling back ledger-api to the previous release', 'channel_number')")
    ex("INSERT INTO core.ci_failures (provider, job_id, run_id, repo, workflow, job_name, "
       "branch, sha, conclusion, failed_step, failed_at, url, run_url) VALUES ('github', 1101, "
       "110, ?, 'Deploy', 'rollback-production', 'main', ?, 'failure', 'Verify', "
       "TIMESTAMPTZ '2025-06-03 10:31:00+00', ?, ?)",
       [REPO, "a" * 40, f"{GH}/110/job/1101", f"{GH}/110"])


def test_the_draft_starts_with_the_ticket(tw: duckdb.DuckDBPyConnection,
                                          tmp_path: Path) -> None:
    cfg = cfg_for(tmp_path)
    summary = run_once(tw, cfg, env={}, now=FAILED_AT + timedelta(minutes=2))
    assert drafts_folder(tw, cfg) == tmp_path / "pm-drafts"
    rows = draft_rows(tw)
    assert set(rows) == set(EXPECTED)  # one draft per incident ticket
    assert "postmortem drafts: 5 started" in "\n".join(summary.lines())
    assert rows["github-run:100"] == (str(the_draft(tmp_path)), "following", None)
    text = the_draft(tmp_path).read_text(encoding="utf-8")
    blocks = blocks_of(text)
    assert set(blocks) == {"record", "timeline"}
    record = blocks["record"]
    assert "dry run: the jira ticket was not created (outbox key github-run:100)" in record
    assert "Severity: SEV3 (rule: production (environment in \\['production'\\]) -> SEV3)" \
        in record  # the rule that fired, Markdown-escaped
    assert "PagerDuty incident: none linked yet" in record
    # the timeline is the one `followthrough draft` writes: the failed deploy job is in it
    assert "INCIDENT OPENED" in blocks["timeline"]
    assert "deploy-production" in blocks["timeline"] and "| 10:09 |" in blocks["timeline"]
    doc = parse_postmortem(text, path="draft.md")
    # what the meeting settles, and the duration of an incident that is not over yet
    assert {f.rule for f in lint(doc)} <= EXPECTED_LINT | {"impact-no-duration"}
    assert doc.timeline  # the parser reads the timeline inside the markers


def test_new_events_arrive_on_the_next_run_and_human_edits_survive(
        tw: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    cfg = cfg_for(tmp_path)
    run_once(tw, cfg, env={}, now=FAILED_AT + timedelta(minutes=2))
    path = the_draft(tmp_path)
    first = path.read_text(encoding="utf-8")
    assert "Rolling back" not in first
    # people write the summary and a note after the timeline while the incident runs
    edited = first.replace(
        "## Summary\n\n_TBD_ — one or two sentences: what happened, for how long, and who was "
        "affected.", "## Summary\n\nThe ledger-api 4.2 roll-out failed its readiness checks.")
    assert edited != first
    edited = edited.replace("<!-- followthrough:auto end timeline -->",
                            "<!-- followthrough:auto end timeline -->\n\nScribe note: paged "
                            "the database on-call at 10:20.", 1)
    path.write_text(edited, encoding="utf-8")

    add_incident_and_events(tw)
    summary = run_once(tw, cfg, env={}, now=FAILED_AT + timedelta(minutes=40))
    assert summary.drafts_line.startswith("postmortem drafts: 0 started, ")
    assert "0 updated" not in summary.drafts_line
    text = path.read_text(encoding="utf-8")
    timeline = blocks_of(text)["timeline"]
    for event in ("Rolling back ledger-api to the previous release",  # Slack, to the second
                  "| 10:18:00 |",
                  "PagerDuty: Acknowledged by Rosa Diaz",
                  "OUTAGE BEGINS — PagerDuty incident",  # the incident it led to
                  "rollback-production"):  # a later CI failure
        assert event in timeline, event
    assert "PagerDuty incident: PQX9LED #4412" in blocks_of(text)["record"]
    assert "The ledger-api 4.2 roll-out failed its readiness checks." in text
    assert "Scribe note: paged the database on-call at 10:20." in text
    assert draft_rows(tw)["github-run:100"][2] == "PQX9LED"


def test_no_second_draft_on_rerun_or_after_a_crash(tw: duckdb.DuckDBPyConnection,
                                                   tmp_path: Path) -> None:
    cfg = cfg_for(tmp_path)
    now = FAILED_AT + timedelta(minutes=5)
    run_once(tw, cfg, env={}, now=now)
    folder = tmp_path / "pm-drafts"
    files = sorted(p.name for p in folder.iterdir())
    assert len(files) == len(EXPECTED)
    path = the_draft(tmp_path)
    path.write_text(path.read_text(encoding="utf-8") + "\nOwner picked: payments on-call.\n",
                    encoding="utf-8")
    before = path.read_text(encoding="utf-8")

    again = run_once(tw, cfg, env={}, now=now + timedelta(minutes=1))
    assert "0 started, 0 updated, 5 unchanged" in again.drafts_line
    assert sorted(p.name for p in folder.iterdir()) == files
    assert path.read_text(encoding="utf-8") == before

    # a crash after the file was written but before its row was recorded
    tw.execute("DELETE FROM automation.drafts")
    run_once(tw, cfg, env={}, now=now + timedelta(minutes=2))
    assert sorted(p.name for p in folder.iterdir()) == files
    assert len(draft_rows(tw)) == len(EXPECTED)
    assert "Owner picked: payments on-call." in path.read_text(encoding="utf-8")


def test_markers_removed_or_file_moved_means_left_alone(tw: duckdb.DuckDBPyConnection,
                                          tmp_path: Path) -> None:
    cfg = cfg_for(tmp_path)
    run_once(tw, cfg, env={}, now=FAILED_AT + timedelta(minutes=2))
    path = the_draft(tmp_path)
    mine = path.read_text(encoding="utf-8").replace(BEGIN.format(name="timeline"), "")
    path.write_text(mine, encoding="utf-8")
    moved = tmp_path / "pm-drafts" / "2025-06-03-github-501.md"
    moved.rename(tmp_path / "finished.md")  # someone moved this one to the postmortems
    add_incident_and_events(tw)
    summary = run_once(tw, cfg, env={}, now=FAILED_AT + timedelta(minutes=40))
    assert "2 left alone (markers removed or file moved)" in summary.drafts_line
    assert path.read_text(encoding="utf-8") == mine
    assert draft_rows(tw)["github-run:100"][1] == "detached"
    assert draft_rows(tw)["github:501"][1] == "missing" and not moved.exists()
    run_once(tw, cfg, env={}, now=FAILED_AT + timedelta(minutes=50))
    assert not moved.exists()  # not written again


def test_a_settled_draft_is_not_refilled_and_drafts_can_be_turned_off(
        tw: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    cfg = cfg_for(tmp_path, "follow_hours = 1\n")
    run_once(tw, cfg, env={}, now=FAILED_AT + timedelta(days=2))
    assert {s for _, s, _ in draft_rows(tw).values()} == {"settled"}
    before = the_draft(tmp_path).read_text(encoding="utf-8")
    add_incident_and_events(tw)
    run_once(tw, cfg, env={}, now=FAILED_AT + timedelta(days=3))
    assert the_draft(tmp_path).read_text(encoding="utf-8") == before

    off = tmp_path / "off"
    off.mkdir()
    conn = connect(off / "w.duckdb")
    try:
        seed(conn)
        (off / "followthrough.toml").write_text(CONFIG + "\n[automation.drafts]\nenabled = false\n",
                                                encoding="utf-8")
        run_once(conn, load_automation(off / "followthrough.toml"), env={}, now=FAILED_AT)
        assert draft_rows(conn) == {} and not (off / "drafts").exists()
    finally:
        conn.close()


def test_a_draft_that_cannot_be_written_does_not_stop_the_tickets(
        tw: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    (tmp_path / "pm-drafts").write_text("a file where the folder should be", encoding="utf-8")
    summary = run_once(tw, cfg_for(tmp_path), env={}, now=FAILED_AT)
    assert summary.enqueued["ticket"] == len(EXPECTED)
    assert f"{len(EXPECTED)} failed" in summary.drafts_line
    assert draft_rows(tw) == {}


def test_the_draft_carries_the_ticket_key_once_the_tracker_has_it(
        wh: duckdb.DuckDBPyConnection, trackers: Trackers, tmp_path: Path) -> None:
    path = config_toml(tmp_path / "ft.toml", trackers.url, extra='drafts = { folder = "pm" }')
    run_once(wh, load_automation(path), env=ENV, sleep=lambda _: None)
    ticket = outbox.get(wh, "github:502")
    assert ticket is not None and ticket.status == "sent" and ticket.external_key
    text = (tmp_path / "pm" / "2025-06-03-github-502.md").read_text(encoding="utf-8")
    blocks = blocks_of(text)
    assert f"- Ticket: {ticket.external_key} {ticket.external_url}" in blocks["record"]
    assert f"Ticket [{ticket.external_key}]({ticket.external_url}) created" in blocks["timeline"]
    assert draft_rows(wh)["github:502"][0] == str(tmp_path / "pm" / "2025-06-03-github-502.md")
