"""Engineering-manager notices over loopback: the EM of the owning team gets the ticket link (not
the CI link) by Slack DM (`chat.postMessage` to the user id) or by email through a local SMTP
server that parses what it receives; SMTP and Slack faults are recorded and retried."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from models.automation import outbox
from models.automation.config import load_automation
from models.automation.run import run_once
from models.automation.smtp import KEY_HEADER, message_id
from tests.models.automation.fakes import ENV, Trackers, config_toml
from tests.models.automation.followups import SmtpServer, seed_repeats, smtp_toml
from tests.vendor_server import Fault
from warehouse.db import connect

ROUTE = '[[automation.routes]]\nrepos = ["quayside-dev/billing"]\nteam = "payments"\n'
EM_EMAIL = '[automation.teams.payments]\nem = "Priya Patel"\nem_email = "priya@quayside.dev"\n'
EM_SLACK = '[automation.teams.payments]\nem = "Priya Patel"\nem_slack = "U07PAYEM01"\n'
SMTP_ENV = {**ENV, "SMTP_USER": "followthrough", "SMTP_PASSWORD": "smtp-secret-value"}


def no_sleep(_: float) -> None:
    return None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as s:
        yield s


def config(tmp_path: Path, url: str, extra: str, **kw: Any) -> Any:
    return load_automation(config_toml(tmp_path / "ft.toml", url, extra=extra, **kw))


def run(conn: duckdb.DuckDBPyConnection, cfg: Any, env: dict[str, str] = ENV,
        **kw: Any) -> Any:
    return run_once(conn, cfg, env=env, sleep=no_sleep, **kw)


def test_em_gets_the_ticket_link_by_email(wh: duckdb.DuckDBPyConnection, trackers: Trackers,
                                          smtp: SmtpServer, tmp_path: Path) -> None:
    cfg = config(tmp_path, trackers.url, ROUTE + EM_EMAIL + smtp_toml(smtp.port))
    summary = run(wh, cfg)
    assert summary.enqueued.get("email") == 1 and not summary.failed
    ticket = outbox.get(wh, "gitlab:77")
    assert ticket is not None and ticket.status == "sent" and ticket.external_url
    row = outbox.get(wh, "notify:gitlab:77")
    assert row is not None and row.kind == "email" and row.target == "smtp"
    assert row.status == "sent" and row.external_key == message_id("notify:gitlab:77")

    [mail] = smtp.received
    assert mail.mail_from == "followthrough@quayside.dev"
    assert mail.rcpt_to == ["priya@quayside.dev"]
    msg = mail.message
    assert msg["To"] == "priya@quayside.dev" and msg["From"] == "followthrough@quayside.dev"
    assert msg["Subject"].startswith("[SEV3] production deploy of quayside-dev/billing failed")
    assert msg["Message-ID"] == message_id("notify:gitlab:77")
    assert msg[KEY_HEADER] == "notify:gitlab:77"
    body = msg.get_content()
    assert f"Ticket: {ticket.external_key} {ticket.external_url}" in body
    assert "gitlab.quayside.dev" not in body  # the ticket link, not the raw CI link
    assert "STARTTLS" not in smtp.commands  # starttls = false in this config

    assert run(wh, cfg).enqueued == {}
    assert len(smtp.received) == 1


def test_em_gets_a_slack_dm_from_the_teams_table(wh: duckdb.DuckDBPyConnection,
                                                 trackers: Trackers, tmp_path: Path) -> None:
    cfg = config(tmp_path, trackers.url, ROUTE + EM_SLACK)
    summary = run(wh, cfg)
    assert trackers.invalid == [] and not summary.failed
    assert summary.enqueued.get("dm") == 1
    dms = [m for m in trackers.slack if m["channel"] == "U07PAYEM01"]
    assert len(dms) == 1
    ticket = outbox.get(wh, "gitlab:77")
    assert ticket is not None and f"{ticket.external_key} {ticket.external_url}" in dms[0]["text"]
    assert dms[0]["metadata"]["event_payload"]["key"] == "notify:gitlab:77"


def test_an_em_configured_twice_gets_one_message(wh: duckdb.DuckDBPyConnection,
                                                 trackers: Trackers, tmp_path: Path) -> None:
    extra = 'team_ems = { payments = "U07PAYEM01" }\n' + ROUTE + EM_SLACK
    summary = run(wh, config(tmp_path, trackers.url, extra))
    assert summary.enqueued.get("notify") == 1 and "dm" not in summary.enqueued
    assert len([m for m in trackers.slack if m["channel"] == "U07PAYEM01"]) == 1


def test_smtp_login_and_refused_login(wh: duckdb.DuckDBPyConnection, trackers: Trackers,
                                      tmp_path: Path) -> None:
    with SmtpServer(auth=("followthrough", "smtp-secret-value")) as smtp:
        cfg = config(tmp_path, trackers.url,
                     ROUTE + EM_EMAIL + smtp_toml(smtp.port, auth=True))
        # without the credentials in the environment the target is not live: a dry run
        run(wh, cfg, env=ENV)
        assert outbox.get(wh, "notify:gitlab:77").status == "dry_run"  # type: ignore[union-attr]
        wh.execute("DELETE FROM automation.outbox WHERE kind = 'email'")
        bad = {**SMTP_ENV, "SMTP_PASSWORD": "wrong-password"}
        now = outbox.now_utc()
        first = run(wh, cfg, env=bad, now=now)
        row = outbox.get(wh, "notify:gitlab:77")
        assert row is not None and row.status == "failed"
        assert row.last_error == "smtp: login refused (535)"
        assert first.failed == [("notify:gitlab:77", "smtp: login refused (535)")]
        later = run(wh, cfg, env=SMTP_ENV, now=now + timedelta(seconds=61))
        assert later.sent == 1 and len(smtp.received) == 1
        assert smtp.logins[-1] == ("followthrough", "smtp-secret-value")
    dump = json.dumps([[str(v) for v in r] for r in
                       wh.execute("SELECT * FROM automation.outbox").fetchall()])
    assert "smtp-secret-value" not in dump and "wrong-password" not in dump


def test_starttls_asked_for_but_not_offered_fails_clearly(wh: duckdb.DuckDBPyConnection,
                                                          trackers: Trackers, smtp: SmtpServer,
                                                          tmp_path: Path) -> None:
    cfg = config(tmp_path, trackers.url,
                 ROUTE + EM_EMAIL + smtp_toml(smtp.port, starttls=True))
    summary = run(wh, cfg)
    [(key, error)] = summary.failed
    assert key == "notify:gitlab:77"
    assert error == (f"smtp: 127.0.0.1:{smtp.port} does not offer STARTTLS "
                     "(set starttls = false for a trusted relay)")
    assert smtp.received == []


def test_smtp_temporary_failure_is_retried_later(wh: duckdb.DuckDBPyConnection,
                                                 trackers: Trackers, smtp: SmtpServer,
                                                 tmp_path: Path) -> None:
    cfg = config(tmp_path, trackers.url, ROUTE + EM_EMAIL + smtp_toml(smtp.port))
    smtp.fail_data.append(451)
    now = outbox.now_utc()
    first = run(wh, cfg, now=now)
    row = outbox.get(wh, "notify:gitlab:77")
    assert row is not None and row.status == "failed" and "451" in (row.last_error or "")
    assert [k for k, _ in first.failed] == ["notify:gitlab:77"]
    assert run(wh, cfg, now=now + timedelta(seconds=30)).sent == 0
    later = run(wh, cfg, now=now + timedelta(seconds=61))
    assert later.sent == 1 and len(smtp.received) == 1
    assert outbox.get(wh, "notify:gitlab:77").attempts == 2  # type: ignore[union-attr]


def test_email_dry_run_shows_the_message(wh: duckdb.DuckDBPyConnection, trackers: Trackers,
                                         tmp_path: Path) -> None:
    cfg = config(tmp_path, trackers.url, ROUTE + EM_EMAIL, live=False)
    run(wh, cfg)
    row = outbox.get(wh, "notify:gitlab:77")
    assert row is not None and row.status == "dry_run" and row.kind == "email"
    assert row.payload["to"] == ["priya@quayside.dev"]
    assert row.payload["from"] == "(automation.smtp.from not set)"
    assert "(dry run: jira ticket not created)" in row.payload["text"]
    assert trackers.server.log == []


def test_slack_ok_false_on_a_repeat_alert_is_failed_with_its_error(
        tmp_path: Path, trackers: Trackers) -> None:
    conn = connect(tmp_path / "r.duckdb")
    try:
        now = outbox.now_utc()
        ids = seed_repeats(conn, now)
        cfg = config(tmp_path, trackers.url, '[automation.repeats]\nfix_not_held = "comment"\n')
        trackers.slack_error = "not_in_channel"
        first = run(conn, cfg, now=now)
        key = f"repeat:github:{ids['fresh']}"
        row = outbox.get(conn, key)
        assert row is not None and row.status == "failed"
        assert row.last_error == "slack: chat.postMessage: not_in_channel"
        assert (key, row.last_error) in first.failed
        trackers.slack_error = None
        later = run(conn, cfg, now=now + timedelta(seconds=61))
        assert outbox.get(conn, key).status == "sent"  # type: ignore[union-attr]
        assert later.sent >= 2 and len(trackers.slack) == 2
    finally:
        conn.close()


def test_slack_rate_limit_on_a_dm_is_waited_out(wh: duckdb.DuckDBPyConnection,
                                                trackers: Trackers, tmp_path: Path) -> None:
    cfg = config(tmp_path, trackers.url, ROUTE + EM_SLACK)
    trackers.server.fail_next("POST", r"/slack/api/chat\.postMessage",
                              Fault(status=429, headers={"Retry-After": "3"}), times=2)
    waits: list[float] = []
    summary = run_once(wh, cfg, env=ENV, sleep=waits.append)
    assert waits.count(3.0) == 2 and not summary.failed
    assert outbox.get(wh, "notify:gitlab:77").status == "sent"  # type: ignore[union-attr]


def test_the_documented_notifications_example_parses(tmp_path: Path) -> None:
    import re

    doc = Path(__file__).resolve().parents[3] / "docs" / "automation.md"
    section = doc.read_text(encoding="utf-8").split("## Notifications", 1)[1]
    block = re.findall(r"```\n(.*?)```", section, re.S)[0]
    path = tmp_path / "followthrough.toml"
    path.write_text(block, encoding="utf-8")
    cfg = load_automation(path, env={})
    assert cfg.teams["payments"].codeowners == ("@acme/payments", "@dana")
    assert cfg.people["Lee Wong"].email == "lee@acme.example"
    assert cfg.smtp.port == 587 and cfg.smtp.starttls and not cfg.smtp.is_live(SMTP_ENV)
    assert cfg.repeats.lookback_hours == 24 and cfg.repeats.fix_not_held == "reopen"
    assert cfg.digest.weekday == "monday" and cfg.digest.hour == 8
