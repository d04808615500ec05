"""The top of the draft: title and metadata, the free-text sections the authors write, and the
Impact part, which PagerDuty's times fill in almost entirely."""

from __future__ import annotations

import math

from ..model import PART_LABELS
from .evidence import incident_label
from .records import DraftInput
from .text import TBD, link, md, minutes, safe_text, stamp, utc


def _pagerduty(d: DraftInput) -> bool:
    """The draft is about a PagerDuty incident, not an incident ticket followthrough opened for a
    failed deploy (whose 'priority' is the severity its rule set)."""
    return d.incident.provider == "pagerduty"


def header(d: DraftInput) -> list[str]:
    inc = d.incident
    pd = _pagerduty(d)
    title = safe_text(inc.title, f"PagerDuty incident {incident_label(inc)}", 160)
    ref = [inc.incident_id]
    if inc.number is not None:
        ref.append(f"PagerDuty #{inc.number}")
    if inc.url:
        ref.append(link("open in PagerDuty" if pd else "open the run", inc.url))
    severity = md(inc.priority, 20) if inc.priority else TBD
    sev_note = "PagerDuty priority" if inc.priority else "no PagerDuty priority recorded"
    if not pd:
        sev_note = "set by followthrough's severity rule; confirm in the meeting"
    if inc.urgency:
        sev_note += f"; urgency {md(inc.urgency, 20)}"
    return [
        f"# Postmortem: {title}",
        "",
        "**Status:** Draft",
        "",
        f"**Date:** {utc(inc.created_at).date().isoformat()}",
        "",
        f"**Incident:** {' · '.join(ref)}",
        "",
        f"**Service:** {md(inc.service, 80) if inc.service else TBD}",
        "",
        f"**Owning team:** {md(inc.team, 80) if inc.team else TBD}",
        "",
        f"**Severity:** {severity} ({sev_note})",
        "",
        f"**Authors:** {TBD}",
        "",
        f"**Review meeting:** {TBD}",
        "",
        f"> Drafted by `followthrough draft` from the warehouse: CI, deployments, tickets and "
        f"PagerDuty from {stamp(d.window_start)} to {stamp(d.window_end)}. Everything marked "
        f"{TBD} is for the authors and the review meeting; check every pre-filled line before "
        "the meeting.",
        "",
    ]


def summary_sections() -> list[str]:
    return [
        "## Summary",
        "",
        f"{TBD} — one or two sentences: what happened, for how long, and who was affected.",
        "",
        "## Resolution",
        "",
        f"{TBD} — what restored service, and whether a temporary fix is still in place.",
        "",
        "## Responders",
        "",
        f"- Incident commander: {TBD}",
        f"- Scribe: {TBD}",
        f"- Also involved: {TBD}",
        "",
    ]


def _duration_lines(d: DraftInput) -> list[str]:
    """End and duration from PagerDuty; left to the authors when the incident is not resolved."""
    inc = d.incident
    if inc.resolved_at is None:
        where = "in the PagerDuty data" if _pagerduty(d) else "yet: no PagerDuty incident linked"
        return [f"- End: {TBD} (not resolved {where})", f"- Duration: {TBD}"]
    lines = [f"- End: {stamp(inc.resolved_at)} (PagerDuty incident resolved)"]
    mins = inc.duration_min
    if mins is None or not math.isfinite(mins):
        mins = minutes(inc.created_at, inc.resolved_at)
    n = max(1, round(mins))
    lines.append(f"- Duration: {n} minute{'s' if n != 1 else ''}")
    return lines


def impact_section(d: DraftInput) -> list[str]:
    inc = d.incident
    lines = [f"## {PART_LABELS['impact']}", ""]
    began = "PagerDuty incident created" if _pagerduty(d) else "the failed production deploy"
    lines.append(f"- Start: {stamp(inc.created_at)} ({began})")
    lines += _duration_lines(d)
    lines.append(f"- Service: {md(inc.service, 80) if inc.service else TBD}")
    sev = md(inc.priority, 20) if inc.priority else TBD
    urgency = f", urgency {md(inc.urgency, 20)}" if inc.urgency else ""
    sev_from = "PagerDuty priority" if _pagerduty(d) else "followthrough severity rule"
    lines.append(f"- Severity: {sev} ({sev_from}{urgency})")
    lines.append(f"- Users affected: {TBD}")
    lines.append(f"- Cost: {TBD} (engineering hours, credits, lost revenue)")
    lines.append("")
    return lines
