"""Postmortem documents and their action items, written in the styles real teams use.

Planning (who owns what, which ticket, when) is separated from rendering so the ground truth
is computed from the same plan the documents and tickets are rendered from.
"""

from __future__ import annotations

import html
import random
import re
from dataclasses import dataclass, field

from sampleorg.ci import Occurrence, PatternPlan
from sampleorg.incidents import IncidentPlan
from sampleorg.org import NOW_TS, START_TS, Org, Person, Team, rng_for, sprint_at
from sampleorg.tickets import Target, Ticket, lifecycle
from sampleorg.writer import day_str, from_epoch, iso_z

STYLES = ("pagerduty", "google", "frontmatter", "bold_labels", "bullet_labels", "table_meta",
          "confluence_html")
STYLE_WEIGHTS = (18, 17, 17, 14, 12, 12, 10)


@dataclass
class ActionItemPlan:
    ordinal: int
    text: str
    owner: Person | None  # as written in the document
    priority: str  # P1..P4 (always the ticket's priority)
    priority_in_doc: bool
    doc_target: Target
    verification: str | None
    ticket: Ticket | None
    link_kind: str | None
    delay_h: float | None
    pattern_id: str | None = None


@dataclass
class PostmortemPlan:
    pm_id: str
    incident: IncidentPlan
    team: Team
    style: str
    fmt: str
    date_ts: float
    meeting_ts: float | None
    authors: list[Person]
    title: str
    summary: str
    timeline: list[tuple[float, str]]
    conditions: list[str]
    impact_minutes: int | None
    users: int
    severity: str
    parts: dict[str, bool]
    verification_mode: str  # section | items | none
    criteria: list[str]
    blame: list[str]
    items: list[ActionItemPlan] = field(default_factory=list)
    pattern_refs: dict[str, list[str]] = field(default_factory=dict)  # pattern -> ref kinds
    ci_refs: list[str] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"postmortems/{self.pm_id}.{'html' if self.fmt == 'html' else 'md'}"

    @property
    def identified_at(self) -> float:
        return self.meeting_ts if self.meeting_ts is not None else self.date_ts


# ---------------------------------------------------------------- content pools

_CONDITIONS = (
    "The {svc} connection pool was sized for last year's traffic (max 20 connections).",
    "Retries in the {svc} client had no budget, so a slow dependency turned into a retry storm.",
    "The alert on {svc} error rate had a 15 minute evaluation window, delaying detection.",
    "The runbook for {svc} still referenced the old cluster and had to be worked around.",
    "A schema migration took an ACCESS EXCLUSIVE lock on a hot table during peak hours.",
    "Canary analysis only compared latency, not error rate, so the bad build passed.",
    "The dashboard used by on-call aggregated all regions and hid the single-region failure.",
    "The flaky test in {repo} had been failing intermittently for weeks and was routinely "
    "re-run, which hid a real regression.",
    "Feature flag defaults differed between staging and production.",
    "Autoscaling was capped at 12 replicas by an old HPA setting.",
    "Health checks passed while the process could not reach its database.",
    "The deploy pipeline did not halt automatically on elevated 5xx after rollout.",
    "Ownership of the {svc} cron jobs was unclear after the team reorganisation.",
    "A certificate rotation job failed silently; its failure was not alerted on.",
    "Log volume from {svc} saturated the node disk and evicted pods.",
    "The cache TTL change removed the buffer that protected the database from thundering herd.",
)
_ACTIONS = (
    ("Add a retry budget to the {svc} HTTP client", "infra"),
    ("Alert on {svc} 5xx error rate over 5 minutes instead of 15", "alerting"),
    ("Update the {svc} runbook with the new cluster failover steps", "docs"),
    ("Run schema migrations for {svc} with lock_timeout and off-peak only", "process"),
    ("Include error rate in canary analysis for {svc}", "deploy"),
    ("Add per-region panels to the {svc} on-call dashboard", "observability"),
    ("Fix or quarantine the flaky test in {repo}", "ci"),
    ("Align feature flag defaults between staging and production", "config"),
    ("Raise the HPA max replicas for {svc} and load test to 2x peak", "capacity"),
    ("Make the {svc} readiness probe check database connectivity", "infra"),
    ("Auto-rollback {svc} deploys when 5xx > 2% for 3 minutes", "deploy"),
    ("Assign an owning team for the {svc} cron jobs", "process"),
    ("Alert when certificate rotation fails", "alerting"),
    ("Cap {svc} log volume and move debug logs behind a flag", "observability"),
    ("Add request coalescing in front of the {svc} cache", "infra"),
    ("Write a game day scenario for {svc} dependency failure", "process"),
    ("Add a synthetic check for the {svc} critical path", "observability"),
    ("Document the incident commander hand-off procedure", "docs"),
    ("Increase the {svc} connection pool and add a saturation alert", "capacity"),
    ("Send the customer-facing summary to affected accounts", "comms"),
)
_CHECKABLE = (
    "CI pass rate of the {repo} test suite > 95% over 30 days",
    "p99 latency of {svc} < 400 ms over 14 days",
    "{svc} 5xx error rate < 0.1% over 30 days",
    "Zero pages for {svc} connection pool exhaustion over 60 days",
    "Time to detect for {svc} error-rate incidents < 5 minutes in the next game day",
    "Failed deploys of {svc} rolled back automatically within 5 minutes (100% over 30 days)",
    "Flaky test reruns in {repo} < 2 per week over 4 weeks",
)
_VAGUE = (
    "better tests", "fewer incidents like this", "monitoring is improved", "team feels more "
    "confident about deploys", "runbook is up to date", "should not happen again",
    "improved reliability",
)
_BLAME = (
    "This outage was caused by human error: {name} ran the migration against production "
    "instead of staging.",
    "{first} should have known that the feature flag was still enabled for every tenant.",
    "The root cause was a careless change by {first} that skipped code review.",
    "{name} ignored the failing CI check and merged anyway.",
    "Frankly, {first} was negligent in not double-checking the config before deploying.",
    "If {first} had followed the runbook, none of this would have happened.",
)
_LESSONS = (
    "Rolling back quickly limited the blast radius.", "Paging worked as intended once the "
    "alert fired.", "We lacked a single place to see per-region health.",
    "Communication in the incident channel was clear and timely.",
)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48].rstrip("-")


def _hm(ts: float) -> str:
    return iso_z(ts)[11:16]


def _dt(ts: float) -> str:
    return f"{day_str(ts)} {_hm(ts)}"


def _delay_hours(rng: random.Random) -> float | None:
    r = rng.random()
    if r < 0.12:
        return None
    if r < 0.28:
        return rng.uniform(0.15, 9)
    if r < 0.82:
        return rng.lognormvariate(4.15, 0.55)  # median ~63 h (2.6 days)
    return rng.uniform(4.4, 45) * 24


# ---------------------------------------------------------------- planning


def plan_postmortems(org: Org, incidents: list[IncidentPlan], seed: int,
                     occurrences: dict[str, list[Occurrence]]) -> tuple[list[PostmortemPlan],
                                                                        list[Ticket]]:
    """Plan every postmortem and the tickets created for its action items."""
    plans: list[PostmortemPlan] = []
    tickets: list[Ticket] = []
    used_ids: set[str] = set()
    for inc in incidents:
        if not inc.postmortem or inc.resolved is None:
            continue
        rng = rng_for(seed, "pm", inc.pd_id)
        team = org.team(inc.service.team_key)
        repo = org.repo(inc.service.repo)
        style = rng.choices(STYLES, weights=STYLE_WEIGHTS)[0]
        fmt = "html" if style == "confluence_html" else "markdown"
        written = inc.resolved + rng.uniform(0.6, 5) * 86400
        date_ts = written - written % 86400
        meeting_ts: float | None = None
        if rng.random() < 0.7:
            m_day = date_ts + rng.choice([0, 0, 1, 1, 2, 3]) * 86400
            meeting_ts = m_day + rng.choice([14, 15, 15.5, 16, 17]) * 3600
        if date_ts > NOW_TS - 86400 or (meeting_ts is not None and meeting_ts > NOW_TS):
            continue
        words = inc.service.name + " " + inc.title.replace(inc.service.name, "")
        pm_id = f"{day_str(date_ts)}-{_slug(words)}"
        while pm_id in used_ids:
            pm_id += "-2"
        used_ids.add(pm_id)
        sname = inc.service.name
        n_authors = rng.choice([1, 1, 2, 2, 3])
        authors = [inc.responder, *rng.sample(team.members, n_authors)]
        authors = list(dict.fromkeys(authors))[:n_authors]
        detect = rng.uniform(2, 20) * 60
        impact_start = inc.created - detect
        impact_minutes = round((inc.resolved - impact_start) / 60)
        severity = {"P1": "SEV-1", "P2": "SEV-2"}.get(inc.priority, "SEV-3")
        users = int(rng.lognormvariate(7.5 if inc.priority in ("P1", "P2") else 5.5, 1.2))
        # timeline
        tl: list[tuple[float, str]] = []
        if inc.deploy is not None and inc.deploy.run_html_url:
            tl.append((inc.deploy.deploy_at, f"Production deploy of {sname} "
                       f"{(inc.deploy.sha or '')[:7]} starts ({inc.deploy.run_html_url})."))
            tl.append((inc.deploy.failed_at or impact_start,
                       "Deploy job fails; rollout left half-finished."))
        tl.append((impact_start, f"Error rate on {sname} starts climbing."))
        tl.append((inc.created, f"PagerDuty alert fires: \"{inc.title}\" (#{inc.number})."))
        tl.append((inc.acknowledged, f"{inc.responder.name} acknowledges the page."))
        span = max(inc.resolved - inc.acknowledged, 120.0)
        step_pool = [
            "Incident channel opened; {ic} takes IC.", "Status page updated: investigating.",
            "Identified elevated connection errors in {svc} logs.", "Customer support notified.",
            "Rolled back to previous release.", "Scaled {svc} from 6 to 12 replicas.",
            "Failed over database reads to the replica.", "Disabled the offending feature flag.",
            "Restarted the stuck consumers.", "Confirmed recovery on dashboards."]
        picked = sorted(rng.sample(range(len(step_pool)), rng.randint(2, 7)))
        steps = [step_pool[i] for i in picked]
        for i, s in enumerate(steps):
            tl.append((inc.acknowledged + span * (i + 1) / (len(steps) + 1),
                       s.format(ic=rng.choice(team.members).name, svc=sname)))
        tl.append((inc.resolved, "Error rate back to baseline; incident resolved."))
        tl.sort(key=lambda e: e[0])
        # contributing conditions
        n_cond = rng.choices([1, 2, 3, 4, 5, 6, 7, 9], weights=[4, 8, 20, 22, 20, 12, 8, 3])[0]
        conds = [c.format(svc=sname, repo=repo.name) for c in
                 rng.sample(_CONDITIONS, min(n_cond, len(_CONDITIONS)))]
        pattern_refs: dict[str, list[str]] = {}
        ci_refs: list[str] = []
        pat = inc.pattern
        occ_before: Occurrence | None = None
        if pat is not None:
            occs = [o for o in occurrences.get(pat.pdef.pattern_id, []) if o.ts < inc.created]
            occs = occs or occurrences.get(pat.pdef.pattern_id, [])[:1]
            if occs:
                occ_before = occs[-1]
                kinds = rng.choice([["run_url"], ["sha"], ["run_url", "ticket_key"],
                                    ["ticket_key"], ["sha", "ticket_key"]])
                pattern_refs[pat.pdef.pattern_id] = kinds
                text = (f"CI job in {occ_before.repo} had been failing with `{occ_before.headline}`"
                        " and was re-run until green")
                if "run_url" in kinds:
                    text += f" (e.g. {occ_before.run_html_url})"
                    ci_refs.append(occ_before.run_html_url)
                if "sha" in kinds:
                    text += f"; the regression shipped in commit {occ_before.head_sha}"
                    ci_refs.append(occ_before.head_sha)
                conds.insert(0, text + ".")
        if inc.deploy is not None and inc.deploy.run_html_url:
            conds.insert(0, f"The production deploy ({inc.deploy.run_html_url}) failed mid-rollout "
                         "and left mixed versions serving traffic.")
            ci_refs.append(inc.deploy.run_html_url)
        blame: list[str] = []
        if rng.random() < 0.15:
            culprit = rng.choice(team.members)
            for s in rng.sample(_BLAME, rng.choice([1, 1, 2])):
                blame.append(s.format(name=culprit.name, first=culprit.first))
        parts = {"timeline": rng.random() < 0.92, "contributing_conditions": rng.random() < 0.95,
                 "impact": rng.random() < 0.9, "action_items": rng.random() < 0.97}
        vmode = rng.choices(["section", "items", "none"], weights=[45, 30, 25])[0]
        criteria = []
        if vmode == "section":
            criteria = [rng.choice(_CHECKABLE).format(svc=sname, repo=repo.name)
                        if rng.random() < 0.65 else rng.choice(_VAGUE)
                        for _ in range(rng.randint(1, 4))]
            criteria = list(dict.fromkeys(criteria))
        title = f"{inc.title}"
        summary = (f"On {day_str(inc.created)}, {sname} was degraded for {impact_minutes} minutes "
                   f"({severity}). {rng.choice(['Roughly', 'About', 'Approximately'])} "
                   f"{users:,} users saw errors or slow responses.")
        pm = PostmortemPlan(pm_id, inc, team, style, fmt, date_ts, meeting_ts, authors, title,
                            summary, tl, conds, impact_minutes if parts["impact"] else None,
                            users, severity, parts, vmode, criteria, blame,
                            pattern_refs=pattern_refs, ci_refs=ci_refs)
        if parts["action_items"]:
            _plan_items(pm, org, rng, repo.name, pat, occ_before, tickets)
        plans.append(pm)
    return plans, tickets


def _plan_items(pm: PostmortemPlan, org: Org, rng: random.Random, repo: str,
                pat: PatternPlan | None, occ: Occurrence | None, tickets: list[Ticket]) -> None:
    team = pm.team
    svc = pm.incident.service.name
    n = rng.choices([1, 2, 3, 4, 5, 6, 7, 8, 9, 12],
                    weights=[3, 6, 10, 14, 16, 16, 13, 10, 8, 4])[0]
    pool = rng.sample(_ACTIONS, min(n, len(_ACTIONS)))
    texts = [a.format(svc=svc, repo=repo) for a, _ in pool]
    pattern_ord = None
    if pat is not None and occ is not None:
        texts.insert(0, f"Fix the recurring CI failure in {occ.repo}: {pat.pdef.title}")
        pattern_ord = 1
        texts = texts[:max(n, 1)]
    for i, text in enumerate(texts, start=1):
        priority = rng.choices(["P1", "P2", "P3", "P4"], weights=[20, 42, 30, 8])[0]
        owner = rng.choice(team.members) if rng.random() < 0.86 else None
        t = rng.random()
        if t < 0.5:
            target = Target(sprint=sprint_at(pm.identified_at).number + rng.choice([0, 1, 1, 2]))
        elif t < 0.75:
            target = Target(due=pm.date_ts + rng.choice([7, 14, 14, 21, 30, 45]) * 86400)
        else:
            target = Target()
        verification = None
        if pm.verification_mode == "items" and rng.random() < 0.8:
            verification = (rng.choice(_CHECKABLE).format(svc=svc, repo=repo)
                            if rng.random() < 0.6 else rng.choice(_VAGUE))
        delay = _delay_hours(rng)
        is_pattern = pattern_ord == i
        if is_pattern and delay is None:
            delay = rng.uniform(2, 60)
        ticket: Ticket | None = None
        link_kind: str | None = None
        if delay is not None and pm.identified_at + delay * 3600 < NOW_TS:
            created = pm.identified_at + delay * 3600
            if is_pattern:
                link_kind = "doc_key"
            else:
                # Some tickets are filed with no reference at all: only title, assignee and
                # timing tie them to their item (what the fuzzy matcher must find).
                r = rng.random()
                link_kind = ("doc_key" if r < 0.7
                             else "ticket_mentions_postmortem" if r < 0.9 else "fuzzy")
            inc = pm.incident
            title = text
            if link_kind == "doc_key":
                desc = (f"Action item from the postmortem review of incident #{inc.number} "
                        f"({inc.html_url}).\n\n{text}.")
            elif link_kind == "ticket_mentions_postmortem":
                desc = (f"Follow-up from postmortem {pm.pm_id} (incident #{inc.number}).\n\n"
                        f"{text}.")
            else:
                title = f"Follow-up: {text[:1].lower()}{text[1:]}"
                desc = f"Raised after last week's incident review.\n\n{text}."
            if is_pattern and occ is not None:
                desc += (f"\n\nFailing CI run: {occ.run_html_url}\n\n```\n{occ.headline}\n```")
            assignee = owner if owner is not None and rng.random() < 0.92 else (
                rng.choice(team.members) if rng.random() < 0.4 else None)
            tk_target = target if rng.random() < 0.85 else Target()
            if target.sprint is None and target.due is None and rng.random() < 0.4:
                tk_target = Target(sprint=sprint_at(created).number + 1)
            ticket = Ticket(team, "action_item", title, desc, created,
                            rng.choice(pm.authors), assignee, priority,
                            ["postmortem", f"incident-{inc.number}"], tk_target)
            p_complete = {"P1": 0.75, "P2": 0.62, "P3": 0.5, "P4": 0.35}[priority]
            lifecycle(rng, ticket, p_complete=p_complete, median_days=16,
                      p_reschedule=0.3, p_justify=0.5)
            if is_pattern and pat is not None:
                _align_pattern_fix(rng, ticket, pat)
            tickets.append(ticket)
        else:
            delay = None
        pm.items.append(ActionItemPlan(i, text, owner, priority, rng.random() < 0.7, target,
                                       verification, ticket, link_kind, delay,
                                       pat.pdef.pattern_id if is_pattern and pat else None))


def _align_pattern_fix(rng: random.Random, ticket: Ticket, pat: PatternPlan) -> None:
    """The fix ticket closes when the plan says the failure was fixed (or stays open)."""
    ticket.wont_do = False
    if pat.fix_day is None:
        ticket.completed_at = None
        ticket.review_at = None
        return
    fix = START_TS + pat.fix_day * 86400 + rng.uniform(9, 18) * 3600
    fix = max(fix, ticket.created + 2 * 86400)
    if fix >= NOW_TS:
        ticket.completed_at = None
        return
    ticket.started_at = ticket.created + (fix - ticket.created) * rng.uniform(0.1, 0.6)
    ticket.review_at = None
    ticket.completed_at = fix
    ticket.reschedules = [r for r in ticket.reschedules if r[0] < fix]


# ---------------------------------------------------------------- rendering


def _owner_text(rng: random.Random, p: Person | None) -> str:
    if p is None:
        return ""
    r = rng.random()
    return f"@{p.login}" if r < 0.45 else p.name if r < 0.85 else p.first


def _ticket_text(rng: random.Random, it: ActionItemPlan, fmt: str) -> str:
    if it.link_kind != "doc_key" or it.ticket is None:
        return ""
    if rng.random() < 0.3:
        url = it.ticket.url
        return (f'<a href="{url}">{it.ticket.key}</a>' if fmt == "html"
                else f"[{it.ticket.key}]({url})")
    return it.ticket.key


def _target_text(it: ActionItemPlan, pm: PostmortemPlan) -> str:
    t = it.doc_target
    if t.sprint is not None:
        from sampleorg.org import sprint_number

        s = sprint_number(t.sprint)
        return s.jira_name(pm.team.project_key) if pm.team.tracker == "jira" else s.linear_name()
    if t.due is not None:
        return day_str(t.due)
    return ""


def _items_rows(rng: random.Random, pm: PostmortemPlan, fmt: str) -> tuple[list[str],
                                                                           list[list[str]]]:
    cols = ["Action", "Owner", "Ticket", "Priority", "Due/Sprint", "Status"]
    if rng.random() < 0.3:
        cols.remove("Status")
    if rng.random() < 0.25 and not any(it.priority_in_doc for it in pm.items):
        cols.remove("Priority")
    if pm.verification_mode == "items":
        cols.append("Verification")
    rows = []
    for it in pm.items:
        cells = {"Action": it.text, "Owner": _owner_text(rng, it.owner),
                 "Ticket": _ticket_text(rng, it, fmt),
                 "Priority": it.priority if it.priority_in_doc else "",
                 "Due/Sprint": _target_text(it, pm), "Status": "TODO",
                 "Verification": it.verification or ""}
        rows.append([cells[c] for c in cols])
    heading = {"Due/Sprint": rng.choice(["Due/Sprint", "Due", "Target", "Sprint"])}
    return [heading.get(c, c) for c in cols], rows


def _items_list(rng: random.Random, pm: PostmortemPlan) -> list[str]:
    out = []
    for it in pm.items:
        meta = []
        if it.owner is not None:
            meta.append(f"owner: {_owner_text(rng, it.owner)}")
        tk = _ticket_text(rng, it, "markdown")
        if tk:
            meta.append(tk)
        if it.priority_in_doc:
            meta.append(it.priority)
        tt = _target_text(it, pm)
        if tt:
            meta.append(f"sprint {tt}" if it.doc_target.sprint is not None else f"due {tt}")
        line = f"- [ ] {it.text}"
        if meta:
            line += f" ({', '.join(meta)})"
        if it.verification:
            line += f" — verify: {it.verification}"
        out.append(line)
    return out


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(c.replace("|", "/") for c in r) + " |" for r in rows]
    return out


def _timeline_md(rng: random.Random, pm: PostmortemPlan, table: bool, markers: bool) -> list[str]:
    entries = pm.timeline
    same_day = len({day_str(t) for t, _ in entries}) == 1
    first_day = day_str(entries[0][0])
    out: list[str] = []
    if table:
        cols = ["Time (UTC)", "Event"] + (["Data Link"] if pm.style == "pagerduty" else [])
        rows = []
        for t, text in entries:
            rows.append([_dt(t) if not same_day or rng.random() < 0.2 else _hm(t), text]
                        + ([""] if len(cols) == 3 else []))
        if same_day:
            out.append(f"{first_day} (all times UTC)")
            out.append("")
        return out + _md_table(cols, rows)
    if same_day:
        out.append(f"{first_day} (all times UTC)")
        out.append("")
    for i, (t, text) in enumerate(entries):
        stamp = _hm(t) if same_day else _dt(t)
        if markers and "starts climbing" in text:
            text = f"**OUTAGE BEGINS** — {text}"
        if markers and i == len(entries) - 1:
            text = f"{text} **OUTAGE ENDS**"
        out.append(f"- {stamp} — {text}")
    return out


def _criteria_lines(pm: PostmortemPlan) -> list[str]:
    return [f"- {c}" for c in pm.criteria]


def _impact_text(rng: random.Random, pm: PostmortemPlan) -> str:
    m = pm.impact_minutes or 0
    dur = f"{m} minutes" if m < 120 or rng.random() < 0.5 else f"{m // 60} h {m % 60} min"
    return (f"{dur} of degraded service on {pm.incident.service.name}; about {pm.users:,} users "
            f"affected; severity {pm.severity}.")


def headings(pm: PostmortemPlan) -> dict[str, str | None]:
    """The heading each of the five parts is written under, per style (None = absent)."""
    h = {
        "pagerduty": ("Timeline", "Contributing Factors", "Impact", "Action Items",
                      "Success Criteria"),
        "google": ("Timeline", "Root Causes", "Impact", "Action Items", "How we'll know"),
        "frontmatter": ("Timeline", "What went wrong", "Customer impact", "Follow-ups",
                        "How we'll know"),
        "bold_labels": ("Timeline", "Contributing Factors", "Impact", "Remediation",
                        "Success criteria"),
        "bullet_labels": ("Timeline", "Contributing factors", "Impact", "Corrective actions",
                          "Verification"),
        "table_meta": ("Timeline", "Contributing Conditions", "Impact", "Action Items",
                       "Verification"),
        "confluence_html": ("Timeline", "Contributing factors", "Customer impact",
                            "Action items", "Verification"),
    }[pm.style]
    keys = ("timeline", "contributing_conditions", "impact", "action_items", "verification")
    present = dict(pm.parts)
    present["verification"] = pm.verification_mode == "section"
    return {k: (v if present[k] else None) for k, v in zip(keys, h, strict=True)}


def _cond_lines(pm: PostmortemPlan) -> list[str]:
    conds = list(pm.conditions)
    if pm.blame and len(pm.blame) > 1:
        conds.append(pm.blame[1])
    return [f"- {c}" for c in conds]


def render(pm: PostmortemPlan, seed: int) -> str:
    rng = rng_for(seed, "pmrender", pm.pm_id)
    if pm.fmt == "html":
        return _render_html(rng, pm)
    inc = pm.incident
    hd = headings(pm)
    date_s = day_str(pm.date_ts)
    meet = f"{_dt(pm.meeting_ts)} UTC" if pm.meeting_ts is not None else None
    authors = ", ".join(a.name for a in pm.authors)
    inc_link = f"[#{inc.number}]({inc.html_url})"
    summary = pm.summary + (" " + pm.blame[0] if pm.blame else "")
    L: list[str] = []
    s = pm.style
    use_table_items = rng.random() < 0.6

    def items_block() -> list[str]:
        if use_table_items or s in ("pagerduty", "table_meta"):
            header, rows = _items_rows(rng, pm, "markdown")
            return _md_table(header, rows)
        return _items_list(rng, pm)

    if s == "pagerduty":
        L += [f"# Postmortem: {pm.title} — {date_s}", "",
              f"**Postmortem Owner:** {pm.authors[0].name}", "",
              f"**Meeting Scheduled For:** {meet or '_TBD_'}", "",
              f"**Call Recording:** https://acme.zoom.us/rec/share/{rng.getrandbits(64):016x}",
              "", "## Overview", summary, "", "## What Happened",
              f"PagerDuty incident {inc_link} ({inc.pd_id}) paged {inc.responder.name}.", ""]
        if hd["contributing_conditions"]:
            L += [f"## {hd['contributing_conditions']}", *_cond_lines(pm), ""]
        L += ["## Resolution", "Rolled back and confirmed recovery on dashboards.", ""]
        if hd["impact"]:
            L += [f"## {hd['impact']}", "", "| | |", "|-|-|",
                  f"| Time in {pm.severity} | {pm.impact_minutes} mins |",
                  f"| Users Affected | {pm.users:,} |",
                  f"| Support Requests Raised | {rng.randint(0, 60)} |", ""]
        L += ["## Responders", "", f"* IC: {inc.responder.name}",
              f"* Scribe: {pm.authors[-1].name}", ""]
        if hd["timeline"]:
            L += [f"## {hd['timeline']}", *_timeline_md(rng, pm, True, False), ""]
        L += ["## How'd We Do?", "", "### What Went Well?", "", f"* {rng.choice(_LESSONS)}", "",
              "### What Didn't Go So Well?", "", f"* {rng.choice(_LESSONS)}", ""]
        if hd["action_items"]:
            L += [f"## {hd['action_items']}", *items_block(), ""]
        if hd["verification"]:
            L += [f"## {hd['verification']}", *_criteria_lines(pm), ""]
        L += ["## Messaging", "", "### Internal Email", "> " + pm.summary, ""]
    elif s == "google":
        L += [f"# Postmortem: {pm.title}", "", f"**Date:** {date_s}", "",
              f"**Authors:** {authors}", "",
              f"**Status:** {rng.choice(['Complete, action items in progress', 'Draft', 'Final'])}",
              ""]
        if meet:
            L += [f"**Review meeting:** {meet}", ""]
        L += [f"**Summary:** {summary}", ""]
        if hd["impact"]:
            L += [f"**Impact:** {_impact_text(rng, pm)}", ""]
        if hd["contributing_conditions"]:
            # Google's format names the trigger apart; it is one more contributing condition.
            L += [f"**{hd['contributing_conditions']}:**", "", *_cond_lines(pm), "",
                  f"**Trigger:** {pm.timeline[0][1]}", ""]
        L += [f"**Detection:** PagerDuty {inc_link}.", ""]
        if hd["action_items"]:
            L += [f"## {hd['action_items']}", "", *items_block(), ""]
        L += ["## Lessons Learned", "", f"- {rng.choice(_LESSONS)}", ""]
        if hd["timeline"]:
            L += [f"## {hd['timeline']}", "", *_timeline_md(rng, pm, False, True), ""]
        if hd["verification"]:
            L += [f"## {hd['verification']}", "", *_criteria_lines(pm), ""]
    elif s == "frontmatter":
        L += ["---", f"title: \"{pm.title}\"", f"date: {date_s}"]
        if pm.meeting_ts is not None:
            L.append(f"review_meeting: {iso_z(pm.meeting_ts)}")
        L += ["authors:", *[f"  - {a.name}" for a in pm.authors],
              f"incident: {inc.html_url}", f"severity: {pm.severity}",
              f"services: [{inc.service.name}]", "status: published", "---", "",
              f"# {pm.title}", "", "## Summary", "", summary, ""]
        if hd["timeline"]:
            L += [f"## {hd['timeline']}", "", *_timeline_md(rng, pm, rng.random() < 0.4, False),
                  ""]
        if hd["contributing_conditions"]:
            L += [f"## {hd['contributing_conditions']}", "", *_cond_lines(pm), ""]
        if hd["impact"]:
            L += [f"## {hd['impact']}", "", _impact_text(rng, pm), ""]
        if hd["action_items"]:
            L += [f"## {hd['action_items']}", "", *_items_list(rng, pm), ""]
        if hd["verification"]:
            L += [f"## {hd['verification']}", "", *_criteria_lines(pm), ""]
    elif s == "bold_labels":
        L += [f"{pm.title} — {date_s}", "", f"Incident: {inc_link}", f"Authors: {authors}"]
        if meet:
            L += [f"**Review meeting:** {meet}"]
        L += ["", "**Summary**", "", summary, ""]
        if hd["timeline"]:
            L += [f"**{hd['timeline']}**", "", *_timeline_md(rng, pm, False, False), ""]
        if hd["contributing_conditions"]:
            L += [f"**{hd['contributing_conditions']}**", "", *_cond_lines(pm), ""]
        if hd["impact"]:
            L += [f"**{hd['impact']}**", "", _impact_text(rng, pm), ""]
        if hd["action_items"]:
            L += [f"**{hd['action_items']}**", "", *items_block(), ""]
        if hd["verification"]:
            L += [f"**{hd['verification']}**", "", *_criteria_lines(pm), ""]
    elif s == "bullet_labels":
        L += [f"# {pm.title}", "", f"- **Incident:** {inc_link}", f"- **Date:** {date_s}"]
        if meet:
            L.append(f"- **Review meeting:** {meet}")
        L.append(f"- **Authors:** {authors}")
        if hd["impact"]:
            L += [f"- **{hd['impact']}:** {_impact_text(rng, pm)}",
                  f"- **Duration:** {pm.impact_minutes} minutes"]
        L += [f"- **Summary:** {summary}", ""]
        if hd["timeline"]:
            L += [f"### {hd['timeline']}", "", *_timeline_md(rng, pm, False, False), ""]
        if hd["contributing_conditions"]:
            L += [f"### {hd['contributing_conditions']}", "", *_cond_lines(pm), ""]
        if hd["action_items"]:
            L += [f"### {hd['action_items']}", "", *items_block(), ""]
        if hd["verification"]:
            L += [f"### {hd['verification']}", "", *_criteria_lines(pm), ""]
    else:  # table_meta
        L += [f"# {pm.title}", "", "| Field | Value |", "|---|---|",
              f"| Incident | {inc_link} |", f"| Date | {date_s} |",
              f"| Severity | {pm.severity} |"]
        if hd["impact"]:
            L.append(f"| Duration | {pm.impact_minutes} min |")
        if meet:
            L.append(f"| Postmortem meeting | {meet} |")
        L += [f"| Authors | {authors} |", "", "## Summary", "", summary, ""]
        if hd["timeline"]:
            L += [f"## {hd['timeline']}", "", *_timeline_md(rng, pm, True, False), ""]
        if hd["contributing_conditions"]:
            L += [f"## {hd['contributing_conditions']}", "", *_cond_lines(pm), ""]
        if hd["impact"]:
            L += [f"## {hd['impact']}", "", _impact_text(rng, pm), ""]
        if hd["action_items"]:
            L += [f"## {hd['action_items']}", "", *items_block(), ""]
        if hd["verification"]:
            L += [f"## {hd['verification']}", "", *_criteria_lines(pm), ""]
    return "\n".join(L).rstrip() + "\n"


def _render_html(rng: random.Random, pm: PostmortemPlan) -> str:
    inc = pm.incident
    hd = headings(pm)
    e = html.escape
    date_s = day_str(pm.date_ts)
    rows = [("Incident", f'<a href="{inc.html_url}">#{inc.number}</a>'), ("Date", date_s),
            ("Severity", pm.severity), ("Owner", e(pm.authors[0].name))]
    if pm.meeting_ts is not None:
        rows.append(("Postmortem meeting", f"{_dt(pm.meeting_ts)} UTC"))
    out = ['<!DOCTYPE html>', '<html><head><meta charset="utf-8">',
           f"<title>{e(pm.title)}</title></head>", '<body class="wiki-content">',
           f"<h1>{e(pm.title)}</h1>", '<table class="confluenceTable"><tbody>']
    out += [f'<tr><th class="confluenceTh">{k}</th><td class="confluenceTd">{v}</td></tr>'
            for k, v in rows]
    out += ["</tbody></table>", "<h2>Summary</h2>",
            f"<p>{e(pm.summary + (' ' + pm.blame[0] if pm.blame else ''))}</p>"]
    if hd["timeline"]:
        out += [f"<h2>{hd['timeline']}</h2>", '<table class="confluenceTable"><tbody>',
                "<tr><th>Time (UTC)</th><th>Event</th></tr>"]
        out += [f"<tr><td>{_dt(t)}</td><td>{e(text)}</td></tr>" for t, text in pm.timeline]
        out += ["</tbody></table>"]
    if hd["contributing_conditions"]:
        out += [f"<h2>{hd['contributing_conditions']}</h2>", "<ul>"]
        out += [f"<li>{e(c[2:])}</li>" for c in _cond_lines(pm)]
        out += ["</ul>"]
    if hd["impact"]:
        out += [f"<h2>{e(hd['impact'])}</h2>", f"<p>{e(_impact_text(rng, pm))}</p>"]
    if hd["action_items"]:
        header, items = _items_rows(rng, pm, "html")
        out += [f"<h2>{hd['action_items']}</h2>", '<table class="confluenceTable"><tbody>',
                "<tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr>"]
        out += ["<tr>" + "".join(f"<td>{c if c.startswith('<a ') else e(c)}</td>" for c in r)
                + "</tr>" for r in items]
        out += ["</tbody></table>"]
    if hd["verification"]:
        out += [f"<h2>{hd['verification']}</h2>", "<ul>"]
        out += [f"<li>{e(c)}</li>" for c in pm.criteria]
        out += ["</ul>"]
    out += ["</body></html>"]
    return "\n".join(out) + "\n"


def meeting_iso(pm: PostmortemPlan) -> str:
    return from_epoch(pm.identified_at).strftime("%Y-%m-%dT%H:%M:%SZ")
