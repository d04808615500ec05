"""Repeat-failure alerts and "fix did not hold" over loopback: the team channel and its EM get
the cluster's context once per failure, only failures since the watermark count, and a failure
after the linked fix closed reopens (or comments on) the ticket once, checked against the
vendors' request contracts; faults are retried with nothing doubled."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from models.automation import outbox
from models.automation.config import load_automation
from models.automation.repeats import repeats_since, watermark
from models.automation.run import run_once
from tests.models.automation.fakes import ENV, LEAKED, Trackers, adf_problems, config_toml
from tests.models.automation.followups import (
    CLUSTER,
    REPO,
    FollowUps,
    _failure,
    mount_followups,
    seed_repeats,
)
from tests.vendor_server import Fault
from warehouse.db import connect

TEAM = """
[automation.teams.payments]
em = "Priya Patel"
em_slack = "U07PAYEM01"
channel = "C07PAYMENTS"
"""


def no_sleep(_: float) -> None:
    return None


@pytest.fixture
def now() -> datetime:
    return outbox.now_utc().replace(microsecond=0)


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = connect(tmp_path / "w.duckdb")
    yield c
    c.close()


@pytest.fixture
def follow(trackers: Trackers) -> FollowUps:
    return mount_followups(trackers)


def cfg_for(tmp_path: Path, url: str, extra: str = "", **kw: Any) -> Any:
    return load_automation(config_toml(tmp_path / "ft.toml", url, extra=TEAM + extra, **kw))


def run(conn: duckdb.DuckDBPyConnection, cfg: Any, now: datetime, **kw: Any) -> Any:
    return run_once(conn, cfg, env=ENV, now=now, sleep=no_sleep, **kw)


def keys(conn: duckdb.DuckDBPyConnection) -> dict[str, outbox.OutboxRow]:
    return {r.idempotency_key: r for r in outbox.rows(conn)}


def test_repeat_alert_carries_the_context_once(conn: duckdb.DuckDBPyConnection,
                                               trackers: Trackers, follow: FollowUps,
                                               tmp_path: Path, now: datetime) -> None:
    ids = seed_repeats(conn, now)
    cfg = cfg_for(tmp_path, trackers.url)
    summary = run(conn, cfg, now)
    assert trackers.invalid == [] and not summary.failed
    assert summary.enqueued == {"alert": 2, "dm": 2, "reopen": 1}
    rows = keys(conn)
    # history before the watermark is not alerted
    assert not any(str(ids["history"]) in k for k in rows)
    assert {r.status for r in rows.values()} == {"sent"}

    channel = [m for m in trackers.slack if m["channel"] == "C07PAYMENTS"]
    assert len(channel) == 2
    alert = next(m["text"] for m in channel if str(ids["after_fix"] + 100000) in m["text"])
    for expected in (
        f"Repeat failure in {REPO}", "integration-tests", f"Cluster {CLUSTER}",
        "seen 3 time(s) before, first on 2025-03-01",
        "Prior ticket: OPS-31 (2025-03-02, Done) https://quayside.atlassian.net/browse/OPS-31",
        "Postmortem: 2025-03-04-refund-double-spend (2025-03-04): Refunds applied twice",
        "did not hold",
        f"https://github.com/{REPO}/actions/runs/{ids['after_fix'] + 100000}",  # new run link
        "AssertionError: balance -20 != 0", "[REDACTED:github_token]",  # redacted excerpt
    ):
        assert expected in alert, expected
    assert LEAKED not in json.dumps(trackers.slack)

    dms = [m for m in trackers.slack if m["channel"] == "U07PAYEM01"]
    assert len(dms) == 2
    for dm in dms:
        assert "ticket OPS-31 https://quayside.atlassian.net/browse/OPS-31" in dm["text"]
        assert "actions/runs" not in dm["text"]  # the EM gets the ticket, not the CI link

    again = run(conn, cfg, now + timedelta(minutes=1))
    assert again.enqueued == {} and again.sent == 0
    assert len(trackers.slack) == 4
    assert sum(len(c) for c in follow.jira_comments.values()) == 1


def test_fix_did_not_hold_reopens_the_jira_ticket_and_comments(
        conn: duckdb.DuckDBPyConnection, trackers: Trackers, follow: FollowUps,
        tmp_path: Path, now: datetime) -> None:
    ids = seed_repeats(conn, now)
    run(conn, cfg_for(tmp_path, trackers.url), now)
    assert trackers.invalid == []
    assert follow.jira_moved == [("OPS-31", "3")]  # the "Reopen Issue" transition
    [comment] = follow.jira_comments["OPS-31"]
    assert adf_problems(comment["body"]) == []
    text = json.dumps(comment["body"])
    assert "The fix did not hold" in text
    assert f"actions/runs/{ids['after_fix'] + 100000}" in text
    marker = f"followthrough:fixfail:OPS-31:github:{ids['after_fix']}"
    assert marker in text
    row = outbox.get(conn, f"fixfail:OPS-31:github:{ids['after_fix']}")
    assert row is not None and row.kind == "reopen" and row.target == "jira"
    assert row.external_key == "OPS-31 comment 10000: reopened (Reopen Issue) and commented"
    # only the failure after the fix closed is a follow-up
    assert not any(k.startswith("fixfail:") and str(ids["fresh"]) in k for k in keys(conn))


def test_jira_without_a_reopen_transition_gets_a_comment(
        conn: duckdb.DuckDBPyConnection, trackers: Trackers, follow: FollowUps,
        tmp_path: Path, now: datetime) -> None:
    ids = seed_repeats(conn, now)
    follow.jira_transitions["OPS-31"] = [
        t for t in follow.transitions_for("OPS-31") if t["to"]["statusCategory"]["key"] == "done"]
    run(conn, cfg_for(tmp_path, trackers.url), now)
    assert follow.jira_moved == [] and len(follow.jira_comments["OPS-31"]) == 1
    row = outbox.get(conn, f"fixfail:OPS-31:github:{ids['after_fix']}")
    assert row is not None and row.external_key and "no reopen transition" in row.external_key


def test_comment_only_when_configured(conn: duckdb.DuckDBPyConnection, trackers: Trackers,
                                      follow: FollowUps, tmp_path: Path, now: datetime) -> None:
    seed_repeats(conn, now)
    cfg = cfg_for(tmp_path, trackers.url, extra='[automation.repeats]\nfix_not_held = "comment"\n')
    summary = run(conn, cfg, now)
    assert summary.enqueued.get("comment") == 1 and "reopen" not in summary.enqueued
    assert trackers.server.requests(pattern=r"/rest/api/3/issue/OPS-31/transitions") == []
    assert len(follow.jira_comments["OPS-31"]) == 1


def test_github_issue_is_reopened_and_commented(conn: duckdb.DuckDBPyConnection,
                                                trackers: Trackers, follow: FollowUps,
                                                tmp_path: Path, now: datetime) -> None:
    ids = seed_repeats(conn, now, fix_provider="github")
    summary = run(conn, cfg_for(tmp_path, trackers.url), now)
    assert trackers.invalid == [] and not summary.failed
    assert follow.github_patches == [(f"{REPO}#77", {"state": "open",
                                                     "state_reason": "reopened"})]
    [comment] = follow.github_comments[f"{REPO}#77"]
    assert f"followthrough:fixfail:{REPO}#77:github:{ids['after_fix']}" in comment["body"]
    assert "[REDACTED:github_token]" in comment["body"] and LEAKED not in comment["body"]
    assert run(conn, cfg_for(tmp_path, trackers.url), now).sent == 0
    assert len(follow.github_patches) == 1


def test_linear_ticket_gets_a_comment(conn: duckdb.DuckDBPyConnection, trackers: Trackers,
                                      follow: FollowUps, tmp_path: Path,
                                      now: datetime) -> None:
    ids = seed_repeats(conn, now, fix_provider="linear")
    summary = run(conn, cfg_for(tmp_path, trackers.url), now)
    assert trackers.invalid == [] and not summary.failed
    assert summary.enqueued.get("comment") == 1  # Linear is commented, not reopened
    [comment] = follow.linear_comments
    assert comment["issueId"] == "9b2f5c1e-0d43-4d43-9d2a-5e3e6f7a8b9c"
    assert f"followthrough:fixfail:LED-9:github:{ids['after_fix']}" in comment["body"]


def test_a_comment_that_landed_before_a_crash_is_found(
        conn: duckdb.DuckDBPyConnection, trackers: Trackers, follow: FollowUps,
        tmp_path: Path, now: datetime, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = seed_repeats(conn, now)
    cfg = cfg_for(tmp_path, trackers.url)
    real = outbox.mark_sent

    def crash(c: Any, key: str, *args: Any, **kw: Any) -> None:
        if key.startswith("fixfail:"):
            raise KeyboardInterrupt("killed")
        real(c, key, *args, **kw)

    monkeypatch.setattr(outbox, "mark_sent", crash)
    with pytest.raises(KeyboardInterrupt):
        run(conn, cfg, now)
    assert len(follow.jira_comments["OPS-31"]) == 1
    monkeypatch.setattr(outbox, "mark_sent", real)
    later = run(conn, cfg, now + timedelta(minutes=2))
    assert later.found == 1 and not later.failed
    assert len(follow.jira_comments["OPS-31"]) == 1 and len(follow.jira_moved) == 1
    row = outbox.get(conn, f"fixfail:OPS-31:github:{ids['after_fix']}")
    assert row is not None and row.status == "sent" and row.external_key == "OPS-31 comment 10000"


def test_tracker_500_is_retried_later_without_doubling(
        conn: duckdb.DuckDBPyConnection, trackers: Trackers, follow: FollowUps,
        tmp_path: Path, now: datetime) -> None:
    ids = seed_repeats(conn, now)
    cfg = cfg_for(tmp_path, trackers.url)
    trackers.server.fail_next("POST", r"/rest/api/3/issue/OPS-31/comment", Fault(status=500))
    first = run(conn, cfg, now)
    key = f"fixfail:OPS-31:github:{ids['after_fix']}"
    assert [k for k, _ in first.failed] == [key]
    row = outbox.get(conn, key)
    assert row is not None and row.status == "failed" and "HTTP 500" in (row.last_error or "")
    assert row.next_attempt_at == now + timedelta(seconds=60)
    assert run(conn, cfg, now + timedelta(seconds=30)).sent == 0
    later = run(conn, cfg, now + timedelta(seconds=61))
    assert later.sent == 1 and not later.failed
    assert len(follow.jira_comments["OPS-31"]) == 1
    assert outbox.get(conn, key).attempts == 2  # type: ignore[union-attr]


def test_watermark_alerts_only_failures_since_the_start(
        conn: duckdb.DuckDBPyConnection, trackers: Trackers, follow: FollowUps,
        tmp_path: Path, now: datetime) -> None:
    ids = seed_repeats(conn, now)
    cfg = cfg_for(tmp_path, trackers.url)
    since = watermark(conn, cfg, now)
    assert since == now - timedelta(hours=1) - timedelta(hours=24)  # newest failure - look-back
    assert watermark(conn, cfg, now + timedelta(days=3)) == since  # set once
    found = {r.job_id for r in repeats_since(conn, since)}
    assert found == {ids["fresh"], ids["after_fix"]}
    run(conn, cfg, now)
    # a new failure later is alerted; one that arrives late but is older than the watermark
    # (a backfill) is not
    _failure(conn, 8005, now + timedelta(hours=1), occurrence=5, tickets=["OPS-31"],
             postmortems=["2025-03-04-refund-double-spend"])
    _failure(conn, 8006, since - timedelta(hours=1), occurrence=6, tickets=["OPS-31"],
             postmortems=[])
    later = run(conn, cfg, now + timedelta(hours=1, minutes=1))
    assert later.enqueued == {"alert": 1, "dm": 1}
    assert "repeat:github:8005" in keys(conn) and "repeat:github:8006" not in keys(conn)


def test_a_stale_warehouse_starts_from_its_newest_failure(conn: duckdb.DuckDBPyConnection,
                                                          now: datetime) -> None:
    """A warehouse whose newest failure is a month old (the sample org) still gets the last
    day's repeats, in dry run; the watermark is before that newest failure, not before now."""
    seed_repeats(conn, now - timedelta(days=30))
    cfg = load_automation(None, env={})
    since = watermark(conn, cfg, now)
    assert since == now - timedelta(days=30, hours=25)
    summary = run_once(conn, cfg, env={}, now=now)
    assert summary.enqueued == {"alert": 2, "reopen": 1}
    assert set(outbox.counts(conn)) == {"dry_run"}
    alert = outbox.get(conn, "repeat:github:8004")
    assert alert is not None and alert.payload["channel"] == "#incidents"


def test_dry_run_shows_every_request(conn: duckdb.DuckDBPyConnection, trackers: Trackers,
                                     follow: FollowUps, tmp_path: Path, now: datetime) -> None:
    ids = seed_repeats(conn, now)
    cfg = cfg_for(tmp_path, trackers.url, live=False)
    summary = run(conn, cfg, now)
    assert trackers.server.log == [] and summary.statuses == {"dry_run": 5}
    follow_up = outbox.get(conn, f"fixfail:OPS-31:github:{ids['after_fix']}")
    assert follow_up is not None
    assert follow_up.payload["op"] == "reopen" and follow_up.payload["issue"] == "OPS-31"
    assert adf_problems(follow_up.payload["request"]["body"]) == []


def test_branch_filter(conn: duckdb.DuckDBPyConnection, tmp_path: Path, now: datetime,
                       trackers: Trackers) -> None:
    seed_repeats(conn, now)
    cfg = cfg_for(tmp_path, trackers.url, live=False,
                  extra='[automation.repeats]\nbranches = ["release"]\n')
    assert run(conn, cfg, now).enqueued == {}


def test_a_failed_deploys_ci_is_left_to_its_incident_ticket(wh: duckdb.DuckDBPyConnection,
                                                            tmp_path: Path) -> None:
    """Job 7002 (seed_warehouse) is the CI of the failed production deploy github:502 and its
    cluster has OPS-7 and a postmortem: the incident ticket carries that history, so there is
    no separate repeat alert; the same failure outside a deploy would get one."""
    cfg = load_automation(None, env={})
    summary = run_once(wh, cfg, env={})
    assert "repeat:github:7002" not in keys(wh)
    assert summary.enqueued == {"ticket": 3, "alert": 1}
    wh.execute("DELETE FROM core.deployments WHERE deployment_id = 502")
    assert run_once(wh, cfg, env={}).enqueued == {"alert": 1}
    assert "repeat:github:7002" in keys(wh)


@pytest.mark.slow
def test_sample_org_dry_run_shows_repeat_alerts_and_digests(tmp_path: Path) -> None:
    """`followthrough demo`'s pass on the sample organisation: repeat alerts for the last day's
    failures of clusters with history (not months of them), one digest per owner and team,
    every row a dry run, and a second pass adds nothing."""
    from followthrough.commands.build import build
    from models.automation.config import AutomationConfig
    from models.settings import Settings
    from sampleorg.generator import generate

    exports = tmp_path / "exports"
    generate(exports, seed=7, scale=0.3)
    settings = Settings(warehouse=tmp_path / "w.duckdb", exports=exports)
    build(settings)
    c = connect(settings.warehouse)
    try:
        summary = run_once(c, AutomationConfig(), env={})
        rows = outbox.rows(c)
        assert {r.status for r in rows} == {"dry_run"}
        since = watermark(c, AutomationConfig(), outbox.now_utc())
        newest = c.execute("SELECT max(failed_at) FROM core.ci_failures").fetchone()[0]
        assert since == newest - timedelta(hours=24)
        repeats = [r for r in rows if r.idempotency_key.startswith("repeat:")]
        history = c.execute(
            "SELECT count(*) FROM models.recurrences WHERE len(prior_ticket_keys) > 0 "
            "OR len(prior_postmortem_ids) > 0").fetchone()[0]
        assert 1 <= len(repeats) < history / 10  # the last day, not the history
        for r in repeats:
            assert r.event_at is not None and r.event_at >= since
            text = r.payload["text"]
            assert "Prior ticket:" in text or "Postmortem:" in text
            assert "/actions/runs/" in text and "Cluster " in text
        digests = [r for r in rows if r.kind == "digest"]
        # owners written as a login or a name ("mikael-kim", "Mikael Kim") are one recipient;
        # no EM is configured, so each team's items go to a recorded "EM of <team>" row
        owners = {re.sub(r"[^a-z0-9]", "", o.lower()) for (o,) in c.execute(
            "SELECT DISTINCT owner FROM marts.stale_items WHERE owner IS NOT NULL").fetchall()}
        teams = c.execute("SELECT count(DISTINCT team) FROM marts.stale_items").fetchone()[0]
        assert len(digests) == len(owners) + teams
        assert all("why: " in r.payload["text"] for r in digests)
        assert summary.enqueued["digest"] == len(digests)
        assert run_once(c, AutomationConfig(), env={}).enqueued == {}
    finally:
        c.close()


@pytest.mark.parametrize(("name", "to", "category", "reopens"), [
    ("Reopen Issue", "Reopened", "new", True),
    ("Back to In Progress", "In Progress", "indeterminate", True),
    ("Start over", "To Do", "new", True),  # the target status is a way back
    ("Move to done", "Done", "done", False),  # never a transition into done
    ("Go to dormant", "Dormant", "indeterminate", False),
    ("Close Issue", "Closed", "done", False),
])
def test_which_jira_transition_reopens(name: str, to: str, category: str,
                                       reopens: bool) -> None:
    from models.automation.senders import _is_reopen

    assert _is_reopen({"id": "1", "name": name,
                       "to": {"name": to, "statusCategory": {"key": category}}}) is reopens
