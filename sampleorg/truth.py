"""Ground truth: what was planted, in the terms the pipeline's outputs are checked against."""

from __future__ import annotations

from typing import Any

from sampleorg.ci import CiResult, PatternPlan
from sampleorg.incidents import IncidentPlan
from sampleorg.org import NOW_TS, sprint_number
from sampleorg.postmortems import ActionItemPlan, PostmortemPlan, headings
from sampleorg.tickets import Target, Ticket
from sampleorg.writer import day_str, iso_z

DEFINITIONS = {
    "as_of": "All staleness is evaluated at `as_of` (the end of the sample window).",
    "identified_at": "Review meeting time when the document states one, else the document "
                     "date at 00:00 UTC (docs/postmortem conventions).",
    "owner": "The ticket's current assignee when ticketed and assigned, else the owner written "
             "in the document, else null.",
    "target": "`sprint`/`due` are the ticket's current commitment when it has one, else the "
              "document's; `target_end` is the sprint end or the day after the due date.",
    "has_verification": "The item carries its own verification text, or the document has a "
                        "verification section.",
    "completed_at": "Resolution time of the linked ticket (Done), else null.",
    "stale": "Only open (not completed) items are stale; stale = any reason applies.",
    "no_ticket_24h": "No ticket, or the ticket was created more than 24 h after identified_at.",
    "no_owner": "owner is null.",
    "no_target_sprint": "Neither a sprint/cycle nor a due date (ticket or document).",
    "ticket_open_past_sprint": "Ticketed, still open, and target_end < as_of.",
    "no_activity_30d": "Ticketed, still open, and the ticket's last activity (creation, "
                       "changelog, comment) is more than 30 days before as_of.",
    "p1_past_30d_unjustified": "Priority P1, open more than 30 days after identified_at, and no "
                               "ticket comment justifying a reschedule.",
    "verification_missing": "has_verification is false.",
    "delay_hours": "ticket_created_at - identified_at in hours.",
}


def _target(it: ActionItemPlan) -> Target:
    tk = it.ticket
    if tk is not None:
        cur = tk.current_target()
        if cur.sprint is not None or cur.due is not None:
            return cur
    return it.doc_target


def action_item_truth(pm: PostmortemPlan, it: ActionItemPlan) -> dict[str, Any]:
    ident = pm.identified_at
    tk = it.ticket
    completed = (tk.completed_at if tk is not None and tk.completed_at is not None
                 and tk.completed_at <= NOW_TS and not tk.wont_do else None)
    owner = (tk.current_assignee() if tk is not None else None) or it.owner
    target = _target(it)
    has_verification = bool(it.verification) or pm.verification_mode == "section"
    reasons: list[str] = []
    if completed is None:
        if tk is None or tk.created - ident > 24 * 3600:
            reasons.append("no_ticket_24h")
        if owner is None:
            reasons.append("no_owner")
        if target.sprint is None and target.due is None:
            reasons.append("no_target_sprint")
        end = target.end()
        if tk is not None and end is not None and end < NOW_TS:
            reasons.append("ticket_open_past_sprint")
        if tk is not None and NOW_TS - tk.last_activity() > 30 * 86400:
            reasons.append("no_activity_30d")
        if it.priority == "P1" and NOW_TS - ident > 30 * 86400 and not (
                tk is not None and tk.justified()):
            reasons.append("p1_past_30d_unjustified")
        if not has_verification:
            reasons.append("verification_missing")
    sprint_name = None
    if target.sprint is not None:
        s = sprint_number(target.sprint)
        sprint_name = (s.jira_name(pm.team.project_key) if pm.team.tracker == "jira"
                       else s.linear_name())
    end = target.end()
    return {
        "action_item_id": f"{pm.pm_id}#{it.ordinal}",
        "postmortem_id": pm.pm_id,
        "ordinal": it.ordinal,
        "text": it.text,
        "identified_at": iso_z(ident),
        "ticket_key": tk.key if tk is not None else None,
        "ticket_provider": tk.team.tracker if tk is not None else None,
        "ticket_created_at": iso_z(tk.created) if tk is not None else None,
        "delay_hours": round((tk.created - ident) / 3600, 3) if tk is not None else None,
        "link_kind": it.link_kind,
        "owner": owner.name if owner is not None else None,
        "owner_in_doc": it.owner.name if it.owner is not None else None,
        "due": day_str(target.due) if target.due is not None else None,
        "sprint": sprint_name,
        "target_end": iso_z(end) if end is not None else None,
        "has_verification": has_verification,
        "verification": it.verification,
        "priority": it.priority,
        "priority_in_doc": it.priority_in_doc,
        "completed_at": iso_z(completed) if completed is not None else None,
        "rescheduled": bool(tk is not None and tk.reschedules),
        "rescheduled_with_justification": bool(tk is not None and tk.justified()),
        "stale": bool(reasons),
        "stale_reasons": reasons,
        "pattern_id": it.pattern_id,
    }


def postmortem_truth(pm: PostmortemPlan) -> dict[str, Any]:
    hd = headings(pm)
    return {
        "postmortem_id": pm.pm_id,
        "path": pm.path,
        "incident_id": pm.incident.pd_id,
        "incident_number": pm.incident.number,
        "incident_url": pm.incident.html_url,
        "format": pm.fmt,
        "style": pm.style,
        "style_tags": _style_tags(pm),
        "title": pm.title,
        "date": day_str(pm.date_ts),
        "meeting_at": iso_z(pm.meeting_ts) if pm.meeting_ts is not None else None,
        "identified_at": iso_z(pm.identified_at),
        "authors": [a.name for a in pm.authors],
        "parts": {k: {"present": v is not None, "heading": v} for k, v in hd.items()},
        "verification_mode": pm.verification_mode,
        "verification_criteria": pm.criteria,
        "contributing_conditions": (len(pm.conditions) + (1 if len(pm.blame) > 1 else 0)
                                    + (1 if pm.style == "google" else 0)
                                    if hd["contributing_conditions"] else 0),
        "timeline_entries": len(pm.timeline) if hd["timeline"] else 0,
        "impact_duration_minutes": pm.impact_minutes if hd["impact"] else None,
        "affected_users": pm.users if hd["impact"] else None,
        "severity": pm.severity,
        "action_items": len(pm.items),
        "blameless": not pm.blame,
        "blame_sentences": pm.blame,
        "ci_refs": pm.ci_refs,
        "pattern_refs": pm.pattern_refs,
    }


def _style_tags(pm: PostmortemPlan) -> list[str]:
    tags = [pm.style, pm.fmt]
    if pm.style == "pagerduty":
        tags.append("pagerduty_template")
    if pm.meeting_ts is None:
        tags.append("no_meeting_time")
    if pm.verification_mode == "none":
        tags.append("no_verification")
    if pm.blame:
        tags.append("blame")
    return tags


def pattern_truth(p: PatternPlan, ci: CiResult, fix: Ticket | None, tickets: list[Ticket],
                  pms: list[PostmortemPlan]) -> dict[str, Any]:
    occ = ci.occurrences[p.pdef.pattern_id]
    fix_closed = (fix.completed_at if fix is not None and fix.completed_at is not None
                  and fix.completed_at <= NOW_TS else None)
    pm_ids = sorted(pm.pm_id for pm in pms if p.pdef.pattern_id in pm.pattern_refs)
    return {
        "pattern_id": p.pdef.pattern_id,
        "title": p.pdef.title,
        "toolchains": list(p.pdef.toolchains),
        "job_kind": p.pdef.kind,
        "repos": sorted({o.repo for o in occ}),
        "fix_kind": p.fix_kind,
        "occurrences": len(occ),
        "job_ids": [o.job_id for o in occ],
        "first_seen": iso_z(occ[0].ts) if occ else None,
        "last_seen": iso_z(occ[-1].ts) if occ else None,
        "example_headline": occ[0].headline if occ else None,
        "ticket_keys": [t.key for t in tickets],
        "fix_ticket_key": fix.key if fix is not None else None,
        "fix_closed_at": iso_z(fix_closed) if fix_closed is not None else None,
        "recurred_after_fix": bool(fix_closed is not None and any(o.ts > fix_closed
                                                                  for o in occ)),
        "occurrences_after_fix": (sum(1 for o in occ if o.ts > fix_closed)
                                  if fix_closed is not None else 0),
        "postmortem_ids": pm_ids,
    }


def deploy_truth(incidents: list[IncidentPlan], ci: CiResult) -> dict[str, Any]:
    caused = []
    for inc in incidents:
        d = inc.deploy
        if d is None or d.deployment_id is None or d.failed_at is None:
            continue
        caused.append({
            "incident_id": inc.pd_id, "incident_number": inc.number,
            "incident_created_at": iso_z(inc.created), "service": inc.service.name,
            "repo": f"acme/{d.repo}", "deployment_id": d.deployment_id,
            "deployment_url": d.deployment_url, "run_id": d.run_id,
            "run_html_url": d.run_html_url, "job_id": d.job_id, "sha": d.sha,
            "deploy_failed_at": iso_z(d.failed_at),
            "minutes_after_failure": round((inc.created - d.failed_at) / 60, 2)})
    return {"caused_incidents": caused,
            "failed_without_incident": ci.failed_prod_deploys}
