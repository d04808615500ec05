"""Tickets and alerts over loopback: request bodies match the vendors' contracts, every field of
the ticket is there, and faults (5xx, time-outs, a crash after the tracker accepted, Slack
`ok: false`) are retried later with nothing lost and nothing doubled."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from models.automation import outbox
from models.automation.config import load_automation
from models.automation.run import run_once
from models.automation.senders import adf, linear_issue_id, payload_for
from models.automation.tickets import incident_tickets
from tests.models.automation.fakes import (
    ENV,
    LEAKED,
    Trackers,
    adf_problems,
    config_toml,
    jira_problems,
)
from tests.vendor_server import Fault, Request

EXPECTED_KEYS = {"github:501", "github:502", "gitlab:77"}


def no_sleep(_: float) -> None:
    return None


def adf_text(node: Any) -> str:
    if isinstance(node, dict):
        return node.get("text", "") + "".join(adf_text(c) for c in node.get("content", [])) \
            + "".join(m.get("attrs", {}).get("href", "") for m in node.get("marks", []))
    return ""


def run(conn: duckdb.DuckDBPyConnection, cfg_path: Path, **kw: Any) -> Any:
    return run_once(conn, load_automation(cfg_path), env=ENV, sleep=no_sleep, **kw)


def tickets(conn: duckdb.DuckDBPyConnection) -> dict[str, outbox.OutboxRow]:
    return {r.idempotency_key: r for r in outbox.rows(conn) if r.kind == "ticket"}


def test_jira_tickets_carry_every_field_in_adf(wh: duckdb.DuckDBPyConnection,
                                               trackers: Trackers, tmp_path: Path) -> None:
    cfg = config_toml(tmp_path / "ft.toml", trackers.url)
    summary = run(wh, cfg)
    assert trackers.invalid == []
    assert summary.enqueued == {"ticket": 3, "alert": 1} and not summary.failed
    rows = tickets(wh)
    assert set(rows) == EXPECTED_KEYS and {r.status for r in rows.values()} == {"sent"}
    by_label = {next(x for x in i["labels"] if x.startswith("followthrough-")): i
                for i in trackers.jira}
    issue = by_label["followthrough-github-502"]
    assert rows["github:502"].external_key == issue["key"]
    assert rows["github:502"].external_url == f"{trackers.url}/browse/{issue['key']}"
    assert "incident" in issue["labels"] and "sev2" in issue["labels"]
    assert issue["project"] == {"key": "OPS"} and issue["issuetype"] == {"name": "Bug"}
    assert issue["summary"].startswith("[SEV2] production deploy of quayside-dev/ledger-api")
    text = adf_text(issue["description"])
    for expected in (
        "https://github.com/quayside-dev/ledger-api/actions/runs/9002",  # CI run link
        "deploy-production (step: Smoke test)",  # failing job and step
        "Smoke test GET /healthz -> 503", "[REDACTED:github_token]",  # redacted excerpt
        "b" * 40,  # commit
        "sam-okoro",  # who merged
        "Environment: production",
        "SEV2 (rule: production-recurring",  # severity and the rule that set it
        "This path has failed before; see OPS-7 (2025-05-20).",
        "Prior postmortem 2025-05-21-ledger-outage (2025-05-21): Ledger API outage.",
        "see deployment 501 (2025-06-03)",
    ):
        assert expected in text, expected
    assert LEAKED not in json.dumps(trackers.jira)
    assert rows["github:502"].rule and rows["github:502"].rule.startswith("production-recurring")

    # the SEV2 ticket is also a channel alert, carrying the ticket link, not the raw CI link
    assert len(trackers.slack) == 1
    alert = trackers.slack[0]
    assert alert["channel"] == "C07QDEVOPS1"
    assert f"{issue['key']} {trackers.url}/browse/{issue['key']}" in alert["text"]

    again = run(wh, cfg)
    assert again.enqueued == {} and again.sent == 0
    assert len(trackers.jira) == 3 and len(trackers.slack) == 1
    assert len(trackers.server.requests("POST", r"/rest/api/3/issue")) == 3


def test_contract_checks_can_fail(wh: duckdb.DuckDBPyConnection) -> None:
    """The fake's validators reject what Jira would reject (so the passing tests mean something)."""
    draft = incident_tickets(wh)[0]
    body = payload_for(load_automation(None, env={}).target("jira"), draft)
    assert jira_problems(body) == []
    assert adf_problems(adf(draft)) == []
    bad = json.loads(json.dumps(body))
    bad["fields"]["description"]["content"][0]["content"][1]["text"] = ""
    bad["fields"]["customfield_99999"] = "x"
    del bad["fields"]["summary"]
    problems = jira_problems(bad)
    assert any("empty text" in p for p in problems)
    assert any("customfield_99999" in p for p in problems)
    assert "Field 'summary' is required" in problems
    bad_labels = json.loads(json.dumps(body))
    bad_labels["fields"]["labels"] = ["has space"]
    assert jira_problems(bad_labels)


@pytest.mark.parametrize("tracker", ["linear", "github"])
def test_linear_and_github_tickets(wh: duckdb.DuckDBPyConnection, trackers: Trackers,
                                   tmp_path: Path, tracker: str) -> None:
    cfg = config_toml(tmp_path / "ft.toml", trackers.url, tracker=tracker)
    summary = run(wh, cfg)
    assert trackers.invalid == [] and not summary.failed
    created = getattr(trackers, tracker)
    assert len(created) == 3
    rows = tickets(wh)
    assert {r.target for r in rows.values()} == {tracker}
    if tracker == "linear":
        issue = next(i for i in created if i["id"] == linear_issue_id("github:502"))
        assert issue["teamId"] == "team-ledger" and issue["priority"] == 2
        body = issue["description"]
        assert rows["github:502"].external_key == issue["identifier"]
    else:
        issue = next(i for i in created
                     if "followthrough-github-502" in {lab["name"] for lab in i["labels"]})
        assert issue["repo"] == "quayside-dev/incidents"
        assert {"incident", "sev2"} <= {lab["name"] for lab in issue["labels"]}
        body = issue["body"]
        assert rows["github:502"].external_url == issue["html_url"]
    for expected in ("actions/runs/9002", "deploy-production (step: Smoke test)", "b" * 40,
                     "sam-okoro", "[REDACTED:github_token]", "see OPS-7 (2025-05-20)"):
        assert expected in body
    assert run(wh, cfg).enqueued == {}
    assert len(getattr(trackers, tracker)) == 3


def test_dry_run_sends_nothing_and_shows_the_request(wh: duckdb.DuckDBPyConnection,
                                                     trackers: Trackers,
                                                     tmp_path: Path) -> None:
    cfg = config_toml(tmp_path / "ft.toml", trackers.url, live=False)
    summary = run(wh, cfg)
    assert trackers.server.log == []
    assert summary.statuses == {"dry_run": 4}
    drafts = {d.idempotency_key: d for d in incident_tickets(wh)}
    target = load_automation(cfg).target("jira")
    for key, row in tickets(wh).items():
        assert row.payload == json.loads(json.dumps(payload_for(target, drafts[key])))
        assert row.external_key is None and row.attempts == 0
    # live flag without the token: still a dry run
    wh.execute("DELETE FROM automation.outbox")
    live = config_toml(tmp_path / "live.toml", trackers.url)
    run_once(wh, load_automation(live), env={}, sleep=no_sleep)
    assert trackers.server.log == [] and set(outbox.counts(wh)) == {"dry_run"}


@pytest.mark.parametrize("fault", [Fault(status=500), Fault(status=503), Fault(stall_s=1.0)],
                         ids=["500", "503", "timeout"])
def test_tracker_failure_is_retried_later(wh: duckdb.DuckDBPyConnection, trackers: Trackers,
                                          tmp_path: Path, fault: Fault) -> None:
    cfg = config_toml(tmp_path / "ft.toml", trackers.url)
    trackers.server.fail_next("POST", r"/rest/api/3/issue", fault, times=1)
    now = outbox.now_utc()
    first = run(wh, cfg, now=now)
    assert len(first.failed) == 1
    failed_key = first.failed[0][0]
    row = outbox.get(wh, failed_key)
    assert row is not None and row.status == "failed" and row.attempts == 1
    assert row.last_error and ("HTTP 5" in row.last_error or "Timeout" in row.last_error)
    assert row.next_attempt_at == now + timedelta(seconds=60)
    # before the backoff has passed nothing is retried
    assert run(wh, cfg, now=now + timedelta(seconds=30)).sent == 0
    later = run(wh, cfg, now=now + timedelta(seconds=61))
    assert later.sent >= 1 and not later.failed
    rows = tickets(wh)
    assert {r.status for r in rows.values()} == {"sent"} and rows[failed_key].attempts == 2
    assert len({r.external_key for r in rows.values()}) == 3
    labels = [x for i in trackers.jira for x in i["labels"] if x.startswith("followthrough-")]
    assert sorted(labels) == sorted(set(labels)) and len(labels) == 3  # nothing doubled


def test_crash_after_the_tracker_accepted_creates_no_duplicate(
        wh: duckdb.DuckDBPyConnection, trackers: Trackers, tmp_path: Path) -> None:
    """The tracker creates the issue but the answer never reaches us (the client times out):
    the next run finds the issue by its key label and records it instead of creating another."""
    cfg = config_toml(tmp_path / "ft.toml", trackers.url)
    create = trackers._jira_create
    stalled: list[str] = []

    def accept_then_stall(req: Request) -> Any:
        answer = create(req)
        if not stalled:
            stalled.append(answer[2]["key"])
            time.sleep(1.0)  # longer than the client's 0.5 s timeout
        return answer

    trackers.server.routes.insert(0, ("POST", re.compile(r"/rest/api/3/issue$"),
                                      accept_then_stall))
    now = outbox.now_utc()
    first = run(wh, cfg, now=now)
    assert len(first.failed) == 1 and len(trackers.jira) == 3  # accepted, but not recorded
    key = first.failed[0][0]
    assert outbox.get(wh, key).external_key is None  # type: ignore[union-attr]
    later = run(wh, cfg, now=now + timedelta(minutes=5))
    assert later.found == 1 and not later.failed
    assert len(trackers.jira) == 3
    assert len(trackers.server.requests("POST", r"/rest/api/3/issue")) == 3
    assert outbox.get(wh, key).external_key == stalled[0]  # type: ignore[union-attr]


@pytest.mark.parametrize("tracker", ["jira", "linear", "github"])
def test_process_crash_before_recording_is_found_by_key(
        wh: duckdb.DuckDBPyConnection, trackers: Trackers, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, tracker: str) -> None:
    """The process dies between the tracker's answer and the outbox update."""
    cfg = config_toml(tmp_path / "ft.toml", trackers.url, tracker=tracker)
    real = outbox.mark_sent

    def crash(*args: Any, **kw: Any) -> None:
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(outbox, "mark_sent", crash)
    with pytest.raises(KeyboardInterrupt):
        run(wh, cfg)
    assert len(getattr(trackers, tracker)) == 1
    assert {r.status for r in tickets(wh).values()} == {"pending"}
    monkeypatch.setattr(outbox, "mark_sent", real)
    summary = run(wh, cfg)
    assert summary.found == 1 and summary.sent == 4 and not summary.failed
    assert len(getattr(trackers, tracker)) == 3
    assert {r.status for r in tickets(wh).values()} == {"sent"}


def test_slack_ok_false_is_failed_with_its_error(wh: duckdb.DuckDBPyConnection,
                                                 trackers: Trackers, tmp_path: Path) -> None:
    cfg = config_toml(tmp_path / "ft.toml", trackers.url)
    trackers.slack_error = "channel_not_found"
    now = outbox.now_utc()
    summary = run(wh, cfg, now=now)
    alert = outbox.get(wh, "alert:github:502")
    assert alert is not None and alert.status == "failed" and alert.attempts == 1
    assert alert.last_error == "slack: chat.postMessage: channel_not_found"
    assert summary.failed == [("alert:github:502", alert.last_error)]
    assert {r.status for r in tickets(wh).values()} == {"sent"}  # tickets unaffected
    trackers.slack_error = None
    later = run(wh, cfg, now=now + timedelta(seconds=61))
    assert later.sent == 1 and outbox.get(wh, "alert:github:502").status == "sent"  # type: ignore[union-attr]
    assert len(trackers.slack) == 1


def test_slack_rate_limit_waits_and_sends(wh: duckdb.DuckDBPyConnection, trackers: Trackers,
                                          tmp_path: Path) -> None:
    cfg = config_toml(tmp_path / "ft.toml", trackers.url)
    trackers.server.fail_next("POST", r"/slack/api/chat\.postMessage",
                              Fault(status=429, headers={"Retry-After": "7"}), times=1)
    waits: list[float] = []
    summary = run_once(wh, load_automation(cfg), env=ENV, sleep=waits.append)
    assert 7.0 in waits and not summary.failed
    assert outbox.get(wh, "alert:github:502").status == "sent"  # type: ignore[union-attr]
    assert len(trackers.slack) == 1


def test_secrets_are_not_stored(wh: duckdb.DuckDBPyConnection, trackers: Trackers,
                                tmp_path: Path) -> None:
    cfg = config_toml(tmp_path / "ft.toml", trackers.url)
    trackers.server.fail_next("POST", r"/rest/api/3/issue", Fault(status=500), times=1)
    run(wh, cfg)
    dump = json.dumps([[str(v) for v in r] for r in
                       wh.execute("SELECT * FROM automation.outbox").fetchall()])
    for value in (*ENV.values(), LEAKED):
        assert value not in dump


def test_engineering_manager_gets_the_ticket_link(wh: duckdb.DuckDBPyConnection,
                                                  trackers: Trackers, tmp_path: Path) -> None:
    extra = ('team_ems = { payments = "U07PAYMGR" }\n'
             '[[automation.routes]]\nrepos = ["quayside-dev/billing"]\nteam = "payments"\n')
    cfg = config_toml(tmp_path / "ft.toml", trackers.url, extra=extra)
    summary = run(wh, cfg)
    assert summary.enqueued == {"ticket": 3, "alert": 1, "notify": 1} and not summary.failed
    ticket = outbox.get(wh, "gitlab:77")
    assert ticket is not None and ticket.external_url
    dms = [m for m in trackers.slack if m["channel"] == "U07PAYMGR"]
    assert len(dms) == 1
    assert ticket.external_url in dms[0]["text"]
    assert "gitlab.quayside.dev" not in dms[0]["text"].split("\n")[1]  # the ticket, not CI
    assert run(wh, cfg).enqueued == {}


def test_turning_live_on_old_history_opens_no_old_tickets(
        wh: duckdb.DuckDBPyConnection, trackers: Trackers, tmp_path: Path) -> None:
    """With the default max_age_hours, failures older than a day are recorded as dry runs (and
    so are their alerts); a fresh failure is sent."""
    cfg_path = config_toml(tmp_path / "ft.toml", trackers.url)
    cfg_path.write_text(cfg_path.read_text(encoding="utf-8").replace("max_age_hours = 0\n", ""),
                        encoding="utf-8")
    cfg = load_automation(cfg_path)
    assert cfg.max_age_hours == 24.0
    now = outbox.now_utc()
    wh.execute("UPDATE core.deployments SET finished_at = ? WHERE deployment_id = 502",
               [now - timedelta(minutes=3)])
    summary = run_once(wh, cfg, env=ENV, sleep=no_sleep, now=now)
    assert summary.sent == 2 and not summary.failed  # the fresh ticket and its alert
    assert outbox.get(wh, "github:502").status == "sent"  # type: ignore[union-attr]
    assert outbox.get(wh, "github:501").status == "dry_run"  # type: ignore[union-attr]
    assert outbox.get(wh, "gitlab:77").status == "dry_run"  # type: ignore[union-attr]
    assert len(trackers.jira) == 1 and len(trackers.slack) == 1
