"""The follow-through, stale, quality and recurring-failure pages against a real built warehouse.

`sample_org` is a generated organisation built by the real pipeline; every figure a page shows
is checked against an independent SQL query of the same warehouse.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from dashboards import charts
from dashboards.formatting import format_share
from dashboards.reads import checklist_compliance as quality
from dashboards.reads import failure_clusters as recurring
from dashboards.reads import stale_action_items as stale
from dashboards.reads.connection import WAREHOUSE_ENV

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
NEW_PAGES = {
    "app_pages/follow_through.py": "marts.follow_through_summary",
    "app_pages/stale.py": "marts.stale_action_items",
    "app_pages/quality.py": "marts.postmortem_quality",
    "app_pages/recurring.py": "marts.recurring_failure_summary",
}


def _page(monkeypatch: pytest.MonkeyPatch, warehouse: Path, page: str) -> AppTest:
    monkeypatch.setenv(WAREHOUSE_ENV, str(warehouse))
    monkeypatch.delenv("FOLLOWTHROUGH_BENCHMARK_DAYS", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metrics(at: AppTest) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.delta) for m in at.metric}


def _sql(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _chart_text(at: AppTest) -> str:
    """Every chart's spec and the string values of its data, as the browser receives them."""
    parts = []
    for chart in at.get("vega_lite_chart"):
        parts.append(json.dumps(json.loads(chart.proto.spec), ensure_ascii=False))
        for dataset in chart.proto.datasets:
            table = pa.ipc.open_stream(dataset.data.data).read_all()
            for column in table.columns:
                if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                    parts.extend(str(v) for v in column.to_pylist() if v is not None)
    return " ".join(parts)


# --- Follow-through ------------------------------------------------------------------------


def test_follow_through_page_matches_sql(monkeypatch: pytest.MonkeyPatch, org: Path) -> None:
    at = _page(monkeypatch, org, "app_pages/follow_through.py")
    done, matured, p1_ok, p1, met, slo = _sql(
        org,
        "SELECT sum(done_within), sum(matured),"
        " sum(p1_resolved_within + p1_rescheduled_justified), sum(p1_matured),"
        " sum(slo_met), sum(slo_matured) FROM marts.follow_through",
    )[0]
    m = _metrics(at)
    assert m["Done within 30 days"] == (format_share(done / matured), f"{done} of {matured} items")
    assert m["P1s handled"][0] == format_share(p1_ok / p1 if p1 else None)
    assert m["P1s handled"][1] == f"{p1_ok} of {p1} P0/P1 items"
    assert m["Completion SLO met"][0] == format_share(met / slo if slo else None)
    specs = _chart_text(at)
    assert "4.3 days — vendor-reported industry figure" in specs
    assert "4 weeks — Atlassian's published SLO (P0–P2)" in specs
    assert "8 weeks — Atlassian's published SLO (others)" in specs
    teams = at.dataframe[0].value.set_index("team")
    for team, t_done, t_matured in _sql(
        org, "SELECT team, sum(done_within), sum(matured) FROM marts.follow_through GROUP BY team"
    ):
        assert teams.loc[team, "done_within"] == t_done
        assert teams.loc[team, "matured"] == t_matured


def test_follow_through_team_choice_reads_the_team_row(
    monkeypatch: pytest.MonkeyPatch, org: Path
) -> None:
    at = _page(monkeypatch, org, "app_pages/follow_through.py")
    (team,) = _sql(org, "SELECT min(team) FROM marts.follow_through")[0]
    at.selectbox(key="ft_team").set_value(team).run()
    done, matured = _sql(
        org,
        f"SELECT sum(done_within), sum(matured) FROM marts.follow_through WHERE team = '{team}'",
    )[0]
    m = _metrics(at)
    assert m["Done within 30 days"] == (format_share(done / matured), f"{done} of {matured} items")
    assert list(at.dataframe[0].value["team"]) == [team]


def test_follow_through_km_table_shows_the_marts(monkeypatch: pytest.MonkeyPatch, org: Path) -> None:
    """Median to done, no ticket after the benchmark: as stored by the build, never recomputed."""
    at = _page(monkeypatch, org, "app_pages/follow_through.py")
    km = at.dataframe[1].value.set_index("team")
    for team, done_median, beyond in _sql(
        org,
        "SELECT coalesce(team, 'org'), km_median_days_to_done, share_beyond_benchmark"
        " FROM marts.time_to_ticket_distribution WHERE grouping_set IN ('org', 'team')",
    ):
        label = "All teams" if team == "org" else team
        shown = km.loc[label, "done_median_days"]
        assert (pd.isna(shown) and done_median is None) or shown == done_median, team
        assert km.loc[label, "not_within_bench"] == pytest.approx(beyond * 100), team
    assert "not done yet" in _chart_text(at)


# --- Stale items ---------------------------------------------------------------------------


def test_stale_page_matches_sql(monkeypatch: pytest.MonkeyPatch, org: Path) -> None:
    at = _page(monkeypatch, org, "app_pages/stale.py")
    (items, rows) = _sql(
        org, "SELECT count(DISTINCT action_item_id), count(*) FROM marts.stale_action_items"
    )[0]
    m = _metrics(at)
    assert m["Stale items"] == (f"{items:,}", f"{rows:,} item × reason rows")
    (unowned,) = _sql(
        org, "SELECT count(DISTINCT action_item_id) FROM marts.stale_action_items WHERE reason = 'no_owner'"
    )[0]
    assert m["Without an owner"][0] == str(unowned)
    act = at.dataframe[1].value  # [0] is the per-team table
    assert len(act) == items
    urgent = act["priority"].isin(["P0", "P1"])
    assert not urgent.iloc[urgent.sum():].any(), "P0/P1 items come first"
    with_ticket = _sql(
        org,
        "SELECT DISTINCT action_item_id, ticket_url FROM marts.stale_action_items"
        " WHERE ticket_url IS NOT NULL",
    )
    assert set(act["ticket_url"].dropna()) == {url for _, url in with_ticket}

    reason, count = _sql(
        org,
        "SELECT reason, count(DISTINCT action_item_id) n FROM marts.stale_action_items"
        " GROUP BY reason ORDER BY n DESC, reason LIMIT 1",
    )[0]
    at.selectbox(key="stale_reason").set_value(reason).run()
    assert not at.exception
    assert _metrics(at)["Stale items"][0] == f"{count:,}"
    detail = at.dataframe[2].value
    assert set(detail["reason"]) == {stale.reason_label(reason)}
    assert detail["detail"].notna().all()


def test_stale_items_fold_every_reason_of_an_item(org: Path) -> None:
    """marts.stale_items recomputed in Python from marts.stale_action_items."""
    rows = _sql(
        org,
        "SELECT action_item_id, reason, days_stale, detail, priority"
        " FROM marts.stale_action_items ORDER BY action_item_id",
    )
    by_item: dict[str, list[tuple]] = {}
    for item, reason, days, detail, priority in rows:
        by_item.setdefault(item, []).append((reason, days, detail, priority))
    got = {
        r[0]: r[1:]
        for r in _sql(
            org, "SELECT action_item_id, reasons, reason_count, days_stale, details, act_order"
            " FROM marts.stale_items",
        )
    }
    assert set(got) == set(by_item)
    for item, reasons in by_item.items():
        ordered = sorted(reasons, key=lambda r: (r[1] is None, -(r[1] or 0), r[0]))
        assert got[item][0] == [r[0] for r in ordered], item
        assert got[item][1] == len({r[0] for r in reasons})
        assert got[item][2] == pytest.approx(max(r[1] for r in reasons if r[1] is not None))
        assert got[item][3] == " | ".join(r[2] for r in ordered)
    order = sorted(got, key=lambda i: got[i][4])
    urgent = [by_item[i][0][3] in ("P0", "P1") for i in order]
    assert urgent == sorted(urgent, reverse=True), "P0/P1 items come first"


def test_stale_summary_recomputed_from_rows(org: Path) -> None:
    """Every marts.stale_summary row recomputed with a Python loop over the item × reason rows."""
    rows = _sql(
        org,
        "SELECT action_item_id, reason, coalesce(team, '(unassigned)'), days_stale, priority"
        " FROM marts.stale_action_items",
    )
    unowned = {r[0] for r in rows if r[1] == "no_owner"}
    for grouping, p1_only, team, reason, items, p1_items, without, n_rows, median in _sql(
        org, "SELECT grouping_set, p1_only, team, reason, items, p1_items, without_owner,"
        " item_reasons, median_days_stale FROM marts.stale_summary",
    ):
        picked = [
            r for r in rows
            if (team is None or r[2] == team) and (reason is None or r[1] == reason)
            and (not p1_only or r[4] in ("P0", "P1"))
        ]
        assert (grouping in ("team", "team_reason")) == (team is not None)
        per_item: dict[str, float] = {}
        for r in picked:
            per_item[r[0]] = max(per_item.get(r[0], float("-inf")), r[3])
        assert items == len(per_item) and n_rows == len(picked)
        assert p1_items == len({r[0] for r in picked if r[4] in ("P0", "P1")})
        assert without == len(set(per_item) & unowned)
        assert median == pytest.approx(float(pd.Series(list(per_item.values())).median()))


# --- Postmortem quality --------------------------------------------------------------------


def test_quality_page_matches_sql(monkeypatch: pytest.MonkeyPatch, org: Path) -> None:
    at = _page(monkeypatch, org, "app_pages/quality.py")
    m = _metrics(at)
    (n, errors, warnings) = _sql(
        org, "SELECT count(*), sum(lint_errors), sum(lint_warnings) FROM core.postmortems"
    )[0]
    assert m["Postmortems"] == (str(n), f"{errors} errors · {warnings} warnings")
    findings = _sql(org, "SELECT CAST(findings AS VARCHAR) FROM core.postmortems")
    blame = sum(f["rule"] == "blame-language" for (raw,) in findings for f in json.loads(raw or "[]"))
    assert m["Blame-language findings"][0] == str(blame)
    (missing_any,) = _sql(
        org, "SELECT count(*) FILTER (WHERE len(parts_present) < 5) FROM core.postmortems"
    )[0]
    assert m["Missing one of the five parts"][1] == f"{missing_any} of {n} postmortems"
    for result, label in quality.VERIFICATION_LABELS.items():
        (count,) = _sql(
            org, f"SELECT count(*) FROM marts.verification_checks WHERE result = '{result}'"
        )[0]
        assert m[label.capitalize()][0] == str(count)

    summary = at.dataframe[1].value.set_index("check")
    for check_id, passed, failed, unknown in _sql(
        org,
        "SELECT check_id, count(*) FILTER (WHERE result = 'passed'),"
        " count(*) FILTER (WHERE result = 'failed'), count(*) FILTER (WHERE result = 'unknown')"
        " FROM marts.checklist_compliance GROUP BY check_id",
    ):
        row = summary.loc[quality.check_label(check_id)]
        assert (row["passed"], row["failed"], row["unknown"]) == (passed, failed, unknown)
        if passed + failed == 0:
            assert pd.isna(row["pass_rate"]), "all-unknown must not show a pass rate"
        else:
            assert row["pass_rate"] == pytest.approx(100 * passed / (passed + failed))
    # The "unknown" result is drawn and labelled as unknown in the chart, never as passed.
    assert "unknown (no data)" in _chart_text(at)


def test_quality_marts_recomputed_from_postmortems(org: Path) -> None:
    """Missing parts, lint rule counts and headline figures recomputed from core.postmortems."""
    docs = _sql(
        org,
        "SELECT postmortem_id, coalesce(team, '(unassigned)'), parts_present, lint_errors,"
        " CAST(findings AS VARCHAR) FROM core.postmortems",
    )
    teams = {t for _, t, *_ in docs}
    for team in [None, *teams]:
        mine = [d for d in docs if team is None or d[1] == team]
        where = "grouping_set = 'all'" if team is None else f"team = '{team}'"
        missing = dict(_sql(org, f"SELECT part, missing FROM marts.postmortem_missing_parts WHERE {where}"))
        for part in quality.PARTS:
            assert missing[part] == sum(part not in (d[2] or []) for d in mine), (team, part)
        expected: dict[tuple[str, str], list[str]] = {}
        for pid, _, _, _, raw in mine:
            for f in json.loads(raw or "[]"):
                expected.setdefault((f["rule"], f.get("severity") or ""), []).append(pid)
        got = {
            (rule, sev): (n, docs_n)
            for rule, sev, n, docs_n in _sql(
                org, f"SELECT rule, severity, findings, postmortems FROM marts.lint_rule_counts WHERE {where}"
            )
        }
        assert got == {k: (len(v), len(set(v))) for k, v in expected.items()}, team
        (n, with_errors, blame) = _sql(
            org, "SELECT postmortems, with_errors, blame_findings FROM marts.postmortem_quality_summary"
            f" WHERE {where}",
        )[0]
        assert n == len(mine) and with_errors == sum((d[3] or 0) > 0 for d in mine)
        assert blame == sum(
            f["rule"] == quality.BLAME_RULE for d in mine for f in json.loads(d[4] or "[]")
        )


def test_checklist_and_verification_summaries_recomputed(org: Path) -> None:
    rows = _sql(
        org, "SELECT coalesce(team, '(unassigned)'), check_id, result FROM marts.checklist_compliance"
    )
    for grouping, team, check, passed, failed, unknown, judged, rate in _sql(
        org, "SELECT grouping_set, team, check_id, passed, failed, unknown, judged, pass_rate"
        " FROM marts.checklist_compliance_summary",
    ):
        mine = [r[2] for r in rows if r[1] == check and (grouping == "all" or r[0] == team)]
        assert (passed, failed, unknown) == (
            mine.count("passed"), mine.count("failed"), mine.count("unknown")
        ), (team, check)
        assert judged == passed + failed
        assert rate is None if not judged else rate == pytest.approx(passed / judged)
    checks = _sql(org, "SELECT coalesce(team, '(unassigned)'), result FROM marts.verification_checks")
    for grouping, team, result, criteria, share in _sql(
        org, "SELECT grouping_set, team, result, criteria, share FROM marts.verification_summary"
    ):
        mine = [r for t, r in checks if grouping == "all" or t == team]
        assert criteria == mine.count(result), (team, result)
        assert share == pytest.approx(mine.count(result) / len(mine))


def test_unknown_is_never_passed() -> None:
    summary = pd.DataFrame(
        {
            "phase": ["during_incident", "within_24h"], "phase_order": [1, 2],
            "check_id": ["em_notified", "impact_drafted"], "postmortems": [3, 2],
            "passed": [0, 0], "failed": [0, 1], "unknown": [3, 1], "pending": [0, 0],
            "not_applicable": [0, 0], "judged": [0, 1], "pass_rate": [None, 0.0],
        }
    )
    long = quality.checklist_long(quality.with_check_labels(summary))
    assert set(long.loc[long["check_id"] == "em_notified", "result_label"]) == {"unknown (no data)"}
    cells = quality.team_pass_rates(summary.assign(team="t").iloc[:1])
    assert cells["label"].tolist() == ["unknown"]


def test_bad_findings_json_is_shown_not_fatal() -> None:
    assert quality.parse_findings(None) == []
    bad = quality.parse_findings("{not json", "pm-1")
    assert bad[0]["rule"] == "unreadable-findings" and "pm-1" in str(bad[0]["message"])
    mixed = quality.parse_findings('[{"rule": "blame-language", "severity": "error"}, 3]', "pm-2")
    assert [f["rule"] for f in mixed] == ["blame-language", "unreadable-findings"]


# --- Recurring failures --------------------------------------------------------------------


def test_recurring_page_matches_sql(monkeypatch: pytest.MonkeyPatch, org: Path) -> None:
    at = _page(monkeypatch, org, "app_pages/recurring.py")
    m = _metrics(at)
    (failures, clusters) = _sql(
        org, "SELECT count(*), count(DISTINCT cluster_id) FROM models.ci_failure_clusters"
    )[0]
    assert m["Clustered CI failures"] == (f"{failures:,}", f"{clusters:,} clusters")
    (recurring_n,) = _sql(
        org,
        "SELECT count(*) FROM (SELECT cluster_id FROM models.ci_failure_clusters"
        " GROUP BY cluster_id HAVING count(*) >= 2)",
    )[0]
    assert m["Clusters with ≥ 2 failures"][0] == f"{recurring_n:,}"
    (broken_clusters, broken_failures) = _sql(
        org,
        "SELECT count(DISTINCT cluster_id), count(*) FROM models.recurrences WHERE fix_did_not_hold",
    )[0]
    assert m["Fix did not hold"] == (
        f"{broken_clusters:,} clusters",
        f"{broken_failures:,} failures after a fix",
    )

    # Drill-down of the biggest cluster: its latest failure's message and excerpt.
    top = at.dataframe[0].value
    (cid, n) = _sql(
        org,
        "SELECT cluster_id, count(*) n FROM models.ci_failure_clusters GROUP BY cluster_id"
        " ORDER BY n DESC, max(failed_at) DESC, cluster_id LIMIT 1",
    )[0]
    assert top["cluster_id"].iloc[0] == cid and top["failures"].iloc[0] == n
    assert at.selectbox(key="rc_cluster").value == cid
    (message, raw) = _sql(
        org,
        "SELECT r.message, CAST(e.excerpt AS VARCHAR) FROM models.ci_failure_clusters c"
        " JOIN models.recurrences r USING (provider, job_id)"
        " JOIN models.failure_excerpts e USING (provider, job_id)"
        f" WHERE c.cluster_id = '{cid}' ORDER BY c.failed_at DESC, c.job_id DESC LIMIT 1",
    )[0]
    assert f"this failure has happened {n - 1} time(s) before" in message
    assert any(message in i.value for i in at.info)
    code = at.code[0].value
    for line in json.loads(raw):
        assert line["text"] in code

    # A cluster whose fix did not hold (the seed-7 sample org has some): its latest failure's
    # message names the fix ticket that did not hold.
    assert broken_clusters > 0
    (bcid,) = _sql(
        org,
        "SELECT min(cluster_id) FROM models.recurrences WHERE fix_did_not_hold",
    )[0]
    (bmessage, bkey, bbroken) = _sql(
        org,
        "SELECT r.message, r.fix_ticket_key, r.fix_did_not_hold FROM models.ci_failure_clusters c"
        " JOIN models.recurrences r USING (provider, job_id)"
        f" WHERE c.cluster_id = '{bcid}' ORDER BY c.failed_at DESC, c.job_id DESC LIMIT 1",
    )[0]
    at.number_input(key="rc_min").set_value(1).run()
    at.selectbox(key="rc_cluster").set_value(bcid).run()
    assert not at.exception
    shown = " ".join(i.value for i in at.info)
    assert bmessage in shown
    if bbroken:
        assert f"the fix in {bkey}" in shown and "did not hold" in shown
    fixes = at.dataframe[1].value
    assert bcid in set(fixes["cluster_id"])


def test_excerpt_parsing_and_formatting() -> None:
    raw = json.dumps(
        [{"n": 9, "text": "setup", "context": True}, {"n": 10, "text": "E boom"}, {"x": 1}]
    )
    lines = recurring.parse_excerpt(raw)
    assert [(line.n, line.context) for line in lines] == [(9, True), (10, False)]
    assert recurring.format_excerpt(lines) == " 9 · setup\n10 › E boom"
    assert recurring.parse_excerpt("not json") == []
    assert recurring.signature("\n  first line\nsecond") == "first line"


# --- Missing and empty tables --------------------------------------------------------------


@pytest.mark.parametrize(("page", "table"), NEW_PAGES.items())
def test_new_pages_explain_missing_tables(
    monkeypatch: pytest.MonkeyPatch, build_warehouse: Callable[..., Path], page: str, table: str
) -> None:
    # A warehouse built before these tables existed: only the overview's marts.
    warehouse = build_warehouse("w.duckdb", incidents=False, postmortems=False)
    at = _page(monkeypatch, warehouse, page)
    assert not at.metric
    text = at.warning[0].value
    assert table in text and "followthrough build" in text


@pytest.mark.parametrize(("page", "table"), NEW_PAGES.items())
def test_new_pages_say_when_tables_are_empty(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, org: Path, page: str, table: str
) -> None:
    schema, name = table.split(".")
    warehouse = tmp_path / "empty.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute(f"ATTACH '{org}' AS src (READ_ONLY)")
    con.execute(f"CREATE SCHEMA {schema}")
    con.execute(f"CREATE TABLE {table} AS SELECT * FROM src.{schema}.{name} LIMIT 0")
    con.close()
    at = _page(monkeypatch, warehouse, page)
    assert not at.metric
    assert f"`{table}` is empty" in at.info[0].value
    assert "followthrough build" in at.info[0].value


def test_missing_warehouse_on_new_pages(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for page in NEW_PAGES:
        at = _page(monkeypatch, tmp_path / "absent.duckdb", page)
        assert "No warehouse at" in at.warning[0].value, page
        assert len(at.warning) == 1, page  # one explanation, not one per section
    assert not (tmp_path / "absent.duckdb").exists()


def test_reference_lines_follow_settings() -> None:
    lines = charts.reference_frame(3.0, 2.0, 6.0)
    assert list(lines["days"]) == [3.0, 14.0, 42.0]
    assert lines["label"].iloc[0] == "3 days — vendor-reported industry figure"
    assert lines["label"].iloc[2] == "6 weeks — Atlassian's published SLO (others)"
    same = charts.reference_frame(None, 4.0, 4.0)
    assert list(same["label"]) == ["4 weeks — Atlassian's published SLO"]
