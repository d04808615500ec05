"""`followthrough draft`: renderer on hand-built facts, and the command on a generated org."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import duckdb
import pytest

from followthrough.cli import main
from models.postmortems import PARTS, Postmortem, lint, parse_postmortem
from models.postmortems.draft import (
    BLANK_ACTION_ROWS,
    MAX_TIMELINE_ROWS,
    TBD,
    CiFailure,
    CiRecovery,
    ClusterLink,
    DeploymentFacts,
    Draft,
    DraftInput,
    ExcerptLine,
    IncidentFacts,
    Recurrence,
    RelatedRepo,
    TicketEventFacts,
    TicketFacts,
    excerpt_headline,
    render_draft,
)
from warehouse.drafts import load_draft_input, repo_matches_service

EXPECTED_RULES = {"action-item-no-owner", "action-item-no-ticket"}
UTC = dt.UTC


def t(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s).replace(tzinfo=UTC)


def _round_trip(draft: Draft, incident_id: str) -> Postmortem:
    """The contract of a draft: parsed back, it has what was written and lints clean."""
    pm = parse_postmortem(draft.markdown, "draft.md")
    for part in PARTS:
        assert pm.sections[part].present, part
    assert len(pm.timeline) == draft.timeline_rows
    assert len(pm.action_items) == draft.action_items
    assert len(pm.contributing_conditions) == draft.conditions
    assert incident_id in pm.incident_refs
    findings = lint(pm)
    assert not [f for f in findings if f.rule == "blame-language"], findings
    unexpected = [f for f in findings if f.rule not in EXPECTED_RULES]
    assert not unexpected, unexpected
    assert pm.status == "Draft"
    assert not pm.authors  # the _TBD_ placeholder is not taken for a name
    return pm


def _table_rows(markdown: str, heading: str) -> list[str]:
    section = markdown.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    header = ("| Time (UTC) |", "| Action |")
    return [ln for ln in section.splitlines() if ln.startswith("| ") and not ln.startswith(header)]


INC = IncidentFacts(
    incident_id="PABC123",
    number=4321,
    title="Checkout errors on payments-api",
    service="payments-api",
    team="Payments",
    priority="P1",
    urgency="high",
    status="resolved",
    created_at=t("2025-03-04 14:02:10"),
    resolved_at=t("2025-03-04 14:49:40"),
    duration_min=47.5,
    url="https://acme.pagerduty.com/incidents/PABC123",
)
DEPLOY_JOB = CiFailure(
    job_id=900,
    repo="acme/payments-api",
    job_name="deploy-production",
    workflow="Deploy",
    failed_at=t("2025-03-04 13:58:00"),
    branch="main",
    sha="abcdef1234567890",
    failed_step="Deploy",
    url="https://github.com/acme/payments-api/actions/runs/77/job/900",
    run_url="https://github.com/acme/payments-api/actions/runs/77",
    fingerprint="f" * 32,
    cluster_id="cfff",
    analysed=True,
    excerpt=(
        ExcerptLine(40, "helm upgrade --install payments-api", context=True),
        ExcerptLine(41, "Error: UPGRADE FAILED: timed out waiting for the condition"),
        ExcerptLine(42, "##[error]Process completed with exit code 1."),
    ),
)
FLAKY_JOB = CiFailure(
    job_id=901,
    repo="acme/payments-api",
    job_name="integration",
    workflow="CI",
    failed_at=t("2025-03-03 22:15:00"),
    branch="main",
    sha="1234567aaaa",
    url="https://github.com/acme/payments-api/actions/runs/70/job/901",
    fingerprint="e" * 32,
    cluster_id="ceee",
    analysed=True,
    excerpt=(ExcerptLine(10, "FAILED tests/test_refund.py::test_partial - TimeoutError"),),
    recurrence=Recurrence(
        occurrence=4,
        prior_failures=3,
        first_seen=t("2025-01-10 09:00:00"),
        prior_ticket_keys=("PAY-88",),
        fix_ticket_key="PAY-88",
        fix_resolved_at=t("2025-02-01 12:00:00"),
        fix_did_not_hold=True,
        message="this failure has happened 3 time(s) before, first on 2025-01-10; see PAY-88; "
        "the fix in PAY-88 (resolved 2025-02-01) did not hold",
    ),
    links=(ClusterLink("ticket", "PAY-88", "run_url", t("2025-01-11 10:00:00")),),
)


def full_input(**changes: object) -> DraftInput:
    base = DraftInput(
        incident=INC,
        window_start=INC.created_at - dt.timedelta(hours=24),
        window_end=INC.resolved_at or INC.created_at,
        repos=(RelatedRepo("acme/payments-api", "repository name matches the service"),),
        failures=(FLAKY_JOB, DEPLOY_JOB),
        recoveries=(CiRecovery("acme/payments-api", "integration", t("2025-03-03 23:40:00"), workflow="CI"),),
        deployments=(
            DeploymentFacts(
                deployment_id=555,
                repo="acme/payments-api",
                created_at=t("2025-03-04 13:55:00"),
                environment="production",
                production=True,
                sha="abcdef1234567890",
                ref="main",
                final_state="failure",
                finished_at=t("2025-03-04 13:58:00"),
                failed=True,
                url="https://api.github.com/repos/acme/payments-api/deployments/555",
                job_id=900,
            ),
        ),
        tickets=(
            TicketFacts(
                "PAY-101",
                t("2025-03-04 14:10:00"),
                url="https://acme.atlassian.net/browse/PAY-101",
                title="[INC #4321] Checkout errors on payments-api",
            ),
        ),
        ticket_events=(
            TicketEventFacts("PAY-101", t("2025-03-04 14:20:00"), "change", "status", "To Do", "In Progress"),
        ),
    )
    return DraftInput(**{**{f: getattr(base, f) for f in base.__dataclass_fields__}, **changes})  # type: ignore[arg-type]


# --- renderer on hand-built facts ----------------------------------------------------------


def test_full_draft_round_trips_and_lints_only_owner_and_ticket() -> None:
    draft = render_draft(full_input())
    md = draft.markdown
    pm = _round_trip(draft, "PABC123")
    assert pm.title == "Postmortem: Checkout errors on payments-api"
    assert pm.date == dt.date(2025, 3, 4)
    assert pm.impact.duration_minutes == 48  # 47.5 rounded as written
    assert pm.impact.severity and "P1" in pm.impact.severity
    assert "#4321" in pm.incident_refs
    # failed production deploy highlighted, excerpt and fingerprint in the CI signals
    failed = [r for r in _table_rows(md, "Timeline") if "FAILED" in r]
    assert len(failed) == 1 and "**Deploy of abcdef1 to production FAILED**" in failed[0]
    assert "/runs/77/job/900" in failed[0]
    assert "Error: UPGRADE FAILED: timed out waiting for the condition" in md
    assert "f" * 32 in md
    assert "**the fix did not hold**" in md
    assert "ticket `PAY-88` (by run\\_url, 2025-01-11)" in md
    # the deploy's own CI job is not listed twice in the timeline
    assert sum("deploy-production" in r for r in _table_rows(md, "Timeline")) == 1
    # candidate condition in the documented phrasing
    cond = [c for c in pm.contributing_conditions if c.startswith("Candidate")]
    assert cond[0].startswith(
        "Candidate (from deploy data): deploy of abcdef1 to production failed at 2025-03-04 13:58 UTC"
    )
    assert cond[0].endswith("Error: UPGRADE FAILED: timed out waiting for the condition")
    assert draft.conditions == 3 + draft.candidate_conditions == 5


def test_timeline_times_read_back_exactly_across_days() -> None:
    draft = render_draft(full_input())
    pm = parse_postmortem(draft.markdown, "d.md")
    timed = [(e.at, e.text) for e in pm.timeline if e.at is not None]
    assert timed == sorted(timed, key=lambda x: x[0])
    at = {text.split(" —")[0]: when for when, text in timed}
    assert at["OUTAGE BEGINS"] == t("2025-03-04 14:02:00")
    assert at["OUTAGE ENDS"] == t("2025-03-04 14:49:00")
    flaky = next(w for w, text in timed if "integration failed" in text)
    assert flaky == t("2025-03-03 22:15:00")  # previous day, from its own date line
    assert "2025-03-03 (all times UTC)" in draft.markdown
    assert "2025-03-04 (all times UTC)" in draft.markdown
    untimed = [e for e in pm.timeline if e.at is None]
    assert len(untimed) == 1 and "Slack" in untimed[0].text  # the visible placeholder row
    assert draft.timeline_rows == len(_table_rows(draft.markdown, "Timeline"))


def test_action_items_prefilled_from_recurrence_and_failed_deploy() -> None:
    draft = render_draft(full_input())
    pm = parse_postmortem(draft.markdown, "d.md")
    items = pm.action_items
    assert draft.action_items == 3 and draft.blank_action_rows == BLANK_ACTION_ROWS
    rows = _table_rows(draft.markdown, "Action items")
    assert len(rows) == draft.action_items + BLANK_ACTION_ROWS
    assert sum(r.count(TBD) == 7 for r in rows) == BLANK_ACTION_ROWS
    reopen = items[0]
    assert reopen.text.startswith("Re-open the fix for the recurring integration failure")
    assert reopen.ticket == "PAY-88"
    assert reopen.owner is None and reopen.status == "todo"
    # P1 incident: the 4-week SLO from the resolution day, read back as a due date
    assert all(i.due == dt.date(2025, 4, 1) for i in items)
    assert items[1].text.startswith("Find and fix what made the production deploy of abcdef1")
    assert items[2].text == "Prevent a repeat of incident #4321 on payments-api"
    checks = {c.text: c for c in pm.verification_criteria}
    deploy = checks["CI pass rate of deploy-production on acme/payments-api > 95% for 30 days"]
    assert (deploy.metric, deploy.comparator, deploy.threshold, deploy.window_days) == (
        "ci_pass_rate",
        ">",
        0.95,
        30.0,
    )
    repeat = checks["Zero repeat incidents on payments-api for 30 days"]
    assert (repeat.metric, repeat.comparator, repeat.threshold) == ("incident_count", "=", 0.0)
    assert all(c.checkable for c in pm.verification_criteria)
    assert set(draft.criteria) <= set(checks)


def test_no_ci_data_still_has_five_parts_and_one_action() -> None:
    draft = render_draft(
        full_input(repos=(), failures=(), recoveries=(), deployments=(), tickets=(), ticket_events=())
    )
    pm = _round_trip(draft, "PABC123")
    assert draft.candidate_conditions == 0 and len(pm.contributing_conditions) == 3
    assert all(c.startswith("TBD") for c in pm.contributing_conditions)
    assert [i.text for i in pm.action_items] == ["Prevent a repeat of incident #4321 on payments-api"]
    assert "No repository could be tied" in draft.markdown
    assert draft.timeline_rows == 3  # begins, Slack placeholder, ends


def test_unresolved_incident_leaves_end_and_duration_to_fill() -> None:
    inc = IncidentFacts(
        incident_id="POPEN01", created_at=t("2025-03-04 14:02:00"), service="search", status="triggered"
    )
    draft = render_draft(full_input(incident=inc, window_end=inc.created_at + dt.timedelta(hours=24)))
    pm = parse_postmortem(draft.markdown, "d.md")
    assert all(pm.sections[p].present for p in PARTS)
    assert "OUTAGE ENDS" not in draft.markdown
    assert f"- End: {TBD}" in draft.markdown and f"- Duration: {TBD}" in draft.markdown
    assert {f.rule for f in lint(pm)} <= EXPECTED_RULES | {"impact-no-duration"}
    # P0-P2 unknown: the longer SLO applies
    assert pm.action_items[0].due == dt.date(2025, 4, 29)


def test_untrusted_text_cannot_break_the_document_or_add_blame() -> None:
    inc = IncidentFacts(
        incident_id="PEVIL01",
        number=7,
        title="Outage | ## Timeline\ncaused by Bob's careless change",
        service="search",
        priority="P2",
        created_at=t("2025-03-04 14:02:00"),
        resolved_at=t("2025-03-04 14:30:00"),
    )
    evil_job = CiFailure(
        job_id=1,
        repo="acme/search",
        job_name="verification",  # a job named like a section must not become one
        failed_at=t("2025-03-04 13:00:00"),
        analysed=True,
        excerpt=(
            ExcerptLine(1, "```"),
            ExcerptLine(2, "## Action items"),
            ExcerptLine(3, "Error: Dana was careless and forgot to check the config"),
        ),
    )
    pipe_job = CiFailure(
        job_id=2,
        repo="acme/search",
        job_name="lint|fmt",  # a pipe in a job name must not split the table row
        workflow="CI",
        failed_at=t("2025-03-04 13:30:00"),
        recurrence=Recurrence(occurrence=2, prior_failures=1),
    )
    draft = render_draft(
        full_input(
            incident=inc,
            failures=(evil_job, pipe_job),
            deployments=(),
            recoveries=(),
            tickets=(TicketFacts("SRCH-1", t("2025-03-04 14:05:00"), title="Bob broke prod | again"),),
            ticket_events=(),
        )
    )
    pm = _round_trip(draft, "PEVIL01")
    assert "careless change" not in (pm.title or "")
    assert pm.title == "Postmortem: PagerDuty incident #7"
    assert "Bob broke prod" not in draft.markdown
    # the excerpt stays inside its fence: no extra sections, conditions or action items
    assert [s.heading for s in pm.sections.values()] == [
        "Timeline",
        "Contributing conditions",
        "Impact",
        "Action items",
        "Verification",
    ]
    assert draft.markdown.count("\n## Action items\n") == 1
    cond = next(c for c in pm.contributing_conditions if "verification on acme/search" in c)
    assert "careless" not in cond and cond.endswith("see the CI signals above")
    fix = pm.action_items[0]
    assert fix.text.startswith("Fix the recurring lint|fmt failure on acme/search")
    assert fix.verification == "CI pass rate of lint|fmt on acme/search > 95% for 30 days"
    assert any("CI job CI / lint|fmt failed" in e.text for e in pm.timeline)


def test_repos_tied_only_by_deploy_timing_add_deploys_not_noise() -> None:
    other = "acme/web-app"
    noisy = CiFailure(
        job_id=50,
        repo=other,
        job_name="lint",
        failed_at=t("2025-03-04 13:00:00"),
        recurrence=Recurrence(occurrence=300, prior_failures=299),
    )
    deploys = (
        DeploymentFacts(60, other, t("2025-03-04 12:00:00"), environment="staging", final_state="success"),
        DeploymentFacts(
            61,
            other,
            t("2025-03-04 13:40:00"),
            environment="production",
            production=True,
            sha="9999999aaaa",
            final_state="error",
            finished_at=t("2025-03-04 13:45:00"),
            failed=True,
        ),
    )
    draft = render_draft(
        full_input(
            repos=(
                RelatedRepo("acme/payments-api", "repository name matches the service"),
                RelatedRepo(other, "a production deploy failed in the window", "deploy_timing"),
            ),
            failures=(noisy,),
            deployments=deploys,
            recoveries=(),
        )
    )
    pm = _round_trip(draft, "PABC123")
    rows = _table_rows(draft.markdown, "Timeline")
    assert not any("staging" in r for r in rows)
    assert any("**Deploy of 9999999 to production FAILED** on acme/web-app" in r for r in rows)
    assert any("lint" in r for r in rows)  # still in the timeline and the CI signals
    cands = [c for c in pm.contributing_conditions if c.startswith("Candidate")]
    assert len(cands) == 1 and "only by deploy timing" in cands[0]
    texts = [i.text for i in pm.action_items]
    assert not any("lint" in x for x in texts)
    assert texts[0] == "Find and fix what made the production deploy of 9999999 on acme/web-app fail"


def test_long_timelines_are_trimmed_and_still_counted() -> None:
    many = tuple(
        CiFailure(
            job_id=1000 + i,
            repo="acme/payments-api",
            job_name=f"shard-{i}",
            failed_at=INC.created_at - dt.timedelta(minutes=5 * i + 1),
        )
        for i in range(150)
    )
    draft = render_draft(full_input(failures=many, deployments=(), recoveries=()))
    assert draft.timeline_rows == MAX_TIMELINE_ROWS
    # 150 failures + outage begins/ends + ticket created + ticket event, one slot for Slack
    assert draft.omitted_timeline_rows == 150 + 4 - (MAX_TIMELINE_ROWS - 1)
    pm = _round_trip(draft, "PABC123")
    assert any("OUTAGE BEGINS" in e.text for e in pm.timeline)
    assert any("PAY-101" in e.text for e in pm.timeline)  # tickets outrank CI noise
    assert "more failing jobs in the window not shown" in draft.markdown


def test_excerpt_headline_prefers_the_specific_error() -> None:
    lines = (
        ExcerptLine(1, "collected 12 items", context=True),
        ExcerptLine(2, "______ test_retry[3] ______"),
        ExcerptLine(3, "E   AssertionError: expected 3 attempts, got 1"),
        ExcerptLine(4, "##[error]Process completed with exit code 1."),
    )
    assert excerpt_headline(lines) == "E AssertionError: expected 3 attempts, got 1"
    assert excerpt_headline((ExcerptLine(9, "##[error]Process completed with exit code 1."),)) == (
        "##[error]Process completed with exit code 1."
    )
    assert excerpt_headline(()) is None


def test_repo_service_matching() -> None:
    assert repo_matches_service("acme/search-service", "search")
    assert repo_matches_service("acme/checkout-ui", "checkout-ui")
    assert repo_matches_service("acme/Payments_Webhook", "payments-webhook")
    assert not repo_matches_service("acme/platform-gateway", "api-gateway")
    assert not repo_matches_service("acme/x", "")


# --- the command on a generated organisation ----------------------------------------------


def _sha256(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_draft_for_deploy_caused_incident(sample_org: tuple[Path, Path], tmp_path: Path) -> None:
    exports, warehouse = sample_org
    truth = json.loads((exports / "groundtruth.json").read_text(encoding="utf-8"))
    caused = truth["deploy_incidents"]["caused_incidents"]
    assert caused, "the generated org has no deploy-caused incident to test against"
    before = _sha256(warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        for case in caused:
            out = tmp_path / f"{case['incident_id']}.md"
            assert main(["draft", case["incident_id"], "--warehouse", str(warehouse), "--out", str(out)]) == 0
            md = out.read_text(encoding="utf-8")
            # the failed deploy, highlighted in the timeline, with its CI job
            rows = _table_rows(md, "Timeline")
            failed = [r for r in rows if "FAILED" in r and f"/job/{case['job_id']}" in r]
            assert len(failed) == 1, rows
            assert f"Deploy of {case['sha'][:7]} to production FAILED" in failed[0]
            assert failed[0].startswith(f"| {case['deploy_failed_at'][11:16]} |")
            assert case["run_html_url"] in md
            assert str(case["deployment_id"]) in md
            # the failing job's excerpt (already redacted in the warehouse)
            row = conn.execute(
                "SELECT CAST(excerpt AS VARCHAR), fingerprint FROM models.failure_excerpts WHERE job_id = ?",
                [case["job_id"]],
            ).fetchone()
            assert row is not None and row[0]
            excerpt = json.loads(row[0])
            for line in excerpt:
                text = re.sub(r"\s+", " ", line["text"]).strip()
                assert text in md, text
            assert row[1] in md
            # the round trip, with counts from the same data the command used
            draft = render_draft(load_draft_input(conn, case["incident_id"]))
            assert draft.markdown == md
            pm = _round_trip(draft, case["incident_id"])
            assert any(c.startswith("Candidate (from deploy data)") for c in pm.contributing_conditions)
            assert pm.impact.duration_minutes is not None
            assert any(e.text.startswith("OUTAGE BEGINS") for e in pm.timeline)
    assert _sha256(warehouse) == before  # nothing was written to the warehouse


def test_every_sample_incident_drafts_cleanly(sample_org: tuple[Path, Path]) -> None:
    _, warehouse = sample_org
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        ids = [r[0] for r in conn.execute("SELECT incident_id FROM core.incidents").fetchall()]
        assert ids
        for iid in ids:
            _round_trip(render_draft(load_draft_input(conn, iid)), iid)


def test_lookup_by_number_and_window(
    sample_org: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, warehouse = sample_org
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        iid, number = conn.execute(
            "SELECT incident_id, incident_number FROM core.incidents ORDER BY created_at LIMIT 1"
        ).fetchone()
        wide = load_draft_input(conn, f"#{number}", window_hours=72)
        narrow = load_draft_input(conn, iid.lower(), window_hours=1)
    assert wide.incident.incident_id == narrow.incident.incident_id == iid
    assert wide.window_start == wide.incident.created_at - dt.timedelta(hours=72)
    assert len(narrow.failures) <= len(wide.failures)
    assert main(["draft", iid, "--warehouse", str(warehouse)]) == 0
    out = capsys.readouterr()
    assert out.out.startswith("# Postmortem: ")
    assert "missing owner/ticket finding(s)" in out.err


def test_unknown_incident_exits_2_with_how_to_find_ids(
    sample_org: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, warehouse = sample_org
    before = _sha256(warehouse)
    assert main(["draft", "PNOSUCH", "--warehouse", str(warehouse)]) == 2
    err = capsys.readouterr().err
    assert 'no incident "PNOSUCH"' in err
    assert (
        'followthrough sql "SELECT incident_id, title FROM core.incidents ORDER BY created_at DESC LIMIT 20"'
        in err
    )
    assert "Most recent incidents:" in err
    assert _sha256(warehouse) == before


def test_command_refuses_bad_input(
    sample_org: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, warehouse = sample_org
    missing = tmp_path / "nope.duckdb"
    assert main(["draft", "PX", "--warehouse", str(missing)]) == 2
    assert "no warehouse at" in capsys.readouterr().err
    assert not missing.exists()  # read-only open never creates a warehouse
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    assert main(["draft", "PX", "--warehouse", str(empty)]) == 2
    assert "no core.incidents table" in capsys.readouterr().err
    assert main(["draft", "PX", "--warehouse", str(warehouse), "--window-hours", "0"]) == 2
    assert "--window-hours" in capsys.readouterr().err
    existing = tmp_path / "pm.md"
    existing.write_text("a filled-in postmortem\n", encoding="utf-8")
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        iid = conn.execute("SELECT min(incident_id) FROM core.incidents").fetchone()[0]
    assert main(["draft", iid, "--warehouse", str(warehouse), "--out", str(existing)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert existing.read_text(encoding="utf-8") == "a filled-in postmortem\n"
    assert main(["draft", iid, "--warehouse", str(warehouse), "--out", str(existing), "--force"]) == 0
    assert existing.read_text(encoding="utf-8").startswith("# Postmortem: ")
