"""Postmortem quality: checklist compliance, lint findings, missing parts, verification checks.

An `unknown` checklist result means the data cannot show the step happened. It is counted and
drawn as unknown and never folded into "passed": a pass rate here is passed / (passed + failed).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from dashboards.formatting import NO_TEAM, team_labels
from dashboards.reads.connection import grouped, query

PARTS: tuple[str, ...] = (
    "timeline",
    "contributing_conditions",
    "impact",
    "action_items",
    "verification",
)
PART_LABELS = {
    "timeline": "Timeline",
    "contributing_conditions": "Contributing conditions",
    "impact": "Impact",
    "action_items": "Action items",
    "verification": "Verification",
}

RESULTS: tuple[str, ...] = ("passed", "failed", "unknown", "pending", "not_applicable")
RESULT_LABELS = {
    "passed": "passed",
    "failed": "failed",
    "unknown": "unknown (no data)",
    "pending": "pending (window open)",
    "not_applicable": "not applicable",
}

PHASES: tuple[str, ...] = ("during_incident", "within_24h", "during_meeting", "within_30_days")
PHASE_LABELS = {
    "during_incident": "During the incident",
    "within_24h": "Within 24 h",
    "during_meeting": "During the review meeting",
    "within_30_days": "Within 30 days",
}
CHECK_LABELS = {
    "ticket_auto_created": "Ticket created during the incident",
    "em_notified": "Engineering manager notified",
    "timeline_populating": "Timeline written during the incident",
    "meeting_scheduled": "Review meeting within 24 h",
    "impact_drafted": "Impact drafted within 24 h",
    "conditions_3_to_7": "3 to 7 contributing conditions",
    "items_ticketed_complete": "Every item ticketed, owned, dated, verifiable",
    "no_blame_language": "No blame language",
    "p1_resolved_or_rescheduled": "P1s resolved or rescheduled with a reason",
    "verification_checked": "Verification criteria evaluated",
    "linked_to_ci_failure": "Linked to the failing CI run",
    "runbook_updated": "Runbook updates done",
}

VERIFICATION_RESULTS: tuple[str, ...] = ("holds", "fails", "not_enough_data", "not_checkable")
VERIFICATION_LABELS = {
    "holds": "holds",
    "fails": "fails",
    "not_enough_data": "not enough data",
    "not_checkable": "not checkable",
}

BLAME_RULE = "blame-language"
EMPTY_CHECKLIST_SUMMARY = pd.DataFrame(
    columns=["grouping_set", "team", "phase", "phase_order", "check_id", "postmortems", *RESULTS,
             "judged", "pass_rate"]
)


def check_label(check_id: str) -> str:
    return CHECK_LABELS.get(check_id, check_id.replace("_", " "))


def phase_rank(phase: str) -> int:
    return PHASES.index(phase) if phase in PHASES else len(PHASES)


def load_checklist(path: Path, postmortem_id: str) -> pd.DataFrame:
    """marts.checklist_compliance rows of one postmortem, in checklist order."""
    df = query(
        path,
        "SELECT phase, check_id, result, detail FROM marts.checklist_compliance"
        " WHERE postmortem_id = ? ORDER BY phase, check_id",
        "marts.checklist_compliance",
        [postmortem_id],
    )
    df["_phase"] = df["phase"].map(phase_rank)
    return df.sort_values(["_phase", "check_id"], ignore_index=True).drop(columns="_phase")


FINDING_COLUMNS: tuple[str, ...] = ("severity", "line", "rule", "message", "suggestion")


def load_findings(path: Path, postmortem_id: str) -> pd.DataFrame:
    """The lint findings of one postmortem (core.postmortems.findings, parsed)."""
    df = query(
        path,
        "SELECT CAST(findings AS VARCHAR) AS findings FROM core.postmortems"
        " WHERE postmortem_id = ?",
        "core.postmortems",
        [postmortem_id],
    )
    found = parse_findings(df["findings"].iloc[0], postmortem_id) if len(df) else []
    return pd.DataFrame(found, columns=list(FINDING_COLUMNS))


def load_quality(path: Path) -> pd.DataFrame:
    """marts.postmortem_quality: per postmortem lint counts, missing parts, checklist outcomes."""
    df = query(
        path,
        "SELECT postmortem_id, title, team, identified_at, lint_errors, lint_warnings,"
        " missing_parts, blame_findings, findings, checks_passed, checks_failed, checks_unknown"
        " FROM marts.postmortem_quality ORDER BY identified_at NULLS LAST, postmortem_id",
        "marts.postmortem_quality",
        times=("identified_at",),
    )
    df["missing_parts"] = df["missing_parts"].map(_as_list)
    return team_labels(df)


def _load_grouped(path: Path, table: str, columns: str, order: str) -> pd.DataFrame:
    return team_labels(grouped(path, table, "team", columns, order))


def load_quality_summary(path: Path) -> pd.DataFrame:
    """marts.postmortem_quality_summary: headline figures for all postmortems and per team."""
    return _load_grouped(
        path,
        "marts.postmortem_quality_summary",
        "postmortems, lint_errors, lint_warnings, with_errors, missing_any, blame_findings,"
        " blame_postmortems, share_with_errors, share_missing_any",
        "grouping_set, team",
    )


def load_missing_parts(path: Path) -> pd.DataFrame:
    """marts.postmortem_missing_parts: postmortems lacking each part, all and per team."""
    return _load_grouped(
        path, "marts.postmortem_missing_parts", "part, part_order, missing", "grouping_set, team, part_order"
    )


def load_rule_counts(path: Path) -> pd.DataFrame:
    """marts.lint_rule_counts: findings per rule and severity, all and per team."""
    return _load_grouped(
        path,
        "marts.lint_rule_counts",
        "rule, severity, findings, postmortems",
        "grouping_set, team, findings DESC, rule, severity",
    )


def load_checklist_summary(path: Path) -> pd.DataFrame:
    """marts.checklist_compliance_summary: checklist outcomes per item, all and per team."""
    return _load_grouped(
        path,
        "marts.checklist_compliance_summary",
        "phase, phase_order, check_id, postmortems, passed, failed, unknown, pending,"
        " not_applicable, judged, pass_rate",
        "grouping_set, team, phase_order, check_id",
    )


def load_verification_summary(path: Path) -> pd.DataFrame:
    """marts.verification_summary: criteria per result, all and per team."""
    return _load_grouped(
        path,
        "marts.verification_summary",
        "result, result_order, criteria, total_criteria, share",
        "grouping_set, team, result_order, result",
    )


def rows_for(df: pd.DataFrame | None, team: str | None) -> pd.DataFrame | None:
    """The rows of a grouped mart answering the team choice (None: all postmortems)."""
    if df is None:
        return None
    if team is None:
        return df[df["grouping_set"] == "all"]
    return df[(df["grouping_set"] == "team") & (df["team"] == team)]


def load_verification(path: Path) -> pd.DataFrame:
    """marts.verification_checks: one row per parsed verification criterion."""
    df = query(
        path,
        "SELECT postmortem_id, criterion_index, action_item_id, team, service, criterion_text,"
        " metric, scope, comparator, threshold, window_start, window_end, runs, observed_value,"
        " result, detail FROM marts.verification_checks ORDER BY postmortem_id, criterion_index",
        "marts.verification_checks",
    )
    df["team"] = df["team"].fillna(NO_TEAM)
    return df


def _as_list(value: object) -> list[str]:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    return [str(v) for v in list(value)]  # type: ignore[call-overload]


def parse_findings(raw: str | None, postmortem_id: str = "") -> list[dict[str, object]]:
    """The findings JSON as a list of dicts; a malformed value becomes one visible finding
    naming the postmortem, rather than breaking the page."""
    if raw is None or (isinstance(raw, float) and pd.isna(raw)) or raw == "":
        return []
    try:
        parsed = json.loads(raw)
    except (TypeError, ValueError) as exc:
        return [_bad_findings(postmortem_id, f"findings are not valid JSON ({exc})")]
    if not isinstance(parsed, list):
        return [_bad_findings(postmortem_id, "findings are not a JSON list")]
    out: list[dict[str, object]] = []
    for f in parsed:
        if not isinstance(f, dict) or "rule" not in f:
            out.append(_bad_findings(postmortem_id, f"finding without a rule: {str(f)[:80]}"))
            continue
        out.append(
            {
                "rule": str(f.get("rule")),
                "severity": str(f.get("severity") or ""),
                "line": f.get("line"),
                "message": str(f.get("message") or ""),
                "suggestion": str(f.get("suggestion") or ""),
            }
        )
    return out


def _bad_findings(postmortem_id: str, why: str) -> dict[str, object]:
    return {
        "rule": "unreadable-findings",
        "severity": "error",
        "line": None,
        "message": f"{postmortem_id}: {why}",
        "suggestion": "Rebuild the warehouse with `followthrough build`.",
    }


def with_check_labels(summary: pd.DataFrame) -> pd.DataFrame:
    """Rows of marts.checklist_compliance_summary in checklist order, with readable names."""
    out = summary.sort_values(["phase_order", "check_id"], ignore_index=True)
    return out.assign(check=out["check_id"].map(check_label))


def checklist_long(summary: pd.DataFrame) -> pd.DataFrame:
    """Summary in long form for stacked bars, results in a fixed order."""
    long = summary[["phase", "check_id", "check", *RESULTS]].melt(
        id_vars=["phase", "check_id", "check"],
        value_vars=list(RESULTS),
        var_name="result",
        value_name="postmortems",
    )
    long["result_label"] = long["result"].map(RESULT_LABELS)
    long["_order"] = long["result"].map(RESULTS.index)
    return long[long["postmortems"] > 0]


def team_pass_rates(team: pd.DataFrame) -> pd.DataFrame:
    """Team × check pass rates (team rows of marts.checklist_compliance_summary), for a heat map.

    A cell with nothing judged (all unknown) keeps a NULL rate and says "unknown", so it is
    drawn grey, not as 0 % or 100 %.
    """
    out = team.copy()
    out["check"] = out["check_id"].map(check_label)
    out["label"] = [
        f"{p}/{j}" if j else ("unknown" if u else "n/a")
        for p, j, u in zip(out["passed"], out["judged"], out["unknown"], strict=True)
    ]
    return out
