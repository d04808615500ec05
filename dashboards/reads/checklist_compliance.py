"""Postmortem quality: checklist compliance, lint findings, missing parts, verification checks.

An `unknown` checklist result means the data cannot show the step happened. It is counted and
drawn as unknown and never folded into "passed": a pass rate here is passed / (passed + failed).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from dashboards.formatting import NO_TEAM
from dashboards.reads.connection import query

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
MISSING_PART_RULES = {f"missing-{p.replace('_', '-')}": p for p in PARTS}


def check_label(check_id: str) -> str:
    return CHECK_LABELS.get(check_id, check_id.replace("_", " "))


def phase_rank(phase: str) -> int:
    return PHASES.index(phase) if phase in PHASES else len(PHASES)


def load_checklist(path: Path) -> pd.DataFrame:
    """marts.checklist_compliance: one row per postmortem and checklist item."""
    df = query(
        path,
        "SELECT postmortem_id, team, service, incident_id, phase, check_id, result, detail"
        " FROM marts.checklist_compliance ORDER BY postmortem_id, phase, check_id",
        "marts.checklist_compliance",
    )
    df["team"] = df["team"].fillna(NO_TEAM)
    return df


def load_checklist_team(path: Path) -> pd.DataFrame:
    """marts.checklist_compliance_team: per team, phase and check."""
    df = query(
        path,
        "SELECT team, phase, check_id, postmortems, passed, failed, unknown, pending,"
        " not_applicable, pass_rate FROM marts.checklist_compliance_team"
        " ORDER BY team, phase, check_id",
        "marts.checklist_compliance_team",
    )
    df["team"] = df["team"].fillna(NO_TEAM)
    return df


def load_postmortems(path: Path) -> pd.DataFrame:
    """core.postmortems with lint counts, the parts present, and the findings parsed."""
    df = query(
        path,
        "SELECT postmortem_id, title, team, service, incident_id, identified_at,"
        " parts_present, lint_errors, lint_warnings, CAST(findings AS VARCHAR) AS findings"
        " FROM core.postmortems ORDER BY identified_at NULLS LAST, postmortem_id",
        "core.postmortems",
    )
    df["identified_at"] = pd.to_datetime(df["identified_at"], utc=True)
    df["team"] = df["team"].fillna(NO_TEAM)
    df["parts_present"] = df["parts_present"].map(_as_list)
    df["findings"] = [
        parse_findings(f, pid) for f, pid in zip(df["findings"], df["postmortem_id"], strict=True)
    ]
    df["missing_parts"] = df["parts_present"].map(lambda p: [x for x in PARTS if x not in p])
    df["blame_findings"] = df["findings"].map(lambda fs: sum(f["rule"] == BLAME_RULE for f in fs))
    return df


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


def checklist_summary(checklist: pd.DataFrame) -> pd.DataFrame:
    """Per check: how many postmortems passed, failed, unknown, pending, not applicable.

    pass_rate = passed / (passed + failed); NULL when nothing could be judged.
    """
    if checklist.empty:
        return pd.DataFrame(
            columns=["phase", "check_id", "check", "postmortems", *RESULTS, "pass_rate"]
        )
    counts = (
        checklist.pivot_table(
            index=["phase", "check_id"], columns="result", values="postmortem_id", aggfunc="count"
        )
        .reindex(columns=list(RESULTS))
        .fillna(0)
        .astype(int)
        .reset_index()
    )
    counts.columns.name = None
    counts["postmortems"] = counts[list(RESULTS)].sum(axis=1)
    judged = counts["passed"] + counts["failed"]
    counts["pass_rate"] = counts["passed"] / judged.where(judged > 0)
    counts["check"] = counts["check_id"].map(check_label)
    counts["_phase"] = counts["phase"].map(phase_rank)
    counts = counts.sort_values(["_phase", "check_id"], ignore_index=True).drop(columns="_phase")
    return counts[["phase", "check_id", "check", "postmortems", *RESULTS, "pass_rate"]]


def checklist_long(summary: pd.DataFrame) -> pd.DataFrame:
    """Summary in long form for stacked bars, results in a fixed order."""
    long = summary.drop(columns=["postmortems"]).melt(
        id_vars=["phase", "check_id", "check"],
        value_vars=list(RESULTS),
        var_name="result",
        value_name="postmortems",
    )
    long["result_label"] = long["result"].map(RESULT_LABELS)
    long["_order"] = long["result"].map(RESULTS.index)
    return long[long["postmortems"] > 0]


def team_pass_rates(team: pd.DataFrame) -> pd.DataFrame:
    """Team × check pass rates from marts.checklist_compliance_team, for a heat map.

    A cell with nothing judged (all unknown) keeps a NULL rate and says "unknown", so it is
    drawn grey, not as 0 % or 100 %.
    """
    out = team.copy()
    out["check"] = out["check_id"].map(check_label)
    out["label"] = [
        f"{p}/{p + f}" if p + f else ("unknown" if u else "n/a")
        for p, f, u in zip(out["passed"], out["failed"], out["unknown"], strict=True)
    ]
    return out


def missing_parts(postmortems: pd.DataFrame) -> pd.DataFrame:
    """Postmortems missing each of the five parts, most often missing first."""
    rows = [
        {
            "part": part,
            "part_label": PART_LABELS[part],
            "missing": int(postmortems["missing_parts"].map(lambda m, p=part: p in m).sum()),
        }
        for part in PARTS
    ]
    return pd.DataFrame(rows).sort_values(["missing", "part"], ascending=[False, True], ignore_index=True)


def findings_table(postmortems: pd.DataFrame) -> pd.DataFrame:
    """One row per finding, with its postmortem."""
    rows = [
        {"postmortem_id": pid, "team": team, **f}
        for pid, team, fs in zip(
            postmortems["postmortem_id"], postmortems["team"], postmortems["findings"], strict=True
        )
        for f in fs
    ]
    cols = ["postmortem_id", "team", "rule", "severity", "line", "message", "suggestion"]
    return pd.DataFrame(rows, columns=cols)


def rule_counts(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings per rule and severity, with how many postmortems each touches."""
    if findings.empty:
        return pd.DataFrame(columns=["rule", "severity", "findings", "postmortems"])
    return (
        findings.groupby(["rule", "severity"])
        .agg(findings=("postmortem_id", "size"), postmortems=("postmortem_id", "nunique"))
        .reset_index()
        .sort_values(["findings", "rule"], ascending=[False, True], ignore_index=True)
    )


def verification_counts(checks: pd.DataFrame) -> dict[str, int]:
    """Criteria per result, every known result present (0 when absent); others kept as-is."""
    counts = {r: 0 for r in VERIFICATION_RESULTS}
    for result, n in checks["result"].value_counts().items():
        counts[str(result)] = int(n)
    return counts


def postmortem_table(postmortems: pd.DataFrame, checklist: pd.DataFrame | None) -> pd.DataFrame:
    """Per postmortem: lint counts, missing parts, blame findings and checklist outcomes."""
    out = postmortems[
        ["postmortem_id", "title", "team", "identified_at", "lint_errors", "lint_warnings"]
    ].copy()
    out["missing_parts"] = postmortems["missing_parts"].map(
        lambda m: ", ".join(PART_LABELS[p] for p in m)
    )
    out["blame_findings"] = postmortems["blame_findings"]
    if checklist is not None and not checklist.empty:
        per = (
            checklist.pivot_table(
                index="postmortem_id", columns="result", values="check_id", aggfunc="count"
            )
            .reindex(columns=list(RESULTS))
            .fillna(0)
            .astype(int)
        )
        out = out.merge(
            per[["passed", "failed", "unknown"]].add_prefix("checks_"),
            left_on="postmortem_id",
            right_index=True,
            how="left",
        )
    return out
