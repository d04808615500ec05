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
    "app_pages/quality.py": "core.postmortems",
    "app_pages/recurring.py": "models.ci_failure_clusters",
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
    at.multiselect(key="stale_reasons").set_value([reason]).run()
    assert not at.exception
    assert _metrics(at)["Stale items"][0] == f"{count:,}"
    detail = at.dataframe[2].value
    assert set(detail["reason"]) == {stale.reason_label(reason)}
    assert detail["detail"].notna().all()


def test_act_today_orders_and_folds_reasons() -> None:
    df = pd.DataFrame(
        {
            "action_item_id": ["x", "x", "y", "z"],
            "reason": ["no_owner", "no_activity", "no_activity", "no_owner"],
            "reason_label": ["No owner", "No ticket activity", "No ticket activity", "No owner"],
            "postmortem_id": ["pm"] * 4,
            "team": ["a", "a", "b", "b"],
            "owner": [None, None, "kim", None],
            "priority": ["P3", "P3", "P3", "P1"],
            "action_text": ["X", "X", "Y", "Z"],
            "ticket_key": ["T-1", "T-1", None, None],
            "ticket_url": ["u1", "u1", None, None],
            "days_stale": [10.0, 40.0, 90.0, 1.0],
            "detail": ["d1", "d2", "d3", "d4"],
        }
    )
    out = stale.act_today(df)
    assert list(out["action_item_id"]) == ["z", "x", "y"]  # P1 first, then more reasons
    x = out.set_index("action_item_id").loc["x"]
    assert x["reasons"] == ["No ticket activity", "No owner"]  # longest-running first
    assert x["days_stale"] == 40.0 and x["details"] == "d2 | d1"
    assert list(stale.counts_by_reason(df)["items"]) == [2, 2]
    flt = stale.StaleFilter(reasons=("no_activity",))
    assert stale.without_owner(df, flt, stale.act_today(stale.filter_stale(df, flt))) == 1


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


def test_missing_parts_count_against_sql(org: Path) -> None:
    pms = quality.load_postmortems(org)
    got = quality.missing_parts(pms).set_index("part")["missing"]
    for part in quality.PARTS:
        (expected,) = _sql(
            org,
            f"SELECT count(*) FILTER (WHERE NOT list_contains(parts_present, '{part}'))"
            " FROM core.postmortems",
        )[0]
        assert got[part] == expected, part


def test_team_summary_agrees_with_per_postmortem_rows(org: Path) -> None:
    rows = quality.load_checklist(org)
    team = quality.load_checklist_team(org).set_index(["team", "check_id"])
    for (t, check), g in rows.groupby(["team", "check_id"]):
        counts = g["result"].value_counts()
        for result in ("passed", "failed", "unknown"):
            assert team.loc[(t, check), result] == counts.get(result, 0), (t, check, result)


def test_unknown_is_never_passed() -> None:
    rows = pd.DataFrame(
        {
            "postmortem_id": ["a", "b", "c", "a", "b"],
            "phase": ["during_incident"] * 3 + ["within_24h"] * 2,
            "check_id": ["em_notified"] * 3 + ["impact_drafted"] * 2,
            "result": ["unknown", "unknown", "unknown", "unknown", "failed"],
        }
    )
    s = quality.checklist_summary(rows).set_index("check_id")
    assert s.loc["em_notified", "passed"] == 0 and s.loc["em_notified", "unknown"] == 3
    assert pd.isna(s.loc["em_notified", "pass_rate"])
    assert s.loc["impact_drafted", "pass_rate"] == 0.0
    long = quality.checklist_long(s.reset_index())
    assert set(long.loc[long["check_id"] == "em_notified", "result_label"]) == {"unknown (no data)"}
    cells = quality.team_pass_rates(
        pd.DataFrame(
            {"team": ["t"], "phase": ["during_incident"], "check_id": ["em_notified"],
             "postmortems": [3], "passed": [0], "failed": [0], "unknown": [3], "pending": [0],
             "not_applicable": [0], "pass_rate": [None]}
        )
    )
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
