"""Parser tests over hand-written fixtures modelled on public postmortem styles."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from models.postmortems import (
    PARTS,
    ActionItem,
    Postmortem,
    PostmortemReadError,
    parse_file,
    parse_postmortem,
)

UTC = dt.UTC
Load = Callable[[str], Postmortem]  # the load_fixture fixture


def present(pm: Postmortem) -> set[str]:
    return {p for p in PARTS if pm.sections[p].present}


def test_sre_book_style_labels_table_and_markers(load_fixture: Load) -> None:
    pm = load_fixture("sre-book-format.md")
    assert pm.title == "Atlas Tiles Label Renderer Postmortem (incident #812)"
    assert pm.date == dt.date(2023, 4, 17)
    assert pm.authors == ("okafor", "ilse", "rdesai")
    assert "#812" in pm.incident_refs
    assert present(pm) == {"timeline", "contributing_conditions", "impact", "action_items"}
    assert pm.sections["contributing_conditions"].heading == "Root Causes"
    # Root Causes and Trigger both feed the conditions; "What went wrong" (lessons) does not.
    assert len(pm.contributing_conditions) == 2
    assert len(pm.timeline) == 34
    assert pm.timeline[0].at == dt.datetime(2023, 4, 17, 7, 58, tzinfo=UTC)
    # OUTAGE BEGINS 08:17 .. OUTAGE ENDS 09:29; "4.3M tile requests" in Impact is a count.
    assert pm.impact.duration_minutes == 72
    items = pm.action_items
    assert len(items) == 9
    assert items[1] == ActionItem(
        2,
        "Roll font bundles out one region at a time with a bake period",
        owner="rdesai",
        ticket="Bug 7310442",
        status="todo",
        line=26,
    )
    assert items[0].status == "done" and items[0].ticket is None
    assert items[8].due == dt.date(2023, 5, 15)
    assert pm.identified_at == dt.datetime(2023, 4, 17, tzinfo=UTC)


def test_gitlab_style_prose_whys_and_issue_links(load_fixture: Load) -> None:
    pm = load_fixture("gitlab-blog-format.md")
    assert pm.title == "Postmortem of the job history loss of September 14"
    assert pm.date == dt.date(2021, 9, 24)
    assert present(pm) == {"timeline", "contributing_conditions", "action_items"}
    assert pm.sections["action_items"].heading == "Improving Restore Readiness"
    assert len(pm.action_items) == 10
    host = "https://gitlab.kestrelworks.example/"
    assert all(a.ticket and a.ticket.startswith(host) for a in pm.action_items)
    assert pm.action_items[-1].text == "Write a runbook for restoring the job database"
    assert len(pm.timeline) == 8
    # Dates carried across midnight from explicit ISO stamps: 22:45 UTC -> 13:05 UTC next day.
    assert pm.impact.duration_minutes == 860
    assert pm.impact.duration_source == "timeline-markers"
    assert pm.impact.affected_users is None  # "2,300 pipelines" are not users


def test_cloudflare_style_table_timeline_and_stated_duration(load_fixture: Load) -> None:
    pm = load_fixture("cloudflare-blog-format.md")
    assert present(pm) == set(PARTS)
    assert pm.sections["contributing_conditions"].heading == "What went wrong"
    assert len(pm.contributing_conditions) == 6
    assert pm.impact.duration_minutes == 38
    assert pm.impact.severity == "SEV1"
    assert [e.at.strftime("%H:%M") for e in pm.timeline[:2] if e.at] == ["09:02", "09:08"]
    first = pm.action_items[0]
    assert first.status == "done" and first.ticket == "EDGE-431" and first.owner is None
    last = pm.action_items[-1]
    assert (last.owner, last.ticket, last.due) == ("aoyelaran", "EDGE-435", dt.date(2022, 4, 1))
    assert last.verification == (
        "no allowlist release raises the edge 403 ratio above 0.5% over 30 days"
    )


def test_pagerduty_template_filled(load_fixture: Load) -> None:
    pm = load_fixture("pagerduty-filled.md")
    assert pm.title is None  # the template has no title line
    assert pm.meeting_at == dt.datetime(2025, 3, 6, 15, 0, tzinfo=UTC)
    assert pm.identified_at == pm.meeting_at
    assert pm.authors == ("Priya Raman",)
    assert present(pm) == set(PARTS)
    assert len(pm.contributing_conditions) == 4
    assert pm.impact.duration_minutes == 47  # "Time in SEV-1 | 47mins" + "Time in SEV-2 | 0mins"
    assert pm.impact.affected_users == 1180
    assert "https://github.com/acme/payments/actions/runs/8812345/job/2231" in pm.ci_refs
    assert "8c1f2a9d" in pm.ci_refs
    assert "https://github.com/acme/payments/pull/4512" in pm.ticket_refs
    a = pm.action_items[1]
    assert (a.text, a.owner, a.ticket, a.status, a.sprint, a.due) == (
        "Add retry budget to webhook client",
        "dana",
        "PAY-412",
        "todo",
        "2025-S07",
        dt.date(2025, 4, 1),
    )
    assert a.verification == "webhook timeout rate < 0.5% for 30 days"
    assert pm.action_items[3].priority == "P3"
    assert pm.action_items[4].text == "Improve monitoring"
    assert len(pm.timeline) == 6


def test_morgue_metadata_times_and_irc_timeline(load_fixture: Load) -> None:
    pm = load_fixture("morgue-etsy-style.md")
    assert pm.status == "Resolved"
    assert pm.impact.severity == "SEV2"
    assert pm.impact.duration_minutes == 72  # Impact start 09:58 EDT .. Impact end 11:10 EDT
    assert pm.impact.affected_users == 18000
    assert pm.sections["action_items"].heading == "Remediations"
    assert [a.ticket for a in pm.action_items] == ["SEARCH-2231", "SEARCH-2232", "OPS-1712"]
    # "All times are in EDT": 09:58:12 EDT is 13:58:12 UTC.
    assert pm.timeline[0].at == dt.datetime(2014, 6, 12, 13, 58, 12, tzinfo=UTC)
    assert len(pm.timeline) == 5


def test_confluence_export_tables_macros_and_scripts(load_fixture: Load) -> None:
    pm = load_fixture("confluence-checkout-latency.html")
    assert pm.format == "html"
    assert pm.title == "Incident review: checkout latency (INC-2041)"
    assert pm.date == dt.date(2025, 2, 11)
    assert pm.meeting_at == dt.datetime(2025, 2, 13, 16, 30, tzinfo=UTC)
    assert pm.impact.severity == "SEV2"
    assert "INC-2041" in pm.incident_refs
    assert pm.impact.duration_minutes == 72 and pm.impact.duration_source == "stated"
    assert present(pm) == set(PARTS)
    items = pm.action_items
    assert [(a.owner, a.ticket, a.status) for a in items] == [
        ("marta", "CHK-310", "done"),
        ("Tomasz", "CHK-311", "in progress"),
        (None, "CHK-312", "todo"),
    ]
    assert items[0].due == dt.date(2025, 2, 28)
    assert items[1].sprint == "Sprint 2025-S05"
    assert items[0].verification == "latency p99 on checkout-api < 800 ms for 30 days"
    text = " ".join(t for _, t in pm.prose)
    assert "pwned" not in text and "evil.example" not in text and "alert(" not in text


def test_notion_export_properties_and_todo_checkboxes(load_fixture: Load) -> None:
    pm = load_fixture("notion-export-queue-backlog.html")
    assert pm.date == dt.date(2025, 3, 18)
    assert pm.meeting_at == dt.datetime(2025, 3, 20, 14, 0, tzinfo=UTC)
    assert pm.authors == ("Lena Fischer", "Omar Haddad")
    assert present(pm) == set(PARTS)
    assert pm.impact.duration_minutes == 130
    assert [a.status for a in pm.action_items] == ["done", "todo", "todo"]
    assert [a.owner for a in pm.action_items] == ["omar", "lena", "omar"]
    assert pm.action_items[2].sprint == "2025-S08"
    (crit,) = [c for c in pm.verification_criteria if c.source == "section"]
    assert (crit.metric, crit.comparator, crit.threshold, crit.window_days) == (
        "latency_p95",
        "<",
        60000.0,
        28.0,
    )


def test_google_docs_export_numbered_headings_and_bold_spans(load_fixture: Load) -> None:
    pm = load_fixture("gdocs-dns-outage.html")
    assert pm.title == "Postmortem: internal DNS resolution failures — 2024-11-07"
    assert pm.sections["timeline"].heading == "4. Timeline"
    assert present(pm) == set(PARTS)
    assert "PT4KHLK" in pm.incident_refs
    assert len(pm.timeline) == 4 and pm.timeline[-1].at == dt.datetime(
        2024, 11, 7, 13, 40, tzinfo=UTC
    )
    assert [(a.owner, a.ticket, a.priority, a.due) for a in pm.action_items] == [
        ("rosa", "NET-77", "P1", dt.date(2024, 11, 22)),
        ("chen", "NET-78", "P2", dt.date(2024, 12, 6)),
    ]


def test_front_matter_checkboxes_nested_fields(load_fixture: Load) -> None:
    pm = load_fixture("github-frontmatter-checkboxes.md")
    assert pm.meeting_at == dt.datetime(2025, 3, 5, 15, 0, tzinfo=UTC)
    assert pm.impact.severity == "SEV2"
    assert "PQ7R2XY" in pm.incident_refs
    assert "#1290" in pm.ticket_refs
    assert "a3f9e1c" in pm.ci_refs
    assert pm.sections["contributing_conditions"].heading == "Contributing conditions:"
    assert pm.impact.duration_minutes == 52
    items = pm.action_items
    assert len(items) == 4
    assert items[1].verification == "webhook p99 latency < 2 s for 30 days"
    assert items[3].ticket == "https://github.com/acme/payments/issues/1301"
    assert items[3].verification == "CI pass rate on webhook load tests >= 98% over 2 weeks"


def test_bullet_labels_and_inline_fields(load_fixture: Load) -> None:
    pm = load_fixture("bullet-labels-atlassian.md")
    assert present(pm) == set(PARTS)
    assert pm.meeting_at == dt.datetime(2024, 9, 19, 10, 0, tzinfo=UTC)
    assert pm.impact.duration_minutes == 34 and pm.impact.affected_users == 6500
    assert pm.impact.severity == "P1"
    assert len(pm.contributing_conditions) == 3
    a, b = pm.action_items
    assert (a.text, a.owner, a.ticket, a.status, a.due) == (
        "Add metadata refresh to the rotation runbook",
        "Hana",
        "SEC-441",
        "todo",
        dt.date(2024, 10, 1),
    )
    assert (b.status, b.sprint) == ("done", "2024-S19")


def test_two_column_table_sections(load_fixture: Load) -> None:
    pm = load_fixture("two-column-table.md")
    assert present(pm) == set(PARTS)
    assert len(pm.contributing_conditions) == 3
    assert pm.impact.duration_minutes == 180
    assert [a.ticket for a in pm.action_items] == ["CI-901", "CI-902"]
    assert all(a.status == "todo" for a in pm.action_items)


def test_plain_text_labels(load_fixture: Load) -> None:
    pm = load_fixture("plain-text-export.md")
    assert pm.title == "Cache stampede on product pages"
    assert present(pm) == set(PARTS)
    assert pm.impact.duration_minutes == 40
    assert [(a.text, a.owner) for a in pm.action_items] == [
        ("Add jitter to cache TTLs", "nina"),
        ("Enable request coalescing at the origin", "paolo"),
    ]
    assert pm.timeline[0].at == dt.datetime(2024, 12, 3, 15, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    "heading",
    [
        "## Root Causes",
        "### 2. Contributing Factors",
        "## 🔥 Contributing conditions:",
        "# Trigger",
        "**What went wrong**",
        "- **Root causes:**",
    ],
)
def test_condition_heading_wordings(heading: str) -> None:
    indent = "  " if heading.startswith("- ") else ""
    doc = f"# T\n\n{heading}\n{indent}- cond one\n{indent}- cond two\n{indent}- cond three\n"
    pm = parse_postmortem(doc)
    assert pm.sections["contributing_conditions"].present
    assert pm.contributing_conditions == ("cond one", "cond two", "cond three")


@pytest.mark.parametrize(
    ("heading", "part"),
    [
        ("Customer impact", "impact"),
        ("Follow-ups", "action_items"),
        ("Remediation", "action_items"),
        ("Corrective actions", "action_items"),
        ("Success criteria", "verification"),
        ("How we'll know", "verification"),
        ("4) Timeline", "timeline"),
        ("Impact:", "impact"),
    ],
)
def test_heading_mapping(heading: str, part: str) -> None:
    pm = parse_postmortem(f"## {heading}\n\nsomething: PAY-1 (owner: @x)\n")
    assert pm.sections[part].present
    assert pm.sections[part].heading == heading


def test_time_formats_in_timeline() -> None:
    doc = (
        "## Timeline\n\n2025-03-04 (all times UTC)\n\n"
        "- 14:02 deploy\n- 2:10 PM alert\n- 14:20 UTC page\n- 2025-03-04T15:00:00Z resolved\n"
        "- 23:55 late work\n- 00:05 after midnight\n"
    )
    pm = parse_postmortem(doc)
    assert [e.at.strftime("%d %H:%M") for e in pm.timeline if e.at] == [
        "04 14:02",
        "04 14:10",
        "04 14:20",
        "04 15:00",
        "04 23:55",
        "05 00:05",
    ]


def test_read_errors(tmp_path: Path) -> None:
    with pytest.raises(PostmortemReadError, match="no such file"):
        parse_file(tmp_path / "missing.md")
    binary = tmp_path / "image.md"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 10)
    with pytest.raises(PostmortemReadError, match="binary"):
        parse_file(binary)
    with pytest.raises(PostmortemReadError, match="directory"):
        parse_file(tmp_path)
