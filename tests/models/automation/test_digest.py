"""The weekly digest: due at the configured local time, one message per recipient per week
(owners and their engineering managers, merged when the EM owns items too), each item with why
it is stale, sent by Slack DM or SMTP over loopback; recipients without an address are recorded
as dry runs that say so."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from models.automation import outbox
from models.automation.config import load_automation
from models.automation.digest import due
from models.automation.run import run_once
from tests.models.automation.fakes import ENV, Trackers, config_toml
from tests.models.automation.followups import SmtpServer, smtp_toml
from warehouse.db import connect

# Monday 2026-11-23 08:30 UTC: after Monday 08:00 in UTC, week 2026-W48.
MONDAY = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
WEEK = "2026-W48"

PEOPLE = """
[automation.teams.payments]
em = "Priya Patel"
em_slack = "U07PAYEM01"

[automation.people]
"Priya Patel" = { slack = "U07PAYEM01" }
"Dana Kim" = { slack = "U07DANA001" }
"""

ITEMS = [
    # action_item_id, team, owner, priority, text, ticket, reasons, details, days
    ("pm-1#1", "Payments", "Dana Kim", "P1", "Add idempotency keys to refunds", "PAY-46",
     ["no_activity", "open_past_sprint"],
     "no activity on PAY-46 for 40 days (last 2026-10-14) | PAY-46 is still To Do; sprint "
     "PAY Sprint 14 ended 2026-11-10 (13 days ago)", 40.0),
    ("pm-1#2", "Payments", "lee@quayside.dev", "P2", "Alert on refund queue depth", None,
     ["no_ticket_24h"], "no ticket 24 h after the review meeting of 2026-10-01", 52.0),
    ("pm-1#3", "Payments", None, "P3", "Document the refund replay runbook", "PAY-50",
     ["no_owner"], "no owner in the document and PAY-50 is unassigned", 30.0),
    ("pm-2#1", "Payments", "Priya Patel", "P2", "Review refund SLOs", "PAY-51",
     ["verification_missing"], "no verification criterion, neither on the item nor in the "
     "document: nobody will know whether the fix worked", 20.0),
    ("pm-3#1", "Web", "Unknown Person", "P3", "Cache checkout assets", "WEB-9",
     ["no_activity"], "no activity on WEB-9 for 31 days (last 2026-10-23)", 31.0),
]


def seed_stale(conn: duckdb.DuckDBPyConnection) -> None:
    for n, (iid, team, owner, prio, text, ticket, reasons, details, days) in enumerate(ITEMS, 1):
        conn.execute(
            "INSERT INTO marts.stale_items (act_order, action_item_id, postmortem_id, team, "
            "owner, priority, action_text, ticket_key, ticket_url, reasons, reason_count, "
            "days_stale, details, as_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [n, iid, iid.split("#")[0], team, owner, prio, text, ticket,
             f"https://quayside.atlassian.net/browse/{ticket}" if ticket else None, reasons,
             len(reasons), days, details, MONDAY])


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = connect(tmp_path / "w.duckdb")
    seed_stale(c)
    yield c
    c.close()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as s:
        yield s


def no_sleep(_: float) -> None:
    return None


def digest_rows(conn: duckdb.DuckDBPyConnection) -> dict[str, outbox.OutboxRow]:
    return {r.idempotency_key: r for r in outbox.rows(conn) if r.kind == "digest"}


@pytest.mark.parametrize(("now", "week"), [
    (datetime(2026, 11, 23, 6, 59, tzinfo=UTC), "2026-W47"),  # 07:59 in Berlin (CET)
    (datetime(2026, 11, 23, 7, 0, tzinfo=UTC), "2026-W48"),  # 08:00 in Berlin
    (datetime(2026, 6, 22, 5, 59, tzinfo=UTC), "2026-W25"),  # 07:59 in Berlin (CEST)
    (datetime(2026, 6, 22, 6, 0, tzinfo=UTC), "2026-W26"),
    (datetime(2027, 1, 3, 12, 0, tzinfo=UTC), "2026-W53"),  # ISO week-year
], ids=["before-winter", "at-winter", "before-summer", "at-summer", "iso-year"])
def test_due_at_the_local_hour(tmp_path: Path, now: datetime, week: str) -> None:
    path = tmp_path / "ft.toml"
    path.write_text('[automation.digest]\nweekday = "Monday"\nhour = 8\n'
                    'timezone = "Europe/Berlin"\n', encoding="utf-8")
    label, at = due(load_automation(path, env={}), now)
    assert label == week
    assert at <= now and at.hour == 8 and at.weekday() == 0
    assert now - at < timedelta(days=7)


def test_one_digest_per_recipient_per_week(conn: duckdb.DuckDBPyConnection,
                                           trackers: Trackers, smtp: SmtpServer,
                                           tmp_path: Path) -> None:
    cfg = load_automation(config_toml(tmp_path / "ft.toml", trackers.url,
                                      extra=PEOPLE + smtp_toml(smtp.port)))
    summary = run_once(conn, cfg, env=ENV, now=MONDAY, sleep=no_sleep)
    assert trackers.invalid == [] and not summary.failed
    rows = digest_rows(conn)
    assert set(rows) == {f"digest:{WEEK}:{x}" for x in (
        "U07DANA001", "lee@quayside.dev", "U07PAYEM01", "unknownperson", "emofweb")}
    assert summary.enqueued == {"digest": 5}

    dana = next(m for m in trackers.slack if m["channel"] == "U07DANA001")["text"]
    assert "Follow-through digest, week 2026-W48: 1 stale action item(s)." in dana
    assert "[P1] Add idempotency keys to refunds (PAY-46 https://quayside.atlassian.net/" \
        "browse/PAY-46; postmortem pm-1, stale 40 days)" in dana
    assert "why: no activity on PAY-46 for 40 days" in dana  # the reason, in words
    assert "sprint PAY Sprint 14 ended 2026-11-10" in dana

    # the EM owns one item too: one digest with both parts
    priya = next(m for m in trackers.slack if m["channel"] == "U07PAYEM01")["text"]
    assert "4 stale action item(s)" in priya
    assert "Yours (1):" in priya and "Team Payments (4), as its engineering manager:" in priya
    assert "Document the refund replay runbook" in priya and "no owner in the document" in priya
    assert "Cache checkout assets" not in priya

    [mail] = smtp.received
    assert mail.rcpt_to == ["lee@quayside.dev"]
    assert mail.message["Subject"] == "Follow-through digest 2026-W48: 1 stale action item(s)"
    assert "why: no ticket 24 h after the review meeting" in mail.message.get_content()

    for key in (f"digest:{WEEK}:unknownperson", f"digest:{WEEK}:emofweb"):
        row = rows[key]
        assert row.status == "dry_run" and "no Slack user id or email" in row.payload["unaddressed"]
    assert "Cache checkout assets" in rows[f"digest:{WEEK}:emofweb"].payload["text"]
    assert {rows[k].status for k in rows if "unknown" not in k and "emof" not in k} == {"sent"}

    # the same week again (a cron pass, the schedule): nothing; next week: again once each
    again = run_once(conn, cfg, env=ENV, now=MONDAY + timedelta(days=2), sleep=no_sleep)
    assert again.enqueued == {} and len(trackers.slack) == 2 and len(smtp.received) == 1
    following = run_once(conn, cfg, env=ENV, now=MONDAY + timedelta(days=7), sleep=no_sleep)
    assert following.enqueued == {"digest": 5}
    assert len(trackers.slack) == 4 and len(smtp.received) == 2


def test_long_digests_are_cut(conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "ft.toml"
    path.write_text(PEOPLE + "\n[automation.digest]\nmax_items = 2\n", encoding="utf-8")
    run_once(conn, load_automation(path, env={}), env={}, now=MONDAY)
    text = digest_rows(conn)[f"digest:{WEEK}:U07PAYEM01"].payload["text"]
    assert text.count("• ") == 2 and "... and 2 more on the dashboard's stale page." in text


def test_disabled_or_nothing_stale(conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "ft.toml"
    path.write_text("[automation.digest]\nenabled = false\n", encoding="utf-8")
    assert run_once(conn, load_automation(path, env={}), env={}, now=MONDAY).enqueued == {}
    conn.execute("DELETE FROM marts.stale_items")
    assert run_once(conn, load_automation(None, env={}), env={}, now=MONDAY).enqueued == {}


def test_digest_config_errors_name_the_key(tmp_path: Path) -> None:
    from models.connectors.config import ConfigError

    for text, key in (('[automation.digest]\ntimezone = "Mars/Olympus"\n', "timezone"),
                      ('[automation.digest]\nweekday = "someday"\n', "weekday"),
                      ("[automation.digest]\nhour = 24\n", "hour"),
                      ('[automation.smtp]\nlive = true\nhost = "h"\n', "smtp"),
                      ('[automation.repeats]\nfix_not_held = "close"\n', "fix_not_held"),
                      ('[automation.teams.x]\nem_email = "nobody"\n', "em_email"),
                      ('[automation.people]\n"A B" = { phone = "1" }\n', "phone")):
        path = tmp_path / "ft.toml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError) as err:
            load_automation(path, env={})
        assert key in str(err.value) and str(path) in str(err.value)


def test_sample_shaped_owner_names(tmp_path: Path) -> None:
    """Owners written as logins, names or addresses: one digest each, addressed when the text
    itself is an address."""
    conn = connect(tmp_path / "x.duckdb")
    try:
        seed_stale(conn)
        conn.execute("UPDATE marts.stale_items SET owner = 'U07LOGIN01' WHERE act_order = 5")
        run_once(conn, load_automation(None, env={}), env={}, now=MONDAY)
        rows: dict[str, Any] = digest_rows(conn)
        assert rows[f"digest:{WEEK}:U07LOGIN01"].payload["channel"] == "U07LOGIN01"
        assert rows[f"digest:{WEEK}:lee@quayside.dev"].target == "smtp"
        assert {r.status for r in rows.values()} == {"dry_run"}
    finally:
        conn.close()
