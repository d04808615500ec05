"""Slack connector against a loopback Slack Web API: landed messages, raw rows, the incident
timeline and the postmortem draft, and Slack's faults (ok:false in 200, 429 Retry-After)."""

from __future__ import annotations

import copy
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from models.connectors import registry
from models.connectors.base import FetchContext, FetchResult, MissingSecret
from models.connectors.config import SlackConfig, parse_config
from models.connectors.http import ApiError
from models.connectors.landing import Landing
from models.postmortems import parse_postmortem
from models.postmortems.draft import render_draft
from models.sources.common import RecordError
from models.sources.slack import posted_at
from tests.models.connectors.fake_slack import TOKEN, Channel, FakeSlack
from tests.vendor_server import Fault, VendorServer
from warehouse.db import connect
from warehouse.drafts import load_draft_input
from warehouse.ingest import ingest
from warehouse.sources import PAGERDUTY, SLACK
from warehouse.transform import rebuild, step

VENDORS = Path(__file__).resolve().parents[2] / "fixtures" / "vendors"
SINCE = datetime(2025, 6, 1, tzinfo=UTC)
NOW = datetime(2025, 6, 4, tzinfo=UTC)
PD_URL = "https://quayside.pagerduty.com/incidents/Q1LDG7R"
HISTORY = r"/api/conversations\.history"
# Secrets a responder might paste into the channel: they must never reach a file or a row.
LEAKED_SLACK = "xoxb-" + "1234567890" + "-" + "9876543210" + "-" + "AbCdEfGhIjKlMnOpQrStUvWx"
LEAKED_GITHUB = "ghp_" + "Zz9Y" * 9


def _channels() -> list[Channel]:
    ledger = FakeSlack.fixture_channel()  # inc-317-...: Slack's documented history and thread
    failover = Channel("C07DBFAIL1", "inc-db-failover", [
        {"type": "message", "user": "U04JONAS02", "ts": "1748960000.000100",
         "text": f"Failing over the ledger DB <{PD_URL}>"},
        {"type": "message", "subtype": "channel_join", "user": "U04RAVI003",
         "ts": "1748960100.250000", "text": "<@U04RAVI003> has joined the channel"},
    ])
    general = Channel("C07GENERAL", "general", [
        {"type": "message", "user": "U04AMARA01", "ts": "1748960200.000001", "text": "lunch?"}])
    return [ledger, failover, general]


def _cfg(url: str, **kw: Any) -> SlackConfig:
    kw.setdefault("page_size", 1)
    return SlackConfig(api_url=f"{url}/api", max_attempts=3, **kw)


def _fetch(root: Path, cfg: SlackConfig, waits: list[float] | None = None,
           now: datetime = NOW) -> FetchResult:
    ctx = FetchContext(Landing(root), since=SINCE, now=now, env={"SLACK_TOKEN": TOKEN},
                       sleep=(waits if waits is not None else []).append)
    return registry.run("slack", cfg, ctx)


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted((root / "slack").rglob("*.json"))}


def _warehouse(tmp_path: Path, root: Path, name: str = "w.duckdb") -> duckdb.DuckDBPyConnection:
    (root / "pagerduty/incidents").mkdir(parents=True, exist_ok=True)
    shutil.copy(VENDORS / "pagerduty_incidents_list.json", root / "pagerduty/incidents/2025-06.json")
    conn = connect(tmp_path / name)
    results = ingest(conn, root, [SLACK, PAGERDUTY])
    assert all(not r.problems for r in results), [r.problems for r in results]
    for table in ("core.incidents", "core.tickets", "core.ticket_events", "core.incident_timeline"):
        rebuild(conn, step(table))
    return conn


def _rows(conn: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "raw": conn.execute("SELECT * EXCLUDE (source_path, payload) FROM raw.slack_messages "
                            "ORDER BY ALL").fetchall(),
        "timeline": conn.execute("SELECT * FROM core.incident_timeline ORDER BY ALL").fetchall(),
    }


def test_incident_channels_land_load_and_link_to_the_incident(tmp_path: Path) -> None:
    root = tmp_path / "exports"
    with VendorServer() as server:
        FakeSlack(server, _channels())
        result = _fetch(root, _cfg(server.url))
        listed = server.requests("GET", r"/api/conversations\.list")
        history = server.requests("GET", HISTORY)
        replies = server.requests("GET", r"/api/conversations\.replies")
    assert listed[0].query == {"types": ["public_channel,private_channel"],
                               "exclude_archived": ["false"], "limit": ["1"]}
    assert listed[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert len(listed) == 3  # one channel per page, next_cursor followed to the empty one
    # `general` does not match #inc-*: its history is never read.
    assert {r.query["channel"][0] for r in history} == {"C07LDG0317", "C07DBFAIL1"}
    assert history[0].query["oldest"] == ["1748736000.000000"]  # `since`, as a Slack ts
    assert [r.query["ts"] for r in replies] == [["1748961067.014900"]] * 2  # thread, 2 pages
    assert result.records == 6  # 2 + 2 history, the thread's parent and its reply

    files = _files(root)
    assert sorted(files) == ["slack/messages/2025-06-03.inc-317-ledger-latency.json",
                             "slack/messages/2025-06-03.inc-db-failover.json"]
    ledger = json.loads(files["slack/messages/2025-06-03.inc-317-ledger-latency.json"])
    assert [m["ts"] for m in ledger] == ["1748959781.000216", "1748961067.014900",
                                         "1748961182.000400"]  # bare array, by ts
    assert {json.dumps(m["channel"]) for m in ledger} == {
        '{"id": "C07LDG0317", "name": "inc-317-ledger-latency"}'}
    documented = json.loads((VENDORS / "slack_conversations_replies.json").read_text())
    assert {k: v for k, v in ledger[2].items() if k != "channel"} == documented["messages"][1]
    state = json.loads((root / ".state/slack.json").read_text())
    assert state["channels"]["C07LDG0317"]["cursor"] == "2025-06-03T14:33:02.000400Z"
    assert state["channels"]["C07LDG0317"]["threads"] == {"1748961067.014900": "1748961182.000400"}

    conn = _warehouse(tmp_path, root)
    raw = conn.execute("""
        SELECT channel_id, channel_name, ts, thread_ts, user_id, subtype, text, reply_count,
               strftime(posted_at, '%Y-%m-%d %H:%M:%S.%f')
        FROM raw.slack_messages ORDER BY posted_at""").fetchall()
    assert raw == [
        ("C07LDG0317", "inc-317-ledger-latency", "1748959781.000216", None, "U04AMARA01", None,
         f"Declaring an incident: ledger write latency <{PD_URL}|PD #317>", None,
         "2025-06-03 14:09:41.000216"),
        ("C07DBFAIL1", "inc-db-failover", "1748960000.000100", None, "U04JONAS02", None,
         f"Failing over the ledger DB <{PD_URL}>", None, "2025-06-03 14:13:20.000100"),
        ("C07DBFAIL1", "inc-db-failover", "1748960100.250000", None, "U04RAVI003",
         "channel_join", "<@U04RAVI003> has joined the channel", None,
         "2025-06-03 14:15:00.250000"),
        ("C07LDG0317", "inc-317-ledger-latency", "1748961067.014900", "1748961067.014900",
         "U04JONAS02", None, "Rolled back ledger-api to 2025.06.2", 1,
         "2025-06-03 14:31:07.014900"),
        ("C07LDG0317", "inc-317-ledger-latency", "1748961182.000400", "1748961067.014900",
         "U04AMARA01", None, "Write latency back to baseline", None,
         "2025-06-03 14:33:02.000400"),
    ]
    timeline = conn.execute("""
        SELECT incident_id, source, channel_name, ts, is_reply, link_kind,
               strftime(posted_at, '%H:%M:%S.%f')
        FROM core.incident_timeline ORDER BY posted_at""").fetchall()
    assert timeline == [
        ("Q1LDG7R", "slack", "inc-317-ledger-latency", "1748959781.000216", False,
         "channel_number", "14:09:41.000216"),
        ("Q1LDG7R", "slack", "inc-db-failover", "1748960000.000100", False, "channel_url",
         "14:13:20.000100"),
        ("Q1LDG7R", "slack", "inc-db-failover", "1748960100.250000", False, "channel_url",
         "14:15:00.250000"),
        ("Q1LDG7R", "slack", "inc-317-ledger-latency", "1748961067.014900", False,
         "channel_number", "14:31:07.014900"),
        ("Q1LDG7R", "slack", "inc-317-ledger-latency", "1748961182.000400", True,
         "channel_number", "14:33:02.000400"),
    ]

    # The postmortem draft carries them with their exact times.
    d = load_draft_input(conn, "Q1LDG7R")
    conn.close()
    assert [(m.channel, m.posted_at, m.is_reply) for m in d.slack_messages] == [
        ("inc-317-ledger-latency", datetime(2025, 6, 3, 14, 9, 41, 216, tzinfo=UTC), False),
        ("inc-db-failover", datetime(2025, 6, 3, 14, 13, 20, 100, tzinfo=UTC), False),
        ("inc-db-failover", datetime(2025, 6, 3, 14, 15, 0, 250000, tzinfo=UTC), False),
        ("inc-317-ledger-latency", datetime(2025, 6, 3, 14, 31, 7, 14900, tzinfo=UTC), False),
        ("inc-317-ledger-latency", datetime(2025, 6, 3, 14, 33, 2, 400, tzinfo=UTC), True),
    ]
    draft = render_draft(d)
    assert "| 14:09:41 | Slack #inc-317-ledger-latency — U04AMARA01: Declaring an incident: " \
           "ledger write latency PD #317 |" in draft.markdown
    assert "| 14:33:02 | Slack #inc-317-ledger-latency (thread reply) — U04AMARA01: Write " \
           "latency back to baseline |" in draft.markdown
    assert "| 14:15:00 | Slack #inc-db-failover: U04RAVI003 joined the channel |" in draft.markdown
    assert "Slack timestamps are not in the warehouse yet" not in draft.markdown
    pm = parse_postmortem(draft.markdown, "draft.md")
    slack_times = [e.at for e in pm.timeline if e.text.startswith("Slack")]
    assert slack_times == [m.posted_at.replace(microsecond=0) for m in d.slack_messages]
    assert len(pm.timeline) == draft.timeline_rows


def test_secrets_in_messages_are_never_stored(tmp_path: Path) -> None:
    leak = {"type": "message", "user": "U04AMARA01", "ts": "1748959900.000001",
            "text": f"try with SLACK_BOT_TOKEN={LEAKED_SLACK} and {LEAKED_GITHUB}",
            "blocks": [{"type": "rich_text", "block_id": "b1", "elements": [
                {"type": "rich_text_section", "elements": [
                    {"type": "text", "text": f"try with SLACK_BOT_TOKEN={LEAKED_SLACK}"}]}]}],
            "attachments": [{"fallback": LEAKED_GITHUB, "text": f"token {LEAKED_GITHUB}"}]}
    channels = _channels()
    channels[0].messages.append(leak)
    root = tmp_path / "exports"
    with VendorServer() as server:
        FakeSlack(server, channels)
        _fetch(root, _cfg(server.url))
    landed = b"".join(_files(root).values())
    assert b"1748959900.000001" in landed
    for secret in (LEAKED_SLACK, LEAKED_GITHUB):
        assert secret.encode() not in landed
        for p in root.rglob("*"):
            assert p.is_dir() or secret.encode() not in p.read_bytes(), p
    conn = _warehouse(tmp_path, root)
    [(text,)] = conn.execute(
        "SELECT text FROM raw.slack_messages WHERE ts = '1748959900.000001'").fetchall()
    assert text.startswith("try with SLACK_BOT_TOKEN=[REDACTED")
    dump = json.dumps(conn.execute("SELECT * FROM raw.slack_messages").fetchall(), default=str)
    dump += json.dumps(conn.execute("SELECT * FROM core.incident_timeline").fetchall(), default=str)
    conn.close()
    assert LEAKED_SLACK not in dump and LEAKED_GITHUB not in dump


def test_text_from_an_export_written_elsewhere_is_redacted_when_loaded(tmp_path: Path) -> None:
    root = tmp_path / "exports"
    (root / "slack/messages").mkdir(parents=True)
    msg = {"ts": "1748959900.000001", "text": f"token {LEAKED_GITHUB}",
           "channel": {"id": "C1", "name": "inc-317"}}
    (root / "slack/messages/2025-06-03.inc-317.json").write_text(json.dumps([msg]))
    conn = connect(tmp_path / "w.duckdb")
    ingest(conn, root, [SLACK])
    [(text,)] = conn.execute("SELECT text FROM raw.slack_messages").fetchall()
    conn.close()
    assert LEAKED_GITHUB not in text and "[REDACTED" in text


def test_ok_false_in_a_200_is_an_error_naming_slacks_code(tmp_path: Path) -> None:
    error = json.loads((VENDORS / "slack_error_response.json").read_text())
    with VendorServer() as server:
        FakeSlack(server, _channels())
        server.fail_next("GET", HISTORY, Fault(status=200, body=json.dumps(error).encode()))
        with pytest.raises(ApiError, match=r"slack: GET http://127\.0\.0\.1:\d+/api/"
                                           r"conversations\.history: Slack error channel_not_found"):
            _fetch(tmp_path / "exports", _cfg(server.url))
        # A wrong token is Slack's `invalid_auth`, also in a 200.
        ctx = FetchContext(Landing(tmp_path / "other"), since=SINCE, now=NOW,
                           env={"SLACK_TOKEN": "xoxb-wrong"}, sleep=lambda s: None)
        with pytest.raises(ApiError, match="invalid_auth") as info:
            registry.run("slack", _cfg(server.url), ctx)
        assert "xoxb-wrong" not in str(info.value)


def test_published_error_envelope_when_present(shared_dir: Path, tmp_path: Path) -> None:
    path = shared_dir / "contracts" / "slack_chat_postMessage_error.json"
    if not path.is_file():
        pytest.skip("shared/contracts/slack_chat_postMessage_error.json is absent")
    with VendorServer() as server:
        FakeSlack(server, _channels())
        server.fail_next("GET", r"/api/conversations\.list", Fault(status=200, body=path.read_bytes()))
        with pytest.raises(ApiError, match="Slack error too_many_attachments"):
            _fetch(tmp_path / "exports", _cfg(server.url))


def test_missing_token_names_the_variable(tmp_path: Path) -> None:
    ctx = FetchContext(Landing(tmp_path), since=SINCE, now=NOW, env={})
    with pytest.raises(MissingSecret, match="SLACK_TOKEN"):
        registry.run("slack", _cfg("http://127.0.0.1:9"), ctx)


def test_config_keys_and_channel_globs(tmp_path: Path) -> None:
    cfg = parse_config({"sources": {"slack": {"channels": ["#inc-*", "#sev1-*", "C0ABCDEF1"],
                                              "thread_days": 3}}},
                       tmp_path / "followthrough.toml").sources["slack"]
    assert isinstance(cfg, SlackConfig)
    assert (cfg.api_url, cfg.token_env, cfg.thread_days) == ("https://slack.com/api",
                                                             "SLACK_TOKEN", 3.0)
    from models.connectors.slack import wanted
    assert wanted({"id": "C1", "name": "inc-4321-db"}, cfg.channels)
    assert wanted({"id": "C0ABCDEF1", "name": "war-room"}, cfg.channels)
    assert not wanted({"id": "C2", "name": "incidents"}, cfg.channels)
    assert not wanted({"id": "C3", "name": "general"}, cfg.channels)


def test_ts_is_exact_to_the_microsecond() -> None:
    assert posted_at("1512085950.000216") == datetime(2017, 11, 30, 23, 52, 30, 216, tzinfo=UTC)
    assert posted_at("1748961067.014900").microsecond == 14900
    with pytest.raises(RecordError, match="ts"):
        posted_at("yesterday")


def _reference(tmp_path: Path) -> tuple[dict[str, bytes], dict[str, list[tuple[Any, ...]]]]:
    root = tmp_path / "reference"
    with VendorServer() as server:
        FakeSlack(server, _channels())
        _fetch(root, _cfg(server.url))
    conn = _warehouse(tmp_path, root, "reference.duckdb")
    rows = _rows(conn)
    conn.close()
    return _files(root), rows


@pytest.mark.parametrize("fault, pattern, times, waited", [
    (Fault(status=429, headers={"retry-after": "3"}, body=b""), HISTORY, 1, [3.0]),
    (Fault(status=200, headers={"retry-after": "2"},
           body=b'{"ok": false, "error": "ratelimited"}'), HISTORY, 1, [2.0]),
    (Fault(status=503, body=b"<html>upstream connect error</html>"),
     r"/api/conversations\.replies", 2, None),
    (Fault(truncate=True), r"/api/conversations\.list", 1, None),
], ids=["429-retry-after", "ok-false-ratelimited", "5xx-burst", "truncated-json"])
def test_faults_are_retried_and_change_nothing(tmp_path: Path, fault: Fault, pattern: str,
                                               times: int, waited: list[float] | None) -> None:
    ref_files, ref_rows = _reference(tmp_path)
    root = tmp_path / "exports"
    waits: list[float] = []
    with VendorServer() as server:
        FakeSlack(server, _channels())
        server.fail_next("GET", pattern, fault, times=times)
        _fetch(root, _cfg(server.url), waits)
    assert len(waits) == times
    if waited is not None:
        assert waits == waited
    assert _files(root) == ref_files
    conn = _warehouse(tmp_path, root)
    assert _rows(conn) == ref_rows
    conn.close()


def test_killed_run_resumed_gives_the_rows_of_an_uninterrupted_run(tmp_path: Path) -> None:
    ref_files, ref_rows = _reference(tmp_path)
    root = tmp_path / "exports"
    with VendorServer() as server:
        FakeSlack(server, _channels())
        # The second channel's thread fails for good after the first channel has landed.
        server.fail_next("GET", r"/api/conversations\.replies", Fault(status=500), times=3)
        with pytest.raises(ApiError, match="HTTP 500 after 3 attempts"):
            _fetch(root, _cfg(server.url))
        state = json.loads((root / ".state/slack.json").read_text())
        assert list(state["channels"]) == ["C07DBFAIL1"]  # landed, cursor saved
        assert _files(root) != ref_files
        _fetch(root, _cfg(server.url))
    assert _files(root) == ref_files
    conn = _warehouse(tmp_path, root)
    assert _rows(conn) == ref_rows
    conn.close()


def test_next_run_reads_from_the_cursor_and_late_thread_replies(tmp_path: Path) -> None:
    root = tmp_path / "exports"
    channels = _channels()
    with VendorServer() as server:
        FakeSlack(server, channels)
        _fetch(root, _cfg(server.url))
        ledger = channels[0]
        parent = "1748961067.014900"
        late = copy.deepcopy(ledger.replies[parent][0])
        late.update(ts="1748968200.000009", text="Postmortem scheduled for Thursday")
        ledger.replies[parent].append(late)
        ledger.messages.append({"type": "message", "user": "U04AMARA01",
                                "ts": "1748968300.000010", "text": "Closing the channel"})
        server.log.clear()
        _fetch(root, _cfg(server.url, overlap_minutes=1), now=NOW + timedelta(hours=1))
        history = [r for r in server.requests("GET", HISTORY)
                   if r.query["channel"] == ["C07LDG0317"]]
    # cursor 14:33:02.000400 less a minute: the thread (14:31:07) is read for its late reply
    assert history[0].query["oldest"] == ["1748961122.000400"]
    ledger_file = json.loads(_files(root)["slack/messages/2025-06-03.inc-317-ledger-latency.json"])
    assert [m["ts"] for m in ledger_file] == ["1748959781.000216", "1748961067.014900",
                                              "1748961182.000400", "1748968200.000009",
                                              "1748968300.000010"]


def test_channel_the_app_is_not_in_is_skipped_with_a_note(tmp_path: Path) -> None:
    channels = _channels()
    channels.append(Channel("C07PRIV001", "inc-318-private", [
        {"type": "message", "user": "U1", "ts": "1748960000.000001", "text": "hi"}], member=False))
    with VendorServer() as server:
        FakeSlack(server, channels)
        result = _fetch(tmp_path / "exports", _cfg(server.url))
        assert not [r for r in server.requests("GET", HISTORY) if r.query["channel"] == ["C07PRIV001"]]
    assert result.notes == ["slack: #inc-318-private (C07PRIV001): the app is not a member; "
                            "invite it to read the channel"]
    assert "slack/messages/2025-06-03.inc-318-private.json" not in _files(tmp_path / "exports")


def test_a_stalled_answer_times_out_and_is_retried(tmp_path: Path) -> None:
    ref_files, _ = _reference(tmp_path)
    root = tmp_path / "exports"
    waits: list[float] = []
    with VendorServer() as server:
        FakeSlack(server, _channels())
        server.fail_next("GET", HISTORY, Fault(stall_s=1.5))
        _fetch(root, _cfg(server.url, timeout_s=0.5), waits)
    assert len(waits) == 1
    assert _files(root) == ref_files
