"""Lint rules for postmortems. Rule ids are stable; docs/postmortems.md documents each one."""

from __future__ import annotations

from .blame import find_blame
from .model import PART_LABELS, PARTS, ActionItem, Finding, Postmortem

# rule id -> (severity, one-line description)
RULES: dict[str, tuple[str, str]] = {
    "empty-document": ("error", "The document has no content."),
    "document-truncated": (
        "warning",
        "The document exceeds the size limit; only the start was read.",
    ),
    "missing-timeline": ("error", "No timeline section."),
    "missing-contributing-conditions": (
        "error",
        "No contributing conditions / root causes section.",
    ),
    "missing-impact": ("error", "No impact section."),
    "missing-action-items": ("error", "No action items section."),
    "missing-verification": ("error", "No verification / success criteria section."),
    "empty-section": (
        "error",
        "A canonical section is present but has no content (or only template placeholders).",
    ),
    "conditions-count": ("warning", "Fewer than 3 or more than 7 contributing conditions."),
    "timeline-no-times": ("warning", "The timeline has entries but none carries a time."),
    "action-item-no-owner": ("error", "An action item has no owner."),
    "action-item-no-ticket": ("error", "An action item has no ticket reference."),
    "action-item-no-due": ("warning", "An open action item has no due date or target sprint."),
    "action-item-no-verification": ("warning", "An action item has no verification criterion."),
    "criterion-not-checkable": (
        "warning",
        "A verification criterion cannot be checked automatically.",
    ),
    "impact-no-duration": (
        "info",
        "No impact duration could be found (stated or from the timeline).",
    ),
    "blame-language": ("error", "Blame language: a person named as the cause, or judgement words."),
}
MIN_CONDITIONS = 3
MAX_CONDITIONS = 7


def _f(rule: str, line: int | None, message: str, suggestion: str | None = None) -> Finding:
    return Finding(rule, RULES[rule][0], line, message, suggestion)


def lint(pm: Postmortem) -> list[Finding]:
    """Every finding for one document, by line then rule (document-level findings first)."""
    if _is_empty(pm):
        return [
            _f(
                "empty-document",
                None,
                "document is empty",
                "Start from the postmortem template (docs/postmortems.md).",
            )
        ]
    findings = [
        *_truncation(pm),
        *_missing_parts(pm),
        *_empty_parts(pm),
        *_conditions_count(pm),
        *_timeline_times(pm),
        *_impact_duration(pm),
        *_action_items(pm),
        *_criteria(pm),
        *_blame(pm),
    ]
    findings.sort(key=lambda f: (f.line if f.line is not None else 0, f.rule))
    return findings


def _is_empty(pm: Postmortem) -> bool:
    blank = pm.line_count == 0 or not any(text.strip() for _, text in pm.prose)
    return blank and not any(s.present for s in pm.sections.values())


def _present(pm: Postmortem) -> set[str]:
    return {p for p, s in pm.sections.items() if s.present}


def _truncation(pm: Postmortem) -> list[Finding]:
    if not pm.truncated:
        return []
    return [
        _f(
            "document-truncated",
            None,
            "document is larger than the parser's limit; only its start was read",
            "Split attachments and logs out of the postmortem and link them.",
        )
    ]


def _missing_parts(pm: Postmortem) -> list[Finding]:
    out: list[Finding] = []
    for part in PARTS:
        sec = pm.sections.get(part)
        label = PART_LABELS[part]
        if sec is None or not sec.present:
            out.append(
                _f(
                    f"missing-{part.replace('_', '-')}",
                    None,
                    f"missing section: {label}",
                    f'Add a "## {label}" section.',
                )
            )
    return out


def _empty_parts(pm: Postmortem) -> list[Finding]:
    """Parts with a heading but nothing the parser could read under it (placeholders only)."""
    present = _present(pm)
    empties = {
        "timeline": not pm.timeline,
        "contributing_conditions": not pm.contributing_conditions,
        "impact": pm.impact.text is None and pm.impact.duration_minutes is None,
        "action_items": not pm.action_items,
        "verification": not any(c.source == "section" for c in pm.verification_criteria),
    }
    out: list[Finding] = []
    for part in PARTS:
        if part in present and empties[part]:
            sec = pm.sections[part]
            out.append(
                _f(
                    "empty-section",
                    sec.line,
                    f'section "{sec.heading}" ({PART_LABELS[part]}) has no content',
                    "Fill it in, or remove the template placeholder text.",
                )
            )
    return out


def _conditions_count(pm: Postmortem) -> list[Finding]:
    n = len(pm.contributing_conditions)
    if "contributing_conditions" not in _present(pm) or not n or MIN_CONDITIONS <= n <= MAX_CONDITIONS:
        return []
    sec = pm.sections["contributing_conditions"]
    return [
        _f(
            "conditions-count",
            sec.line,
            f"{n} contributing condition{'s' if n != 1 else ''} listed; expected "
            f"{MIN_CONDITIONS}-{MAX_CONDITIONS}",
            "Incidents rarely have a single cause: list the conditions that had to hold together."
            if n < MIN_CONDITIONS
            else "Group related conditions; keep the ones that action items address.",
        )
    ]


def _timeline_times(pm: Postmortem) -> list[Finding]:
    if not pm.timeline or any(e.at or e.clock for e in pm.timeline):
        return []
    return [
        _f(
            "timeline-no-times",
            pm.sections["timeline"].line,
            "timeline entries carry no times",
            'Prefix each entry with a time, e.g. "14:02 UTC — deploy starts".',
        )
    ]


def _impact_duration(pm: Postmortem) -> list[Finding]:
    if "impact" not in _present(pm) or pm.impact.duration_minutes is not None:
        return []
    return [
        _f(
            "impact-no-duration",
            pm.sections["impact"].line,
            "impact duration not stated and not derivable from the timeline",
            'State it ("47 minutes") or mark OUTAGE BEGINS / OUTAGE ENDS in the timeline.',
        )
    ]


def _action_items(pm: Postmortem) -> list[Finding]:
    # An item whose ticket a Verification criterion names is verified there.
    section_text = " ".join(c.text for c in pm.verification_criteria if c.source == "section")
    out: list[Finding] = []
    for item in pm.action_items:
        out += _action_item(item, section_text)
    return out


def _action_item(item: ActionItem, section_text: str) -> list[Finding]:
    """Owner, ticket, due date and verification of one action item."""
    short = item.text if len(item.text) <= 60 else item.text[:57] + "..."
    ref = f'action item #{item.ordinal} "{short}"'
    out: list[Finding] = []
    if not item.owner:
        out.append(
            _f(
                "action-item-no-owner",
                item.line,
                f"{ref} has no owner",
                "Add an owner, e.g. (owner: @handle).",
            )
        )
    if not item.ticket:
        out.append(
            _f(
                "action-item-no-ticket",
                item.line,
                f"{ref} has no ticket",
                "File a ticket and reference its key, e.g. PAY-412.",
            )
        )
    if item.due is None and item.sprint is None and item.status not in ("done", "cancelled"):
        out.append(
            _f(
                "action-item-no-due",
                item.line,
                f"{ref} has no due date or sprint",
                "Add a target, e.g. (due 2025-04-01) or (sprint 2025-S07).",
            )
        )
    if not item.verification and not (item.ticket and item.ticket in section_text):
        out.append(
            _f(
                "action-item-no-verification",
                item.line,
                f"{ref} has no verification criterion",
                'Say how we will know it worked, e.g. "verify: CI pass rate on '
                'payments tests > 95% for 30 days".',
            )
        )
    return out


def _criteria(pm: Postmortem) -> list[Finding]:
    return [
        _f(
            "criterion-not-checkable",
            c.line,
            f'verification criterion is not checkable: "{c.text[:80]}"',
            "Name a metric, a scope, a threshold and a window, e.g. "
            '"error rate on checkout-api < 0.5% for 30 days".',
        )
        for c in pm.verification_criteria
        if not c.checkable
    ]


def _blame(pm: Postmortem) -> list[Finding]:
    return [
        _f("blame-language", hit.line, f'blame language ("{hit.phrase}"): "{hit.sentence}"', hit.suggestion)
        for hit in find_blame(pm.prose, pm.names)
    ]
