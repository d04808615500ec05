"""Postmortem quality: the five parts, lint findings, the follow-through checklist, verification."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards import charts, ui
from dashboards.formatting import format_share
from dashboards.reads import checklist_compliance as q

st.title("Postmortem quality")
st.caption(
    "Whether postmortems have the five parts follow-through needs (timeline, contributing "
    "conditions, impact, action items, verification), stay blameless, and complete the "
    "follow-through checklist — and whether their verification criteria hold."
)

quality = ui.table("marts.postmortem_quality", "no postmortem documents ingested yet")
if quality is None:
    st.stop()
headlines = ui.table("marts.postmortem_quality_summary", "no postmortem documents ingested yet")
if headlines is None:
    st.stop()

teams = sorted(headlines.loc[headlines["grouping_set"] == "team", "team"].unique())
chosen = st.columns([3, 2])[0].selectbox(
    "Team", [None, *teams], format_func=lambda t: "All teams" if t is None else t, key="q_team"
)
pms = quality[quality["team"] == chosen] if chosen else quality
head = q.rows_for(headlines, chosen).iloc[0]
n = int(head["postmortems"])

quiet = {"delta_color": "off", "delta_arrow": "off"}
c1, c2, c3, c4 = st.columns(4, border=True)
c1.metric(
    "Postmortems",
    f"{n:,}",
    delta=f"{int(head['lint_errors']):,} errors · {int(head['lint_warnings']):,} warnings",
    help="Lint findings of error and warning severity over these documents.",
    **quiet,
)
c2.metric(
    "With lint errors",
    format_share(head["share_with_errors"]),
    delta=f"{int(head['with_errors']):,} of {n:,} postmortems",
    **quiet,
)
c3.metric(
    "Missing one of the five parts",
    format_share(head["share_missing_any"]),
    delta=f"{int(head['missing_any']):,} of {n:,} postmortems",
    **quiet,
)
c4.metric(
    "Blame-language findings",
    f"{int(head['blame_findings']):,}",
    delta=f"in {int(head['blame_postmortems']):,} postmortems",
    help="Sentences the linter flagged as blaming a person; each comes with a "
    "condition-focused rewrite.",
    **quiet,
)

left, right = st.columns(2)
with left:
    st.subheader("Which parts are missing most often")
    parts = q.rows_for(ui.table("marts.postmortem_missing_parts", "no postmortems", quiet=True), chosen)
    parts = (
        parts.assign(part_label=parts["part"].map(lambda p: q.PART_LABELS.get(p, p)))
        .sort_values(["missing", "part_order"], ascending=[False, True])
        if parts is not None
        else pd.DataFrame(columns=["part_label", "missing"])
    )
    st.altair_chart(
        charts.count_bars(parts, "part_label", "missing", "postmortems missing the part"),
        width="stretch",
    )
with right:
    st.subheader("Lint findings by rule")
    rules = q.rows_for(ui.table("marts.lint_rule_counts", "no lint findings", quiet=True), chosen)
    rules = (
        pd.DataFrame(columns=["rule", "severity", "findings", "postmortems"])
        if rules is None
        else rules[["rule", "severity", "findings", "postmortems"]]
    )
    st.dataframe(
        rules,
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * max(len(rules), 1), 420),
        column_config={
            "rule": "Rule",
            "severity": "Severity",
            "findings": st.column_config.NumberColumn("Findings"),
            "postmortems": st.column_config.NumberColumn("Postmortems"),
        },
    )

# --- Checklist -----------------------------------------------------------------------------
st.subheader("Follow-through checklist")
checklist = ui.table("marts.checklist_compliance_summary", "no postmortem has been checked yet")
if checklist is not None:
    summary = q.rows_for(checklist, chosen)
    summary = q.with_check_labels(summary if summary is not None else q.EMPTY_CHECKLIST_SUMMARY)
    st.caption(
        "**Unknown** means the data cannot show whether the step happened (for example, no "
        "record of when the engineering manager was notified). It is shown grey and never "
        "counted as passed: pass rate = passed ÷ (passed + failed)."
    )
    long = q.checklist_long(summary)
    st.altair_chart(
        charts.result_bars(
            long,
            "check",
            "postmortems",
            "result_label",
            domain=[q.RESULT_LABELS[r] for r in q.RESULTS],
            colors=[
                charts.PASSED_COLOR,
                charts.FAILED_COLOR,
                charts.UNKNOWN_COLOR,
                charts.PENDING_COLOR,
                charts.NA_COLOR,
            ],
            sort=list(summary["check"]),
            title="postmortems",
        ),
        width="stretch",
    )
    st.dataframe(
        summary.assign(
            phase=summary["phase"].map(lambda p: q.PHASE_LABELS.get(p, p)),
            pass_rate=summary["pass_rate"] * 100,
        )[["phase", "check", "postmortems", *q.RESULTS, "pass_rate"]],
        hide_index=True,
        width="stretch",
        height=38 + 35 * max(len(summary), 1),
        placeholder="nothing judged",
        column_config={
            "phase": "When",
            "check": st.column_config.TextColumn("Checklist item", width="medium"),
            "postmortems": st.column_config.NumberColumn("Postmortems"),
            "passed": st.column_config.NumberColumn("Passed"),
            "failed": st.column_config.NumberColumn("Failed"),
            "unknown": st.column_config.NumberColumn("Unknown", help="No data to judge it."),
            "pending": st.column_config.NumberColumn("Pending", help="Its window is still open."),
            "not_applicable": st.column_config.NumberColumn("N/A"),
            "pass_rate": st.column_config.ProgressColumn(
                "Pass rate", format="%.0f%%", min_value=0.0, max_value=100.0
            ),
        },
    )

    rates = checklist[checklist["grouping_set"] == "team"]
    rates = rates[rates["team"] == chosen] if chosen else rates
    rates = rates.sort_values(["phase_order", "check_id", "team"])
    with st.expander("Pass rate per team", expanded=True):
        st.altair_chart(charts.pass_rate_heatmap(q.team_pass_rates(rates)), width="stretch")
        st.caption(
            "Cells: passed / (passed + failed). Grey “unknown”: every postmortem of that "
            "team lacks the data for this item; grey “n/a”: not applicable or pending."
        )

# --- Verification --------------------------------------------------------------------------
st.subheader("Verification checks")
checks_v = ui.table("marts.verification_checks", "no verification criteria parsed yet")
if checks_v is not None:
    vc = checks_v[checks_v["team"] == chosen] if chosen else checks_v
    per_result = q.rows_for(
        ui.table("marts.verification_summary", "no verification criteria", quiet=True), chosen
    )
    per_result = per_result if per_result is not None else pd.DataFrame(
        columns=["result", "criteria", "share"]
    )
    counts = {r: 0 for r in q.VERIFICATION_RESULTS} | dict(
        zip(per_result["result"], per_result["criteria"].astype(int), strict=True)
    )
    shares = dict(zip(per_result["result"], per_result["share"], strict=True))
    v1, v2, v3, v4 = st.columns(4, border=True)
    helps = {
        "holds": "Evaluated against CI history and the threshold is met.",
        "fails": "Evaluated and the threshold is not met: the fix may not have worked.",
        "not_enough_data": "Window not over, no matching CI job, or too few runs.",
        "not_checkable": "No metric and threshold (\u201cbetter tests\u201d), or a metric the "
        "warehouse has no data for.",
    }
    for col, result in zip((v1, v2, v3, v4), q.VERIFICATION_RESULTS, strict=True):
        col.metric(
            q.VERIFICATION_LABELS[result].capitalize(),
            f"{counts[result]:,}",
            delta=f"{format_share(shares.get(result))} of criteria",
            help=helps[result],
            **quiet,
        )
    others = {k: v for k, v in counts.items() if k not in q.VERIFICATION_RESULTS}
    if others:
        st.caption("Other results: " + ", ".join(f"{k}: {v}" for k, v in others.items()))
    pick = st.multiselect(
        "Result",
        list(counts),
        default=[r for r in ("fails", "not_enough_data") if counts.get(r)],
        format_func=lambda r: q.VERIFICATION_LABELS.get(r, r),
        key="q_verification",
    )
    rows = vc[vc["result"].isin(pick)] if pick else vc
    st.dataframe(
        pd.DataFrame(
            {
                "result": rows["result"].map(lambda r: q.VERIFICATION_LABELS.get(r, r)),
                "criterion": rows["criterion_text"],
                "detail": rows["detail"],
                "team": rows["team"],
                "postmortem": rows["postmortem_id"],
            }
        ),
        hide_index=True,
        width="stretch",
        placeholder="—",
        height=min(38 + 35 * max(len(rows), 1), 460),
        column_config={
            "result": st.column_config.TextColumn("Result"),
            "criterion": st.column_config.TextColumn("Criterion", width="large"),
            "detail": st.column_config.TextColumn("What was measured", width="large"),
            "team": "Team",
            "postmortem": "Postmortem",
        },
    )

# --- One postmortem ------------------------------------------------------------------------
st.subheader("One postmortem")
table = pms.assign(
    identified_at=pms["identified_at"].dt.tz_convert("UTC").dt.tz_localize(None),
    missing_parts=pms["missing_parts"].map(lambda m: ", ".join(q.PART_LABELS.get(p, p) for p in m)),
)[
    [
        "postmortem_id", "title", "team", "identified_at", "lint_errors", "lint_warnings",
        "missing_parts", "blame_findings", "checks_passed", "checks_failed", "checks_unknown",
    ]
]
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    placeholder="—",
    height=min(38 + 35 * max(len(table), 1), 460),
    column_config={
        "postmortem_id": "Postmortem",
        "title": st.column_config.TextColumn("Title", width="medium"),
        "team": "Team",
        "identified_at": st.column_config.DatetimeColumn("Reviewed", format="YYYY-MM-DD"),
        "lint_errors": st.column_config.NumberColumn("Errors"),
        "lint_warnings": st.column_config.NumberColumn("Warnings"),
        "missing_parts": "Missing parts",
        "blame_findings": st.column_config.NumberColumn("Blame"),
        "checks_passed": st.column_config.NumberColumn("Checks passed"),
        "checks_failed": st.column_config.NumberColumn("Checks failed"),
        "checks_unknown": st.column_config.NumberColumn("Checks unknown"),
    },
)
pid = st.selectbox(
    "Show the findings and checklist of",
    list(pms["postmortem_id"]),
    format_func=lambda p: f"{p} — {pms.set_index('postmortem_id').at[p, 'title'] or ''}",
    key="q_postmortem",
)
if pid is not None:
    doc = pms[pms["postmortem_id"] == pid].iloc[0]
    fs = ui.read(q.load_findings, pid, quiet=True)
    if fs is None:
        fs = pd.DataFrame(columns=list(q.FINDING_COLUMNS))
    st.markdown(
        f"**{int(doc['findings']):,} findings** · {int(doc['blame_findings']):,} blame-language"
        " · missing parts: "
        f"{', '.join(q.PART_LABELS.get(p, p) for p in doc['missing_parts']) or 'none'}"
    )
    tab_findings, tab_checklist = st.tabs(["Lint findings", "Checklist"])
    with tab_findings:
        st.dataframe(
            fs[["severity", "line", "rule", "message", "suggestion"]],
            hide_index=True,
            width="stretch",
            placeholder="—",
            height=min(38 + 35 * max(len(fs), 1), 460),
            column_config={
                "severity": "Severity",
                "line": st.column_config.NumberColumn("Line", format="%d"),
                "rule": "Rule",
                "message": st.column_config.TextColumn("Finding", width="large"),
                "suggestion": st.column_config.TextColumn("Suggestion", width="large"),
            },
        )
    with tab_checklist:
        mine = None if checklist is None else ui.read(q.load_checklist, pid, quiet=True)
        if mine is None:
            st.caption("`marts.checklist_compliance` is not built yet.")
        else:
            st.dataframe(
                pd.DataFrame(
                    {
                        "when": mine["phase"].map(lambda p: q.PHASE_LABELS.get(p, p)),
                        "checklist item": mine["check_id"].map(q.check_label),
                        "result": mine["result"].map(lambda r: q.RESULT_LABELS.get(r, r)),
                        "detail": mine["detail"],
                    }
                ),
                hide_index=True,
                width="stretch",
                height=38 + 35 * max(len(mine), 1),
                column_config={
                    "when": "When",
                    "checklist item": "Checklist item",
                    "result": "Result",
                    "detail": st.column_config.TextColumn("Detail", width="large"),
                },
            )
