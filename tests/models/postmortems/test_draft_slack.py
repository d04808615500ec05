"""Slack messages in the draft's timeline: exact times, inert text, a bounded share of rows."""

from __future__ import annotations

import datetime as dt

from models.postmortems import parse_postmortem
from models.postmortems.draft import (
    MAX_SLACK_ROWS,
    MAX_TIMELINE_ROWS,
    DraftInput,
    IncidentFacts,
    SlackMessageFacts,
    render_draft,
)

UTC = dt.UTC
INC = IncidentFacts(
    incident_id="PABC123", number=4321, title="Checkout errors", service="payments-api",
    created_at=dt.datetime(2025, 3, 4, 14, 2, 10, tzinfo=UTC),
    resolved_at=dt.datetime(2025, 3, 4, 14, 49, 40, tzinfo=UTC),
    url="https://acme.pagerduty.com/incidents/PABC123",
)


def _input(*messages: SlackMessageFacts) -> DraftInput:
    return DraftInput(incident=INC, window_start=INC.created_at - dt.timedelta(hours=24),
                      window_end=INC.resolved_at, slack_messages=messages)  # type: ignore[arg-type]


def _msg(at: dt.datetime, text: str, **kw: object) -> SlackMessageFacts:
    return SlackMessageFacts(channel="inc-4321-checkout", posted_at=at,
                             ts=f"{int(at.timestamp())}.{at.microsecond:06d}", user="U1",
                             text=text, **kw)  # type: ignore[arg-type]


def test_slack_rows_replace_the_placeholder_and_keep_their_seconds() -> None:
    opened = _msg(dt.datetime(2025, 3, 4, 14, 2, 5, 999_000, tzinfo=UTC),
                  "Opening <https://acme.pagerduty.com/incidents/PABC123|PD #4321>, <@U2> please look")
    reply = _msg(dt.datetime(2025, 3, 4, 14, 30, 59, 1, tzinfo=UTC), "Rollback *done*", is_reply=True)
    draft = render_draft(_input(opened, reply))
    md = draft.markdown
    assert "Slack timestamps are not in the warehouse yet" not in md
    rows = [ln for ln in md.split("## Timeline", 1)[1].split("\n## ", 1)[0].splitlines()
            if ln.startswith("| ") and not ln.startswith("| Time")]
    assert rows == [
        "| 14:02 | OUTAGE BEGINS — PagerDuty incident [#4321](https://acme.pagerduty.com/incidents/"
        "PABC123) triggered: Checkout errors |",
        "| 14:02:05 | Slack #inc-4321-checkout — U1: Opening PD #4321, @U2 please look |",
        "| 14:30:59 | Slack #inc-4321-checkout (thread reply) — U1: Rollback \\*done\\* |",
        "| 14:49 | OUTAGE ENDS — PagerDuty incident #4321 resolved |",
    ]
    pm = parse_postmortem(md, "d.md")
    assert [e.at for e in pm.timeline] == [
        dt.datetime(2025, 3, 4, 14, 2, tzinfo=UTC), dt.datetime(2025, 3, 4, 14, 2, 5, tzinfo=UTC),
        dt.datetime(2025, 3, 4, 14, 30, 59, tzinfo=UTC), dt.datetime(2025, 3, 4, 14, 49, tzinfo=UTC)]
    assert draft.timeline_rows == 4


def test_blame_in_a_message_is_not_copied() -> None:
    msg = _msg(INC.created_at, "Bob's careless push broke checkout, he should have known better")
    md = render_draft(_input(msg)).markdown
    assert "careless" not in md and "Slack #inc-4321-checkout — U1: message posted (see Slack)" in md


def test_a_busy_channel_gives_way() -> None:
    many = [_msg(INC.created_at + dt.timedelta(seconds=20 * i), f"update {i}",
                 is_reply=i % 2 == 1) for i in range(100)]
    draft = render_draft(_input(*many))
    assert draft.timeline_rows == MAX_SLACK_ROWS + 2 <= MAX_TIMELINE_ROWS  # + outage begins/ends
    assert draft.omitted_timeline_rows == 100 - MAX_SLACK_ROWS
    kept = [ln for ln in draft.markdown.splitlines() if "Slack #" in ln]
    assert all("thread reply" not in ln for ln in kept)  # replies give way before messages
