"""PagerDuty log entries in the draft's timeline: acknowledgements and notes, to the second."""

from __future__ import annotations

import datetime as dt

from models.postmortems import parse_postmortem
from models.postmortems.draft import DraftInput, IncidentFacts, PagerDutyEventFacts, render_draft

UTC = dt.UTC
INC = IncidentFacts(
    incident_id="PABC123", number=4321, title="Checkout errors", service="payments-api",
    created_at=dt.datetime(2025, 3, 4, 14, 2, 10, tzinfo=UTC),
    resolved_at=dt.datetime(2025, 3, 4, 14, 49, 40, tzinfo=UTC),
    url="https://acme.pagerduty.com/incidents/PABC123",
)


def _at(h: int, m: int, s: int) -> dt.datetime:
    return dt.datetime(2025, 3, 4, h, m, s, tzinfo=UTC)


def test_acknowledgements_and_notes_are_rows_trigger_and_resolve_are_not_repeated() -> None:
    events = (
        PagerDutyEventFacts(_at(14, 2, 10), "trigger_log_entry", "Triggered through the API"),
        PagerDutyEventFacts(_at(14, 4, 31), "acknowledge_log_entry", "Acknowledged by Dana Ruiz",
                            "Dana Ruiz"),
        PagerDutyEventFacts(_at(14, 20, 2), "annotate_log_entry", "Note added: rolling back"),
        PagerDutyEventFacts(_at(14, 49, 40), "resolve_log_entry", "Resolved by Dana Ruiz"),
    )
    draft = render_draft(DraftInput(incident=INC, window_start=INC.created_at,
                                    window_end=INC.resolved_at, pagerduty_events=events))
    rows = [ln for ln in draft.markdown.split("## Timeline", 1)[1].split("\n## ", 1)[0]
            .splitlines() if ln.startswith("| ") and not ln.startswith("| Time")]
    assert "| 14:04:31 | PagerDuty: Acknowledged by Dana Ruiz |" in rows
    assert "| 14:20:02 | PagerDuty: Note added: rolling back |" in rows
    assert not any("Triggered through the API" in r or "Resolved by" in r for r in rows)
    times = [e.at for e in parse_postmortem(draft.markdown, "d.md").timeline]
    assert _at(14, 4, 31) in times and _at(14, 20, 2) in times
