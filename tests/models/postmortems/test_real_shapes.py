"""The shapes real postmortems from other organisations are written in, one small text each.

Each case is a shape the parser used to miss on published postmortems: durations written as a
time window or as "N minutes to recovery", timelines in timestamped sub-headings, HTML bullets
with date-only lines between them or bold times, action items in several tables under
sub-headings or in a table right after an "- Action Items:" bullet, tickets as links, "bug 12345"
or Phabricator tasks, owners in a column or as a "Name:" prefix, and section names other than
the canonical ones.
"""

from __future__ import annotations

import datetime as dt

import pytest

from models.postmortems import lint, parse_postmortem


def _md(text: str):
    return parse_postmortem(text, path="pm.md")


def _html(text: str):
    return parse_postmortem(text, path="pm.html")


@pytest.mark.parametrize(
    ("impact", "minutes"),
    [
        ("Checkout was unavailable 0730 - 1230 (UTC).", 300.0),
        ("Card payments failed from 14:05 to 15:11 UTC.", 66.0),
        ("Uploads failed between 9:40 pm and 10:25 pm.", 45.0),
        ("**Time to recovery:** 1h 5m", 65.0),
        ("Builds were stuck for 2 weeks.", 20160.0),
    ],
)
def test_impact_duration_as_window_or_recovery_time(impact: str, minutes: float) -> None:
    pm = _md(f"# Outage\n\n## Impact\n\n{impact}\n\n## Timeline\n\n- 10:00 something\n")
    assert pm.impact.duration_minutes == pytest.approx(minutes)


def test_minutes_to_recovery_stated_outside_the_impact_section() -> None:
    pm = _md(
        "# Queue stall\n\n## What happened\n\nThe queue stalled after a config push.\n\n"
        "## Timeline\n\nIt took 47 minutes to recovery once the push was reverted.\n\n"
        "- 10:00 push\n- 10:05 alert\n"
    )
    assert pm.impact.duration_minutes == 47.0
    assert len(pm.timeline) == 2


def test_duration_in_the_summary_with_everyday_wording() -> None:
    pm = _md(
        "# Node full\n\n## Summary\n\nA node filled its disk; the cluster recovered itself in "
        "20 minutes.\n\n## Timeline\n\n### 10:34\n\nLaunches fail.\n"
    )
    assert pm.impact.duration_minutes == 20.0


def test_a_timeline_span_needs_an_entry_marking_the_start_of_impact() -> None:
    # "began sending alerts" is not the start of the impact: no duration is made up.
    pm = _md("# Certs\n\n## Timeline\n\n- 19:00 Sentry began sending alerts\n- 19:46 Incident resolved\n")
    assert pm.impact.duration_minutes is None
    pm = _md("# Certs\n\n## Timeline\n\n- 12:50 Start of incident\n- 13:29 Incident ends\n")
    assert pm.impact.duration_minutes == 39.0


def test_timeline_in_timestamped_sub_headings() -> None:
    pm = _md(
        "# Outage\n\n## Timeline\n\nAll times in PST\n\n"
        "### 2018-01-15\nGeneral CI failures, unrelated.\n\n"
        "### 2018-01-17 17:14\n* Other failures point to a real issue\n* Builds will fail\n\n"
        "### 18:57\nBump merged and deployed.\n\nChecked the site.\n\n"
        "### 8:20 - 8:24\nDiscussion.\n\n"
        "### 09:02 PM\nActivity noticed.\n\n"
        "## Action items\n\n- Pin the base image\n"
    )
    firsts = [e.text.split()[0] for e in pm.timeline]
    assert firsts == ["2018-01-15", "Other", "Bump", "Discussion.", "Activity"]
    assert pm.timeline[1].at == dt.datetime(2018, 1, 18, 1, 14, tzinfo=dt.UTC)
    assert "Builds will fail" in pm.timeline[1].text
    assert "Checked the site" in pm.timeline[2].text
    assert pm.timeline[3].clock == dt.time(8, 20)
    assert pm.timeline[4].clock == dt.time(21, 2)


def test_a_date_sub_heading_above_timed_bullets_is_not_an_entry() -> None:
    pm = _md(
        "# Outage\n\n## Timeline of events\n\n### 2020-02-20\n\n"
        "- **21:17 UTC: crates published**\n- 21:28 UTC: reported\n\n"
        "### 2020-02-21\n\n- 09:27 UTC: another report\n"
    )
    assert len(pm.timeline) == 3
    assert pm.timeline[2].at == dt.datetime(2020, 2, 21, 9, 27, tzinfo=dt.UTC)


def test_html_bullets_with_date_only_lines_between_them() -> None:
    pm = _html(
        "<html><body><h1>DNS outage</h1><h2>Timeline</h2><p>All times UTC</p>"
        "<p>2024-03-01</p><ul><li>23:50 deploy started</li><li>23:58 errors rise</li></ul>"
        "<p>2024-03-02</p><ul><li>00:10 rollback complete</li></ul>"
        "<h2>Action items</h2><ul><li>Canary DNS changes (OPS-12)</li></ul></body></html>"
    )
    assert [e.at for e in pm.timeline] == [
        dt.datetime(2024, 3, 1, 23, 50, tzinfo=dt.UTC),
        dt.datetime(2024, 3, 1, 23, 58, tzinfo=dt.UTC),
        dt.datetime(2024, 3, 2, 0, 10, tzinfo=dt.UTC),
    ]


def test_timeline_in_bold_label_form() -> None:
    pm = _md(
        "# Outage\n\n## Timeline\n\n**14:05** deploy of v2 starts\n\n**14:09** errors page the "
        "on-call\n\n**14:31 UTC** rollback done\n"
    )
    assert [e.clock for e in pm.timeline] == [dt.time(14, 5), dt.time(14, 9), dt.time(14, 31)]
    assert pm.timeline[0].text == "deploy of v2 starts"


def test_timeline_headings_lost_in_a_rendered_page() -> None:
    pm = _md(
        "Incidents/2019-03-28 commons\nSummary\nEdits failed for some 19 hours.\nImpact\n"
        "Editors were affected.\nTimeline\nAll times in UTC.\n"
        "- 2019-03-27 16:55 config change deployed OUTAGE BEGINS\n"
        "- 2019-03-28 12:02 config revert deployed OUTAGE ENDS\n"
        "Conclusions\nWhat went poorly?\n- The bug was not caught in testing.\n"
        "Actionables\n- Fix the bug (bug T219450)\n- Add regression tests\n"
    )
    assert pm.sections["impact"].present
    assert pm.sections["contributing_conditions"].heading == "What went poorly?"
    assert len(pm.timeline) == 2
    assert [a.ticket for a in pm.action_items] == ["T219450", None]


def test_a_section_name_ending_a_wrapped_sentence_is_not_a_heading() -> None:
    pm = _md(
        "# X\n\n## What went wrong\n\nThese should have GitHub issues linked to under\n"
        "Action items.\n\n1. Outage went unnoticed\n\n## Action items\n\n1. Move ingress pods\n"
    )
    assert [a.text for a in pm.action_items] == ["Move ingress pods"]


def test_several_action_tables_under_sub_headings() -> None:
    pm = _md(
        "# X\n\n## Action items\n\n### Process improvements\n\n"
        "| Action | Owner | Ticket |\n|---|---|---|\n| Page the secondary too | @dana | OPS-1 |\n\n"
        "### Technical improvements\n\n"
        "| Action | Assignee | Issue |\n|---|---|---|\n"
        "| Add a disk alert | Lee | https://github.com/acme/infra/issues/7 |\n"
        "| Cull old nodes | Priya Rao | bug 12345 |\n"
    )
    assert [(a.owner, a.ticket) for a in pm.action_items] == [
        ("dana", "OPS-1"),
        ("Lee", "https://github.com/acme/infra/issues/7"),
        ("Priya Rao", "Bug 12345"),
    ]


def test_action_list_items_under_sub_headings() -> None:
    pm = _md(
        "# X\n\n## Action items\n\n### Process\n\n* Subscribe to the announce list "
        "[Issue](https://github.com/acme/deploy/issues/296)\n\n### Testing\n\n"
        "* Note that releases are on a 9 month cycle.\n  Keep bumping [Issue](https://github.com/"
        "acme/r2d/issues/198)\n"
    )
    assert len(pm.action_items) == 2
    assert pm.action_items[1].ticket == "https://github.com/acme/r2d/issues/198"


def test_table_right_after_an_action_items_bullet() -> None:
    pm = _md(
        "# X\n\n- Impact: checkout failed for 30 minutes\n- Action Items:\n\n"
        "| Item | Owner | Bug |\n|---|---|---|\n| Fix the retry storm | Lee | bug 12345 |\n"
        "| Alert on queue depth | Omar | PAY-9 |\n"
    )
    assert pm.sections["action_items"].present
    assert [(a.owner, a.ticket) for a in pm.action_items] == [("Lee", "Bug 12345"), ("Omar", "PAY-9")]


@pytest.mark.parametrize(
    ("item", "ticket"),
    [
        (
            "Fix the bug ([pull request][fix])\n\n[fix]: https://github.com/acme/app/pull/2113",
            ("https://github.com/acme/app/pull/2113"),
        ),
        ("[#2226]: add logging\n\n[#2226]: https://github.com/acme/app/issues/2226", "#2226"),
        ("Add alerting, see bug 12345", "Bug 12345"),
        ("Add alerting (PLAT-881)", "PLAT-881"),
        ("Add alerting acme/app#44", "acme/app#44"),
        ("Add alerting (task T189059)", "T189059"),
    ],
)
def test_ticket_forms(item: str, ticket: str) -> None:
    pm = _md(f"# X\n\n## Action items\n\n- {item}\n")
    assert [a.ticket for a in pm.action_items] == [ticket]


def test_owner_column_names() -> None:
    for column in ("Owner", "Assignee", "DRI", "Who", "Responsible"):
        pm = _md(f"# X\n\n## Follow-ups\n\n| Task | {column} |\n|---|---|\n| Add alert | Kim |\n")
        assert pm.action_items[0].owner == "Kim", column


def test_a_list_of_things_in_parentheses_is_not_an_owner() -> None:
    pm = _md(
        "# X\n\n## Action items\n\n- Set limits on (prometheus, grafana, ingress) too\n"
        "- Add retries (dana, PAY-412)\n"
    )
    assert [a.owner for a in pm.action_items] == [None, "dana"]


def test_meeting_minutes_items_with_name_prefix_owners() -> None:
    pm = _md(
        "Post Mortem Meeting\n\nAttendees: Mukunda, JR, Zeljko\n\nAction Items:\n\n"
        "JR: find out if there is a task to remove globals.(task T189059)\n\n"
        "Create a test for non-ascii content.\n\n"
        "Zeljko: run browser tests for core against beta.(task T185011)\n\n"
        "Monitoring: add an alert on encoding errors\n"
    )
    got = [(a.owner, a.ticket) for a in pm.action_items]
    assert got == [("JR", "T189059"), (None, None), ("Zeljko", "T185011"), (None, None)]


@pytest.mark.parametrize(
    "heading",
    [
        "Root Causes",
        "What went wrong",
        "What went poorly",
        "How the problem was introduced",
        "Contributing factors",
        "Why it happened",
    ],
)
def test_contributing_conditions_section_names(heading: str) -> None:
    pm = _md(f"# X\n\n## {heading}\n\n- The disk filled up\n")
    assert pm.sections["contributing_conditions"].present


@pytest.mark.parametrize("heading", ["Affected crates", "Who was affected", "Customer impact"])
def test_impact_section_names(heading: str) -> None:
    pm = _md(f"# X\n\n## {heading}\n\n- three packages\n")
    assert pm.sections["impact"].present


def test_skipping_a_procedure_is_blame_but_a_system_skipping_is_not() -> None:
    pm = _md(
        "# X\n\n## What went wrong\n\n@jsnshrmn did not use a reasonable operational procedure "
        "during the deploy.\n\nThe deploy job did not use the documented process.\n"
    )
    hits = [f for f in lint(pm) if f.rule == "blame-language"]
    assert len(hits) == 1 and "@jsnshrmn" in hits[0].message


@pytest.mark.parametrize("heading", ["Response timeline", "Timeline (UTC)", "Detailed incident timeline"])
def test_timeline_section_names(heading: str) -> None:
    pm = _md(f"# X\n\n## {heading}\n\n- 10:00 deploy\n- 10:05 alert\n")
    assert pm.sections["timeline"].present and len(pm.timeline) == 2


def test_a_list_of_timestamped_events_under_another_name_is_the_timeline() -> None:
    pm = _md(
        "# X\n\n- **Context**:\n  - 2023-07-25 14:05 - alert fired\n  - 2023-07-25 14:09: pod "
        "terminating\n  - 2023-07-25 14:17: node not ready\n\n## Notes\n\n- kept for reference\n"
    )
    assert pm.sections["timeline"].heading == "Context"
    assert len(pm.timeline) == 3
    # Two timestamps in a summary do not make a timeline.
    pm = _md("# X\n\n## Summary\n\n- 10:00 deploy\n- 10:05 alert\n- the rest is prose\n- more\n")
    assert not pm.sections["timeline"].present


@pytest.mark.parametrize("heading", ["Follow-up actions", "Corrective measures", "Preventive steps"])
def test_action_section_names(heading: str) -> None:
    pm = _md(f"# X\n\n## {heading}\n\n- Add an alert (OPS-3)\n")
    assert [a.ticket for a in pm.action_items] == ["OPS-3"]


def test_hours_of_downtime_and_other_section_wordings() -> None:
    pm = _md(
        "# Halt\n\n## Origin of the incident\n\n- An unpatched bug\n\n## Effects\n\nThe chain "
        "incurred 22 hours of downtime.\n\n## Review actions\n\n- Add chain monitoring\n"
    )
    assert pm.sections["contributing_conditions"].present
    assert pm.impact.duration_minutes == 22 * 60
    assert [a.text for a in pm.action_items] == ["Add chain monitoring"]


def test_sibling_bullets_after_an_empty_bullet_label_are_its_items() -> None:
    pm = _md(
        "# Outage\n\n### Summary\n\n- **What caused it?** A leaking module.\n\n"
        "- **What was the impact?** Deploys were blocked.\n\n- **Followup actions:**\n\n"
        "- [ ] Pin all apt dependencies\n- [ ] Alert on swap usage (https://trello.com/c/2HRVCSTJ/466)\n"
    )
    assert pm.sections["impact"].present
    assert [(a.text, a.status) for a in pm.action_items] == [
        ("Pin all apt dependencies", "todo"),
        ("Alert on swap usage", "todo"),
    ]
    assert pm.action_items[1].ticket == "https://trello.com/c/2HRVCSTJ/466"
