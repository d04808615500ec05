"""Orchestration: plan, stream CI, then derive tickets, documents and the ground truth."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sampleorg import postmortems as pmmod
from sampleorg import truth
from sampleorg.ci import CiResult, CiStream, PatternPlan, plan_patterns
from sampleorg.incidents import IncidentPlan, plan_incidents, write_incidents
from sampleorg.org import N_DAYS, NOW_TS, START, START_TS, Org, build_org, rng_for
from sampleorg.otherci import OtherCiResult, write_other_ci
from sampleorg.tickets import (
    Target,
    Ticket,
    assign_keys,
    lifecycle,
    target_for,
    work_time,
    write_tickets,
)
from sampleorg.writer import NullProgress, NullStage, OutputTree, iso_z

_WORK_TITLES = (
    "Add pagination to the {n} list endpoint", "Upgrade {p} to the latest minor version",
    "Bug: {n} {v} fails {q}", "Spike: evaluate {p} replacement", "Expose {n} metrics in Grafana",
    "Clean up deprecated {n} flags", "Support {n} export as CSV", "Refactor {n} {v} module",
    "Document the {n} API", "Improve {n} error messages", "Migrate {n} jobs to the scheduler",
    "Reduce {n} cold start time", "Add audit log for {n} changes", "Bug: {n} shows stale data",
)
_N = ("invoice", "webhook", "session", "ledger", "search", "checkout", "profile", "report",
      "notification", "token", "tenant", "device", "upload", "segment")
_V = ("sync", "render", "retry", "export", "import", "validate")
_Q = ("for EU tenants", "after timeout", "with empty cart", "on Safari", "for legacy plans")
_P = ("React", "Spring Boot", "Go", "Postgres driver", "Kafka client", "Terraform AWS provider")


@dataclass
class Summary:
    seconds: float
    counts: dict[str, int]
    bytes_written: int
    files_written: int

    def line(self) -> str:
        c = self.counts
        return (f"generated {c['runs']} runs, {c['jobs']} jobs ({c['failed_jobs']} failed), "
                f"{c['logs']} logs, {c['deployments']} deployments, {c['incidents']} incidents, "
                f"{c['postmortems']} postmortems, {c['action_items']} action items, "
                f"{c['tickets']} tickets in {self.seconds:.1f}s "
                f"({self.bytes_written / 1e6:.0f} MB, {self.files_written} files)")


def generate(out_dir: Path, seed: int = 7, scale: float = 1.0, progress: Any = None) -> Summary:
    """Write a complete sample organisation export (and groundtruth.json) into `out_dir`.

    `progress` (e.g. `followthrough.progress.Progress`) hears about each stage and file written;
    it never changes what is written. The default is silent.
    """
    if scale <= 0:
        raise ValueError(f"--scale must be positive, got {scale}")
    if progress is None:
        progress = NullProgress()
    t0 = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    out = OutputTree(out_dir)
    with progress.stage("generate github", unit="files") as stage:
        out.stage = stage
        org = build_org(seed)
        patterns = plan_patterns(org, seed, scale)
        incidents, deploy_plans = plan_incidents(org, seed, scale, patterns)
        ci = CiStream(org, out, seed, scale, patterns, deploy_plans).run()
    with progress.stage("generate gitlab, buildkite", unit="files") as stage:
        out.stage = stage
        other = write_other_ci(org, out, seed, scale)
    with progress.stage("generate postmortems, tickets, incidents", unit="files") as stage:
        out.stage = stage
        pms, tickets = pmmod.plan_postmortems(org, incidents, seed, ci.occurrences)
        pattern_tickets = _pattern_tickets(org, seed, patterns, ci, pms, tickets)
        tickets += _incident_tickets(org, seed, incidents)
        tickets += _work_tickets(org, seed, scale)
        assign_keys(tickets)
        for pm in pms:
            out.write_text(pm.path, pmmod.render(pm, seed))
        n_jira, n_linear = write_tickets(tickets, org, seed, out.write_json)
        n_inc = write_incidents(incidents, org, seed, out.write_json)
        items = [truth.action_item_truth(pm, it) for pm in pms for it in pm.items]
        gt = _ground_truth(org, seed, scale, patterns, pattern_tickets, ci, incidents, pms, items,
                           tickets, other)
        out.write_json("groundtruth.json", gt)
    out.stage = NullStage()
    counts = {"runs": ci.runs, "jobs": ci.jobs, "failed_jobs": len(ci.failed_jobs),
              "logs": ci.logs_failed + ci.logs_passing, "deployments": ci.deployments,
              "deployment_statuses": ci.deployment_statuses, "incidents": n_inc,
              "postmortems": len(pms), "action_items": len(items), "tickets": len(tickets),
              "jira_issues": n_jira, "linear_issues": n_linear,
              "gitlab_pipelines": other.gitlab_pipelines, "buildkite_builds": other.buildkite_builds}
    return Summary(time.perf_counter() - t0, counts, out.bytes_written, out.files_written)


def _pattern_tickets(org: Org, seed: int, patterns: list[PatternPlan], ci: CiResult,
                     pms: list[pmmod.PostmortemPlan], tickets: list[Ticket]
                     ) -> dict[str, tuple[Ticket | None, list[Ticket]]]:
    """Tickets people opened about recurring CI failures (fix ticket first)."""
    by_pattern: dict[str, tuple[Ticket | None, list[Ticket]]] = {}
    pm_fix: dict[str, Ticket] = {}
    for pm in pms:
        for it in pm.items:
            if it.pattern_id and it.ticket is not None and it.pattern_id not in pm_fix:
                pm_fix[it.pattern_id] = it.ticket
    for p in patterns:
        pid = p.pdef.pattern_id
        rng = rng_for(seed, "pattern-tickets", pid)
        occ = ci.occurrences[pid]
        own: list[Ticket] = []
        fix = pm_fix.get(pid)
        if fix is not None:
            own.append(fix)
        elif p.ticket_day is not None and occ:
            created = work_time(rng, START_TS + p.ticket_day * 86400)
            before = [o for o in occ if o.ts < created] or occ[:1]
            created = max(created, before[-1].ts + 1800)
            cite = before[-1]
            repo = org.repo(cite.repo)
            team = org.team(repo.team_key)
            if created >= NOW_TS - 3600:
                by_pattern[pid] = (None, own)
                continue
            reporter = rng.choice(team.members)
            fix = Ticket(team, "ci_pattern", f"Flaky CI: {p.pdef.title} ({repo.name})",
                         f"`{repo.name}` CI keeps failing with the same error "
                         f"({len(before)} times so far).\n\nRun: {cite.run_html_url}\n\n"
                         f"```\n{cite.headline}\n```", created, reporter,
                         rng.choice(team.members) if rng.random() < 0.8 else None,
                         rng.choice(["P2", "P3", "P3"]), ["ci", "flaky-test"],
                         target_for(rng, team, created), issuetype="Bug")
            lifecycle(rng, fix, p_complete=0.0, median_days=10, p_reschedule=0.25,
                      p_justify=0.5)
            pmmod._align_pattern_fix(rng, fix, p)
            tickets.append(fix)
            own.append(fix)
        if fix is not None and fix.completed_at is not None and p.fix_kind == "fixed_recurred":
            after = [o for o in occ if o.ts > fix.completed_at]
            if len(after) >= 2:
                cite = after[1]
                repo = org.repo(cite.repo)
                team = org.team(repo.team_key)
                created = cite.ts + rng.uniform(2, 72) * 3600
                if created < NOW_TS:
                    again = Ticket(team, "ci_pattern", f"{p.pdef.title} is failing again in "
                                   f"{repo.name}", f"Reopening the investigation: this came back "
                                   f"after {fix.key} was closed.\n\nRun: {cite.run_html_url}\n\n"
                                   f"```\n{cite.headline}\n```", created,
                                   rng.choice(team.members), rng.choice(team.members), "P2",
                                   ["ci", "regression"], target_for(rng, team, created),
                                   issuetype="Bug")
                    lifecycle(rng, again, p_complete=0.5, median_days=12, p_reschedule=0.2,
                              p_justify=0.5)
                    tickets.append(again)
                    own.append(again)
        by_pattern[pid] = (fix, own)
    return by_pattern


def _incident_tickets(org: Org, seed: int, incidents: list[IncidentPlan]) -> list[Ticket]:
    out = []
    for inc in incidents:
        rng = rng_for(seed, "incident-ticket", inc.pd_id)
        if inc.priority in ("P4", "P5") or rng.random() > 0.7:
            continue
        team = org.team(inc.service.team_key)
        created = inc.created + rng.uniform(300, 6 * 3600)
        if created >= NOW_TS:
            continue
        t = Ticket(team, "incident", f"[INC #{inc.number}] {inc.title}",
                   f"PagerDuty incident {inc.html_url} ({inc.pd_id}) on {inc.service.name}.\n\n"
                   "Tracking investigation and customer follow-up.", created, inc.responder,
                   inc.responder, inc.priority if inc.priority != "P5" else "P4",
                   ["incident", inc.service.name], Target(), issuetype="Bug")
        t.started_at = created + 60
        if inc.resolved is not None:
            t.completed_at = inc.resolved + rng.uniform(1, 120) * 3600
            if t.completed_at > NOW_TS:
                t.completed_at = None
        out.append(t)
    return out


def _work_tickets(org: Org, seed: int, scale: float) -> list[Ticket]:
    rng = rng_for(seed, "work-tickets")
    n = max(10, round(2400 * scale))
    weights = [len(t.members) for t in org.teams]
    out = []
    for _ in range(n):
        team = rng.choices(org.teams, weights=weights)[0]
        day = rng.randrange(N_DAYS)
        if (START.weekday() + day) % 7 >= 5:
            day = max(0, day - 2)
        created = work_time(rng, START_TS + day * 86400)
        title = rng.choice(_WORK_TITLES).format(n=rng.choice(_N), v=rng.choice(_V),
                                                q=rng.choice(_Q), p=rng.choice(_P))
        t = Ticket(team, "work", title, f"{title}.\n\nContext in the team channel.", created,
                   rng.choice(team.members),
                   rng.choice(team.members) if rng.random() < 0.8 else None,
                   rng.choices(["P1", "P2", "P3", "P4"], weights=[4, 25, 55, 16])[0],
                   rng.choice([[], ["tech-debt"], ["customer"], ["frontend"], ["backend"]]),
                   target_for(rng, team, created),
                   issuetype=rng.choice(["Story", "Task", "Bug"]))
        lifecycle(rng, t, p_complete=0.72, median_days=9, p_reschedule=0.2, p_justify=0.4)
        if rng.random() < 0.04 and t.completed_at is not None:
            t.wont_do = True
        out.append(t)
    return out


def _ground_truth(org: Org, seed: int, scale: float, patterns: list[PatternPlan],
                  pattern_tickets: dict[str, tuple[Ticket | None, list[Ticket]]], ci: CiResult,
                  incidents: list[IncidentPlan], pms: list[pmmod.PostmortemPlan],
                  items: list[dict[str, Any]], tickets: list[Ticket],
                  other: OtherCiResult) -> dict[str, Any]:
    return {
        "format": "followthrough-groundtruth/1",
        "seed": seed,
        "scale": scale,
        "window": {"start": iso_z(START_TS), "end": iso_z(NOW_TS)},
        "as_of": iso_z(NOW_TS),
        "definitions": truth.DEFINITIONS,
        "org": {
            "teams": [{"key": t.key, "name": t.name, "tracker": t.tracker,
                       "project_key": t.project_key, "members": [p.name for p in t.members],
                       "repos": [r.full_name for r in t.repos],
                       "services": [s.name for s in t.services]} for t in org.teams],
            "services": [{"name": s.name, "repo": f"acme/{s.repo}", "team": s.team_key,
                          "tier": s.tier, "pagerduty_service_id": s.pd_id}
                         for s in org.services],
        },
        "counts": {"runs": ci.runs, "jobs": ci.jobs, "failed_jobs": len(ci.failed_jobs),
                   "failure_logs": ci.logs_failed, "passing_logs": ci.logs_passing,
                   "deployments": ci.deployments,
                   "deployment_statuses": ci.deployment_statuses,
                   "gitlab_pipelines": other.gitlab_pipelines, "gitlab_jobs": other.gitlab_jobs,
                   "gitlab_deployments": other.gitlab_deployments,
                   "buildkite_builds": other.buildkite_builds, "other_ci_logs": other.logs,
                   "incidents": len(incidents), "postmortems": len(pms),
                   "action_items": len(items), "tickets": len(tickets)},
        "recurring_failures": [truth.pattern_truth(p, ci, *pattern_tickets[p.pdef.pattern_id],
                                                   pms) for p in patterns],
        "failed_jobs": [{"job_id": j, "pattern_id": pid, "kind": kind,
                         "log": f"github/logs/{day}/{j}.txt"}
                        for j, pid, kind, day in ci.failed_jobs],
        "secrets": ci.secrets,
        "deploy_incidents": {
            **truth.deploy_truth(incidents, ci),
            # failed production deploys with no GitHub deployment record: the deploy-script
            # workflow's failed job, GitLab and Buildkite (each with its ticket key)
            "script_workflow": [{**d, "key": f"github-run:{d['run_id']}"}
                                for d in ci.script_prod_deploys],
            "other_ci": other.failed_deploys,
            "other_ci_not_deploys": other.not_deploys,
        },
        "incidents": [{"incident_id": i.pd_id, "number": i.number, "cause": i.cause,
                       "service": i.service.name, "priority": i.priority,
                       "pattern_id": i.pattern.pdef.pattern_id if i.pattern else None,
                       "created_at": iso_z(i.created)} for i in incidents],
        "postmortems": [truth.postmortem_truth(pm) for pm in pms],
        "action_items": items,
        "tickets": [{"key": t.key, "provider": t.team.tracker, "kind": t.kind,
                     "created_at": iso_z(t.created)} for t in tickets],
    }
