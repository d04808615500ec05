"""PagerDuty incidents: when they happen, what caused them, and their API records."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from sampleorg.ci import DeployFailurePlan, PatternPlan
from sampleorg.org import (
    N_DAYS,
    NOW_TS,
    PD_API,
    PD_BASE,
    START_TS,
    Org,
    Person,
    Service,
    pd_id,
    rng_for,
)
from sampleorg.writer import iso_z

PRIORITY_IDS = {"P1": "PQ1SEV1", "P2": "PQ2SEV2", "P3": "PQ3SEV3", "P4": "PQ4SEV4",
                "P5": "PQ5SEV5"}

_SYMPTOMS = (
    "Elevated 5xx error rate on {s}", "High p99 latency on {s} (> 2s)",
    "{s} consumer lag growing", "Database connection pool exhausted on {s}",
    "{s} pods crashlooping", "{s} health check failing in us-east-1",
    "Error budget burn rate critical for {s}", "{s} queue depth above threshold",
    "TLS handshake failures on {s}", "Memory pressure / OOMKills on {s}",
    "{s} returning stale data", "Elevated timeouts from {s} to Postgres",
)


@dataclass
class IncidentPlan:
    key: int
    pd_id: str
    number: int
    created: float
    acknowledged: float
    resolved: float | None
    service: Service
    priority: str
    urgency: str
    title: str
    cause: str  # deploy | ci_pattern | other
    responder: Person
    pattern: PatternPlan | None = None
    deploy: DeployFailurePlan | None = None
    postmortem: bool = False

    @property
    def html_url(self) -> str:
        return f"{PD_BASE}/incidents/{self.pd_id}"


def plan_incidents(org: Org, seed: int, scale: float,
                   patterns: list[PatternPlan]) -> tuple[list[IncidentPlan],
                                                         list[DeployFailurePlan]]:
    """~300 incidents at scale 1: some after failed deploys, some masked by CI failures."""
    rng = rng_for(seed, "incidents")
    n = max(4, round(300 * scale))
    services = org.services
    weights = [4.0 if s.tier == 1 else 2.0 if s.tier == 2 else 0.7 for s in services]
    n_deploy = max(1, round(n * 0.09))
    service_repos = {s.repo for s in services}
    linked = [p for p in patterns if p.fix_kind in ("fixed", "fixed_recurred", "open")
              and len(p.occurrences) >= 3 and service_repos.intersection(p.repos)]
    rng.shuffle(linked)
    linked = sorted(linked[: min(len(linked), max(2, min(8, n // 4)))],
                    key=lambda p: p.pdef.pattern_id)
    plans: list[IncidentPlan] = []
    deploy_plans: list[DeployFailurePlan] = []
    members = {t.key: t.members for t in org.teams}

    def _mk(created: float, svc: Service, cause: str, pattern: PatternPlan | None) -> IncidentPlan:
        pr = rng.choices(["P1", "P2", "P3", "P4", "P5"], weights=[9, 24, 38, 20, 9])[0]
        if cause != "other" and pr in ("P4", "P5"):
            pr = "P3"
        dur = rng.lognormvariate(4.0 if pr in ("P1", "P2") else 3.4, 0.8) * 60
        resolved: float | None = created + dur
        if resolved is not None and resolved > NOW_TS - 3600:
            resolved = None
        title = rng.choice(_SYMPTOMS).format(s=svc.name)
        ack = created + min(rng.uniform(60, 900), dur * 0.3)
        return IncidentPlan(0, pd_id(rng), 0, created, ack, resolved,
                            svc, pr, "high" if pr in ("P1", "P2", "P3") else "low", title,
                            cause, rng.choice(members[svc.team_key]), pattern)

    for i in range(n_deploy):
        svc = rng.choices(services, weights=weights)[0]
        day = int((i + rng.random()) * (N_DAYS - 2) / n_deploy)
        while (day + 3) % 7 >= 5 and rng.random() < 0.85:  # START is a Thursday
            day = (day + 1) % (N_DAYS - 2)
        t_inc = START_TS + day * 86400 + rng.uniform(14, 22) * 3600
        duration = rng.uniform(150, 420)
        lag = rng.uniform(120, 900)
        dplan = DeployFailurePlan(0, svc.name, svc.repo, t_inc - lag - duration, duration)
        deploy_plans.append(dplan)
        inc = _mk(t_inc, svc, "deploy", None)
        inc.deploy = dplan
        plans.append(inc)
    for p in linked:
        day = p.occurrences[min(2, len(p.occurrences) - 1)][0] + rng.randint(1, 5)
        repo_svc = [s for s in services if s.repo in p.repos]
        svc = repo_svc[0] if repo_svc else rng.choices(services, weights=weights)[0]
        inc = _mk(START_TS + day * 86400 + rng.uniform(13, 22) * 3600, svc, "ci_pattern", p)
        p.incident_day = day
        plans.append(inc)
    while len(plans) < n:
        svc = rng.choices(services, weights=weights)[0]
        t = START_TS + rng.uniform(0, (N_DAYS - 1) * 86400)
        plans.append(_mk(t, svc, "other", None))
    plans.sort(key=lambda p: (p.created, p.pd_id))
    number = 1180
    for k, p in enumerate(plans):
        number += rng.randint(1, 3)
        p.key, p.number = k, number
        if p.deploy is not None:
            p.deploy.incident_key = k
    # the serious ones get a postmortem (~40%)
    for p in plans:
        chance = {"P1": 0.97, "P2": 0.75, "P3": 0.22, "P4": 0.04, "P5": 0.0}[p.priority]
        if p.cause != "other":
            chance = 1.0
        p.postmortem = p.resolved is not None and p.created < NOW_TS - 5 * 86400 and \
            rng.random() < chance
    return plans, deploy_plans


def _ref(kind: str, pid: str, summary: str, path: str, html: str | None = None) -> dict[str, Any]:
    out = {"id": pid, "type": kind, "summary": summary, "self": f"{PD_API}/{path}/{pid}"}
    if html:
        out["html_url"] = html
    return out


def incident_record(inc: IncidentPlan, org: Org, rng: random.Random) -> dict[str, Any]:
    team = org.team(inc.service.team_key)
    resolved = inc.resolved
    status = "resolved" if resolved is not None else rng.choice(["acknowledged", "triggered"])
    last_change = resolved if resolved is not None else inc.acknowledged
    rec: dict[str, Any] = {
        "id": inc.pd_id,
        "type": "incident",
        "summary": f"[#{inc.number}] {inc.title}",
        "self": f"{PD_API}/incidents/{inc.pd_id}",
        "html_url": inc.html_url,
        "incident_number": inc.number,
        "title": inc.title,
        "created_at": iso_z(inc.created),
        "updated_at": iso_z(last_change + rng.uniform(5, 600)),
        "status": status,
        "incident_key": f"{rng.getrandbits(128):032x}",
        "service": _ref("service_reference", inc.service.pd_id, inc.service.name, "services",
                        f"{PD_BASE}/service-directory/{inc.service.pd_id}"),
        "assignments": [] if status == "resolved" else [
            {"at": iso_z(inc.created), "assignee": _ref("user_reference", inc.responder.pd_id,
                                                        inc.responder.name, "users")}],
        "assigned_via": "escalation_policy",
        "last_status_change_at": iso_z(last_change),
        "resolved_at": iso_z(resolved) if resolved is not None else None,
        "alert_counts": {"all": rng.randint(1, 12), "triggered": 0 if resolved else 1,
                         "resolved": rng.randint(1, 12) if resolved else 0},
        "is_mergeable": True,
        "incident_type": {"name": "incident_default"},
        "escalation_policy": _ref("escalation_policy_reference", team.pd_id[::-1].upper(),
                                  f"{team.name} escalation", "escalation_policies"),
        "teams": [_ref("team_reference", team.pd_id, team.name, "teams",
                       f"{PD_BASE}/teams/{team.pd_id}")],
        "pending_actions": [],
        "acknowledgements": [{"at": iso_z(inc.acknowledged),
                              "acknowledger": _ref("user_reference", inc.responder.pd_id,
                                                   inc.responder.name, "users")}],
        "last_status_change_by": _ref("user_reference", inc.responder.pd_id, inc.responder.name,
                                      "users"),
        "priority": {"id": PRIORITY_IDS[inc.priority], "type": "priority_reference",
                     "summary": inc.priority,
                     "self": f"{PD_API}/priorities/{PRIORITY_IDS[inc.priority]}"},
        "resolve_reason": None,
        "urgency": inc.urgency,
    }
    d = inc.deploy
    if d is not None and d.deployment_url is not None and d.failed_at is not None:
        rec["body"] = {"type": "incident_body", "details": (
            f"Alert: {inc.title}. Triggered {round((inc.created - d.failed_at) / 60)} min after "
            f"a failed production deployment of {inc.service.name} ({(d.sha or '')[:7]}). "
            f"Deployment: {d.deployment_url} CI run: {d.run_html_url}")}
        rec["description"] = rec["body"]["details"]
    elif rng.random() < 0.3:
        rec["body"] = {"type": "incident_body", "details": (
            f"Monitor '{inc.title}' triggered for service {inc.service.name}; runbook: "
            f"https://wiki.acme.dev/runbooks/{inc.service.name}")}
    return rec


def write_incidents(plans: list[IncidentPlan], org: Org, seed: int,
                    write: Any) -> int:
    by_month: dict[str, list[dict[str, Any]]] = {}
    for inc in plans:
        rng = rng_for(seed, "pd", inc.key)
        rec = incident_record(inc, org, rng)
        by_month.setdefault(rec["created_at"][:7], []).append(rec)
    for month in sorted(by_month):
        recs = by_month[month]
        write(f"pagerduty/incidents/{month}.json",
              {"incidents": recs, "limit": len(recs), "offset": 0, "more": False})
    return len(plans)
