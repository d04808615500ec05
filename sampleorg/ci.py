"""GitHub Actions runs, jobs, logs and deployments, streamed one UTC day at a time.

Only small per-day buffers and compact ground-truth tuples stay in memory, so a million-job
organisation costs the same RSS as a small one.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sampleorg import deploys, logs
from sampleorg.org import (
    GITHUB_API,
    GITHUB_WEB,
    N_DAYS,
    ORG,
    START,
    START_TS,
    JobSpec,
    Org,
    Person,
    Repo,
    node_id,
    rng_for,
    sha40,
)
from sampleorg.patterns import (
    EXTRA_RECURRING,
    RECURRING,
    Failure,
    PatternDef,
    render_deploy_failure,
    render_network_flake,
    render_one_off,
)
from sampleorg.writer import OutputTree, day_str, iso_pacific, iso_z

CI_RUNS_PER_WEEKDAY = 96.0  # x ~3.6 jobs/run x ~415 weekday-equivalents ~= 150k jobs
DEPLOYS_PER_SERVICE_DAY = 0.42
TZ_OFFSET_H = {"America/New_York": 5, "America/Los_Angeles": 8, "Europe/London": 0,
               "Europe/Berlin": -1}
DURATION_S = {"lint": 70, "test": 380, "build": 210, "e2e": 640, "image": 250, "infra": 95,
              "deploy": 210}
TOOL_SLOWNESS = {"maven": 1.6, "gradle": 1.7, "cargo": 1.4, "cmake": 1.5, "jest": 1.1}
FAIL_P = {"lint": 0.035, "test": 0.05, "build": 0.03, "e2e": 0.075, "image": 0.025,
          "infra": 0.03}
PATTERN_HOMES = {
    "rf01-webhook-retry-attempts": ["payments-webhook"],
    "rf03-reconcile-timeout": ["payments-api"],
    "rf06-checkout-snapshot": ["checkout-ui"],
    "rf07-session-refresh-timeout": ["web-app"],
    "rf10-scheduler-lease-expiry": ["job-scheduler"],
    "rf13-split-payment-reconcile": ["ledger-service"],
    "rf19-decoder-fuzz-segfault": ["media-encoder"],
    "rf21-kind-helm-timeout": ["accounts-service"],
    "rf22-checkout-submit-timeout": ["checkout-ui"],
    "rf25-syncworker-retry": ["mobile-android"],
    "rf16-rounding-half-even": ["stream-processor"],
    "rf04-currency-rounding": ["runbooks"],
}


@dataclass
class PatternPlan:
    pdef: PatternDef
    repos: list[str]
    fix_kind: str  # fixed | fixed_recurred | open | none
    occurrences: list[tuple[int, str]]  # (day index, repo)
    first_day: int
    fix_day: int | None
    ticket_day: int | None  # when the (first) ticket about it is opened
    incident_day: int | None = None  # an incident this failure masked; gets a postmortem


@dataclass(frozen=True)
class Occurrence:
    job_id: int
    run_id: int
    repo: str
    ts: float
    run_html_url: str
    job_html_url: str
    head_sha: str
    headline: str


@dataclass
class DeployFailurePlan:
    """A failed production rollout that pages someone `lag` seconds after it fails."""

    incident_key: int
    service: str
    repo: str
    deploy_at: float
    duration: float
    # filled in when the CI stream emits it
    deployment_id: int | None = None
    deployment_url: str | None = None
    run_id: int | None = None
    run_html_url: str | None = None
    job_id: int | None = None
    sha: str | None = None
    failed_at: float | None = None


@dataclass
class CiResult:
    runs: int = 0
    jobs: int = 0
    failed_jobs: list[tuple[int, str | None, str, str]] = field(default_factory=list)
    occurrences: dict[str, list[Occurrence]] = field(default_factory=dict)
    logs_failed: int = 0
    logs_passing: int = 0
    deployments: int = 0
    deployment_statuses: int = 0
    failed_prod_deploys: list[dict[str, Any]] = field(default_factory=list)
    # failed production deploys run by the script workflow, which creates no deployment record
    script_prod_deploys: list[dict[str, Any]] = field(default_factory=list)
    secrets: list[dict[str, Any]] = field(default_factory=list)


# ---------------------------------------------------------------- planning


def all_patterns() -> tuple[PatternDef, ...]:
    return RECURRING + EXTRA_RECURRING


def _weekday(day: int) -> int:
    return (START.weekday() + day) % 7


def _shift_weekday(rng: random.Random, day: int) -> int:
    wd = _weekday(day)
    if wd >= 5 and rng.random() < 0.85:
        day += 7 - wd
    return day


def plan_patterns(org: Org, seed: int, scale: float) -> list[PatternPlan]:
    """Decide where and when each recurring failure happens, and how its fix goes."""
    rng = rng_for(seed, "patterns")
    defs = all_patterns()
    kinds = (["fixed"] * 12 + ["fixed_recurred"] * 7 + ["open"] * 5 + ["none"] * 3)
    rng.shuffle(kinds)
    plans: list[PatternPlan] = []
    for pdef, fix_kind in zip(defs, kinds, strict=True):
        candidates = [r.name for r in org.repos if r.toolchain in pdef.toolchains
                      and any(j.kind == pdef.kind for j in r.jobs)]
        if not candidates:
            raise ValueError(f"pattern {pdef.pattern_id} matches no repository")
        if pdef.pattern_id in PATTERN_HOMES:
            repos = [r for r in PATTERN_HOMES[pdef.pattern_id] if r in candidates]
        elif pdef.cross_repo:
            repos = rng.sample(candidates, min(len(candidates), rng.randint(2, 4)))
        else:
            repos = [rng.choice(candidates)]
        total = max(4, round(rng.randint(40, 200) * scale))
        first = rng.randint(5, int(N_DAYS * 0.5))
        span1 = rng.randint(45, 150)
        occ_days: list[int] = []
        fix_day: int | None = None
        if fix_kind in ("fixed", "fixed_recurred"):
            n_pre = total if fix_kind == "fixed" else max(3, int(total * 0.7))
            pre = sorted(_shift_weekday(rng, first + int(rng.random() * span1))
                         for _ in range(n_pre))
            pre[0], pre[-1] = first, _shift_weekday(rng, first + span1)
            occ_days += pre
            fix_day = max(pre) + rng.randint(5, 18)
            if fix_kind == "fixed_recurred":
                gap = rng.randint(14, 60)
                span2 = rng.randint(20, 120)
                occ_days += sorted(_shift_weekday(rng, fix_day + gap + int(rng.random() * span2))
                                   for _ in range(total - n_pre))
        else:
            span = min(N_DAYS - 1 - first, span1 + rng.randint(60, 320))
            occ_days += sorted(_shift_weekday(rng, first + int(rng.random() * span))
                               for _ in range(total))
            occ_days[0], occ_days[-1] = first, first + span
        occ_days = [d for d in occ_days if d < N_DAYS]
        if fix_day is not None and fix_day >= N_DAYS - 2:
            fix_day = None
            fix_kind = "open"
        occ_days.sort()
        ticket_day = None
        if fix_kind != "none" and len(occ_days) >= 3:
            ticket_day = occ_days[min(len(occ_days) - 1, rng.randint(2, 5))] + rng.randint(0, 3)
            if fix_day is not None and ticket_day >= fix_day:
                ticket_day = max(occ_days[0] + 1, fix_day - rng.randint(2, 4))
        occurrences = [(d, rng.choice(repos)) for d in occ_days]
        plans.append(PatternPlan(pdef, repos, fix_kind, occurrences, occ_days[0], fix_day,
                                 ticket_day))
    return plans


# ---------------------------------------------------------------- streaming


@dataclass
class _Run:
    created: float
    repo: Repo
    workflow: str  # CI | Deploy
    event: str
    actor: Person
    pattern: PatternPlan | None = None
    deploy_env: str | None = None
    deploy_plan: DeployFailurePlan | None = None
    deploy_fail: bool = False


@dataclass
class _PassInfo:
    job_id: int
    day: str
    repo: str
    toolchain: str
    kind: str
    name: str
    steps: list[tuple[str, float, float, str]]
    written: bool = False


_COMMIT_TEMPLATES = (
    "Fix {n} {v} {q}", "Add {v} support for {n}", "Refactor {n} {v} path", "Bump {p} from "
    "{a}.{b}.0 to {a}.{c}.0", "Handle {n} {q}", "Improve {n} error messages", "Remove unused "
    "{n} helpers", "Tune {n} retry settings", "Update {n} docs", "Speed up {n} tests",
)
_WORDS_N = ("invoice", "webhook", "session", "token", "ledger", "cache", "scheduler", "export",
            "search", "checkout", "profile", "retry", "metrics", "auth", "billing", "queue")
_WORDS_V = ("create", "validate", "parse", "sync", "render", "refund", "retry", "index",
            "encode", "migrate")
_WORDS_Q = ("for EU tenants", "on timeout", "with empty payload", "in dry run", "after deploy",
            "for legacy plans", "when disabled", "under load")
_PKGS = ("requests", "pydantic", "react", "eslint", "golang.org/x/net", "jackson-databind",
         "tokio", "serde", "boto3", "axios")


def _commit_message(rng: random.Random) -> str:
    return rng.choice(_COMMIT_TEMPLATES).format(
        n=rng.choice(_WORDS_N), v=rng.choice(_WORDS_V), q=rng.choice(_WORDS_Q),
        p=rng.choice(_PKGS), a=rng.randint(1, 9), b=rng.randint(0, 20), c=rng.randint(21, 40))


def _work_second(rng: random.Random, tz: str) -> float:
    """Second of the UTC day a developer in `tz` pushes; mostly local office hours."""
    wander = rng.random() < 0.08
    local = rng.uniform(0, 24) if wander else min(23.9, max(0.0, rng.gauss(13.5, 2.6)))
    return ((local + TZ_OFFSET_H[tz]) % 24) * 3600 + rng.uniform(0, 59)


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 50:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    l_exp, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= l_exp:
            return k
        k += 1


def _job_steps(rng: random.Random, toolchain: str, kind: str, start: float, total: float,
               fail: bool, cancelled: bool) -> tuple[list[tuple[str, float, float, str]], float]:
    names = logs.step_names(toolchain, kind)
    main = logs.main_step_index(names)
    fixed = {"Set up job": rng.uniform(1, 4), "Run actions/checkout@v4": rng.uniform(1, 6),
             "Install dependencies": rng.uniform(15, 90), "Upload coverage": rng.uniform(2, 6),
             "Post Run actions/checkout@v4": rng.uniform(0.2, 1.5),
             "Complete job": rng.uniform(0.1, 1.0), "Configure kubectl": rng.uniform(2, 8)}
    pre = sum(fixed.get(n, rng.uniform(2, 20)) for n in names[:main])
    main_dur = max(5.0, total - pre)
    if fail or cancelled:
        main_dur *= rng.uniform(0.15, 0.95)
    steps: list[tuple[str, float, float, str]] = []
    t = start
    after_main = False
    for i, n in enumerate(names):
        if i < main:
            d = fixed.get(n, rng.uniform(2, 20))
            concl = "success"
        elif i == main:
            d = main_dur
            concl = "failure" if fail else "cancelled" if cancelled else "success"
            after_main = fail or cancelled
        else:
            d = fixed.get(n, 1.0)
            concl = "skipped" if after_main and n == "Upload coverage" else "success"
            if concl == "skipped":
                d = 0.0
        steps.append((n, t, t + d, concl))
        t += d
    return steps, t


class CiStream:
    """Generates and writes GitHub data one day at a time."""

    def __init__(self, org: Org, out: OutputTree, seed: int, scale: float,
                 patterns: list[PatternPlan], deploy_failures: list[DeployFailurePlan]) -> None:
        self.org = org
        self.out = out
        self.seed = seed
        self.scale = scale
        self.patterns = patterns
        self.result = CiResult(occurrences={p.pdef.pattern_id: [] for p in patterns})
        self.repo_weights = [r.weight for r in org.repos]
        self.teams = {t.key: t for t in org.teams}
        self.run_id = 14_000_000_000
        self.job_id = 39_000_000_000
        self.dep_id = 2_100_000_000
        self.status_id = 5_600_000_000
        self.run_numbers: dict[tuple[str, str], int] = {}
        self.workflow_ids = {(r.name, wf): 90_000_000 + i * 7 + k for i, r in enumerate(org.repos)
                             for k, wf in enumerate(("CI", "Deploy"))}
        self.last_pass: dict[tuple[str, str], _PassInfo] = {}
        self.occ_by_day: dict[int, list[tuple[PatternPlan, str]]] = {}
        for p in patterns:
            for d, repo in p.occurrences:
                self.occ_by_day.setdefault(d, []).append((p, repo))
        self.dfail_by_day: dict[int, list[DeployFailurePlan]] = {}
        for f in deploy_failures:
            self.dfail_by_day.setdefault(int((f.deploy_at - START_TS) // 86400), []).append(f)
        self.carry_statuses: list[tuple[float, dict[str, Any]]] = []
        failed_expected = max(1.0, 10_000 * scale)
        self.secret_p = max(0.004, min(0.05, 5 / failed_expected))
        self.repo_json = {r.name: self._repository(r) for r in org.repos}
        self.head_repo_json = {r.name: {k: self.repo_json[r.name][k] for k in (
            "id", "node_id", "name", "full_name", "private", "html_url", "url")}
            for r in org.repos}
        self.service_repo = {s.repo: s for s in org.services}

    # -- records

    def _repository(self, repo: Repo) -> dict[str, Any]:
        return {
            "id": repo.gh_id,
            "node_id": node_id("010:Repository", repo.gh_id),
            "name": repo.name,
            "full_name": repo.full_name,
            "owner": {"login": ORG, "id": 5_800_001, "node_id": node_id("012:Organization",
                                                                        5_800_001),
                      "url": f"{GITHUB_API}/users/{ORG}", "html_url": f"{GITHUB_WEB}/{ORG}",
                      "type": "Organization", "site_admin": False},
            "private": True,
            "html_url": repo.html_url,
            "description": repo.description,
            "fork": False,
            "url": repo.api_url,
        }

    def run(self) -> CiResult:
        for d in range(N_DAYS):
            self._day(d)
        if self.carry_statuses:
            self._flush_statuses(N_DAYS, final=True)
        return self.result

    def _day(self, d: int) -> None:
        rng = rng_for(self.seed, "ci", d)
        day_ts = START_TS + d * 86400
        weekday = _weekday(d) < 5
        org = self.org
        runs: list[_Run] = []
        n = _poisson(rng, CI_RUNS_PER_WEEKDAY * self.scale * (1.0 if weekday else 0.12))
        repos = rng.choices(org.repos, weights=self.repo_weights, k=n)
        for repo in repos:
            team = self.teams[repo.team_key]
            runs.append(_Run(day_ts + _work_second(rng, team.tz), repo, "CI",
                             "pull_request" if rng.random() < 0.45 else "push",
                             rng.choice(team.members)))
        for plan, repo_name in self.occ_by_day.get(d, []):
            kind = plan.pdef.kind
            host = next((r for r in runs if r.repo.name == repo_name and r.pattern is None
                         and r.workflow == "CI" and any(j.kind == kind for j in r.repo.jobs)
                         and not (kind == "image" and r.event == "pull_request")), None)
            if host is None:
                repo = org.repo(repo_name)
                team = self.teams[repo.team_key]
                host = _Run(day_ts + _work_second(rng, team.tz), repo, "CI", "push",
                            rng.choice(team.members))
                runs.append(host)
            host.pattern = plan
        # deployments: staging most days, production after a successful staging roll-out
        for svc in org.services:
            repo = org.repo(svc.repo)
            team = self.teams[repo.team_key]
            lam = DEPLOYS_PER_SERVICE_DAY * self.scale * (1.0 if weekday else 0.08)
            for _ in range(_poisson(rng, lam)):
                t = day_ts + _work_second(rng, team.tz)
                actor = rng.choice(team.members)
                stg_fail = rng.random() < 0.05
                runs.append(_Run(t, repo, "Deploy", "push", actor, deploy_env="staging",
                                 deploy_fail=stg_fail))
                t2 = t + rng.uniform(1800, 3 * 3600)
                if not stg_fail and rng.random() < 0.8 and t2 < day_ts + 86400 - 1800:
                    runs.append(_Run(t2, repo, "Deploy", "workflow_dispatch", actor,
                                     deploy_env="production",
                                     deploy_fail=rng.random() < 0.035))
        for plan in self.dfail_by_day.get(d, []):
            repo = org.repo(plan.repo)
            team = self.teams[repo.team_key]
            runs.append(_Run(plan.deploy_at - 25, repo, "Deploy", "workflow_dispatch",
                             rng.choice(team.members), deploy_env="production",
                             deploy_plan=plan, deploy_fail=True))
        runs.sort(key=lambda r: (r.created, r.repo.name, r.workflow))

        out_runs: list[dict[str, Any]] = []
        out_jobs: list[dict[str, Any]] = []
        out_deps: list[dict[str, Any]] = []
        day_s = day_str(day_ts)
        for run in runs:
            self._emit_run(rng, run, day_s, out_runs, out_jobs, out_deps)
        if out_runs:
            self.out.write_json(f"github/runs/{day_s}.json",
                                {"total_count": len(out_runs), "workflow_runs": out_runs})
            self.out.write_json(f"github/jobs/{day_s}.json",
                                {"total_count": len(out_jobs), "jobs": out_jobs})
        if out_deps:
            self.out.write_json(f"github/deployments/{day_s}.json", out_deps)
        self.result.deployments += len(out_deps)
        self._flush_statuses(d)

    def _flush_statuses(self, d: int, final: bool = False) -> None:
        day_end = START_TS + (d + 1) * 86400
        today = [s for t, s in self.carry_statuses if t < day_end or final]
        self.carry_statuses = [(t, s) for t, s in self.carry_statuses if t >= day_end
                               and not final]
        if today:
            self.out.write_json(f"github/deployment_statuses/{day_s_of(d)}.json", today)
            self.result.deployment_statuses += len(today)

    def _emit_run(self, rng: random.Random, run: _Run, day_s: str, out_runs: list[dict[str, Any]],
                  out_jobs: list[dict[str, Any]], out_deps: list[dict[str, Any]]) -> None:
        repo = run.repo
        self.run_id += rng.randint(1, 40)
        run_id = self.run_id
        key = (repo.name, run.workflow)
        self.run_numbers[key] = self.run_numbers.get(key, 0) + 1
        sha = sha40(rng)
        pr_number = 0
        if run.event == "pull_request":
            branch = f"{run.actor.login}/{rng.choice(_WORDS_N)}-{rng.choice(_WORDS_V)}"
            pr_number = 100 + int((run.created - START_TS) / 86400 * 3) + rng.randint(0, 40)
        else:
            branch = "main"
        message = _commit_message(rng)
        run_url = f"{repo.api_url}/actions/runs/{run_id}"
        run_html = f"{repo.html_url}/actions/runs/{run_id}"
        start = run.created + rng.uniform(2, 25)
        cancelled_run = run.workflow == "CI" and rng.random() < 0.007
        if run.workflow == "CI":
            specs = [j for j in repo.jobs if not (j.kind == "image" and run.event ==
                                                  "pull_request")]
            if (run.event == "pull_request" and run.pattern is None and len(specs) > 1
                    and rng.random() < 0.2):
                specs = specs[:-1]
        else:
            specs = [JobSpec(f"deploy-{run.deploy_env}", "deploy")]
        pattern_job = None
        if run.pattern is not None:
            pattern_job = next(j for j in specs if j.kind == run.pattern.pdef.kind)
        any_fail = False
        run_end = start
        for spec in specs:
            self.job_id += rng.randint(1, 6)
            job_id = self.job_id
            job_html = f"{run_html}/job/{job_id}"
            failure: Failure | None = None
            failure_kind = ""
            pattern_id: str | None = None
            toolchain = "deploy" if spec.kind == "deploy" else repo.toolchain
            if spec is pattern_job and run.pattern is not None:
                lrng = rng_for(self.seed, "fail", job_id)
                failure = run.pattern.pdef.render(lrng, repo.name)
                failure_kind, pattern_id = "pattern", run.pattern.pdef.pattern_id
            elif spec.kind == "deploy":
                if run.deploy_fail:
                    lrng = rng_for(self.seed, "fail", job_id)
                    svc = self.service_repo[repo.name].name
                    failure = render_deploy_failure(lrng, svc, run.deploy_env or "staging")
                    failure_kind = "deploy"
            elif not cancelled_run and rng.random() < FAIL_P[spec.kind]:
                lrng = rng_for(self.seed, "fail", job_id)
                if rng.random() < 0.3:
                    failure, failure_kind = render_network_flake(lrng, repo.toolchain), "network"
                else:
                    failure = render_one_off(lrng, repo.toolchain, spec.kind, repo.name)
                    failure_kind = "one_off"
            jstart = start + rng.uniform(1, 40)
            if run.deploy_plan is not None:
                jstart = run.deploy_plan.deploy_at
            base = DURATION_S[spec.kind] * TOOL_SLOWNESS.get(repo.toolchain, 1.0)
            total = base * rng.lognormvariate(0, 0.45)
            if run.deploy_plan is not None:
                total = run.deploy_plan.duration
            steps, jend = _job_steps(rng, toolchain if toolchain != "deploy" else "go",
                                     spec.kind, jstart, total, failure is not None,
                                     cancelled_run)
            if run.deploy_plan is not None:
                steps[-1] = (steps[-1][0], steps[-1][1], jstart + total, steps[-1][3])
                jend = jstart + total
            conclusion = ("failure" if failure is not None else
                          "cancelled" if cancelled_run else "success")
            any_fail = any_fail or failure is not None
            run_end = max(run_end, jend)
            hosted = repo.team_key not in ("operations", "platform") or rng.random() < 0.3
            runner_no = rng.randint(1, 60)
            out_jobs.append({
                "id": job_id,
                "run_id": run_id,
                "run_url": run_url,
                "node_id": node_id("08:CheckRun", job_id),
                "head_sha": sha,
                "url": f"{repo.api_url}/actions/jobs/{job_id}",
                "html_url": job_html,
                "status": "completed",
                "conclusion": conclusion,
                "created_at": iso_z(start),
                "started_at": iso_z(jstart),
                "completed_at": iso_z(jend),
                "name": spec.name,
                "steps": [{"name": n, "status": "completed", "conclusion": c, "number": i + 1,
                           "started_at": iso_pacific(s), "completed_at": iso_pacific(e)}
                          for i, (n, s, e, c) in enumerate(steps)],
                "labels": ["ubuntu-latest"] if hosted else ["self-hosted", "linux", "x64",
                                                            "acme-large"],
                "runner_id": runner_no if hosted else 100 + runner_no,
                "runner_name": (f"GitHub Actions {runner_no}" if hosted else
                                f"acme-large-{runner_no:03d}"),
                "runner_group_id": 0 if hosted else 2,
                "runner_group_name": "GitHub Actions" if hosted else "acme-large",
                "workflow_name": run.workflow,
                "head_branch": branch,
            })
            self.result.jobs += 1
            lkey = (repo.name, spec.name)
            if failure is not None:
                self._write_failure_log(repo, toolchain, spec, job_id, day_s, steps, failure)
                self.result.failed_jobs.append((job_id, pattern_id, failure_kind, day_s))
                if pattern_id is not None:
                    self.result.occurrences[pattern_id].append(Occurrence(
                        job_id, run_id, repo.name, jstart, run_html, job_html, sha,
                        failure.headline))
                prev = self.last_pass.get(lkey)
                if prev is not None and not prev.written and rng.random() < 0.5:
                    self._write_pass_log(prev)
            elif conclusion == "success":
                self.last_pass[lkey] = _PassInfo(job_id, day_s, repo.name, toolchain,
                                                 spec.kind, spec.name, steps)
            if spec.kind == "deploy":
                self._emit_deployment(rng, run, run_id, run_html, job_html, sha, branch, jstart,
                                      jend, failure is not None, out_deps, job_id)
        conclusion = ("failure" if any_fail else "cancelled" if cancelled_run else "success")
        actor = deploys.user_ref(run.actor)
        workflow_file = ("deploy-script" if _script_deploy(run, run_id) else
                         run.workflow.lower())
        display = message if run.event != "pull_request" else f"{message} (#{pr_number})"
        out_runs.append({
            "id": run_id,
            "name": run.workflow,
            "node_id": node_id("011:WorkflowRun", run_id),
            "check_suite_id": run_id * 2 + 1,
            "check_suite_node_id": node_id("010:CheckSuite", run_id * 2 + 1),
            "head_branch": branch,
            "head_sha": sha,
            "path": f".github/workflows/{workflow_file}.yml",
            "run_number": self.run_numbers[key],
            "event": run.event,
            "display_title": display,
            "status": "completed",
            "conclusion": conclusion,
            "workflow_id": self.workflow_ids[key],
            "url": run_url,
            "html_url": run_html,
            "pull_requests": ([{"url": f"{repo.api_url}/pulls/{pr_number}", "id": 1_900_000_000
                                + pr_number, "number": pr_number,
                                "head": {"ref": branch, "sha": sha},
                                "base": {"ref": "main", "sha": sha40(rng)}}]
                              if pr_number else []),
            "created_at": iso_z(run.created),
            "updated_at": iso_z(run_end + 2),
            "actor": actor,
            "run_attempt": 1,
            "run_started_at": iso_z(start),
            "triggering_actor": actor,
            "workflow_url": f"{repo.api_url}/actions/workflows/{self.workflow_ids[key]}",
            "head_commit": {"id": sha, "tree_id": sha40(rng), "message": message,
                            "timestamp": iso_z(run.created - rng.uniform(5, 600)),
                            "author": {"name": run.actor.name, "email": run.actor.email},
                            "committer": {"name": "GitHub", "email": "noreply@github.com"}},
            "repository": self.repo_json[repo.name],
            "head_repository": self.head_repo_json[repo.name],
        })
        self.result.runs += 1

    def _emit_deployment(self, rng: random.Random, run: _Run, run_id: int, run_html: str,
                         job_html: str, sha: str, branch: str, jstart: float, jend: float,
                         failed: bool, out_deps: list[dict[str, Any]], job_id: int) -> None:
        repo = run.repo
        svc = self.service_repo[repo.name]
        env = run.deploy_env or "staging"
        self.dep_id += rng.randint(1, 30)
        dep_id = self.dep_id
        version = f"v{1 + int((run.created - START_TS) / 86400 / 90)}.{run_id % 1000}.0"
        script = _script_deploy(run, run_id)
        if not script:
            out_deps.append(deploys.deployment(
                repo, dep_id, sha=sha, ref=branch, environment=env, created=jstart,
                creator=run.actor, service=svc.name, run_id=run_id, version=version))
        states = [("in_progress", jstart + rng.uniform(2, 8))]
        final = "success"
        if failed:
            final = "error" if run.deploy_plan is None and rng.random() < 0.1 else "failure"
        states.append((final, jend))
        for state, t in states:
            self.status_id += rng.randint(1, 20)
            if script:
                continue  # the random draws above keep the rest of the org unchanged
            self.carry_statuses.append((t, deploys.deployment_status(
                repo, dep_id, self.status_id, state=state, environment=env, created=t,
                creator=run.actor, service=svc.name, run_html_url=run_html,
                job_html_url=job_html)))
        if run.deploy_plan is not None:
            p = run.deploy_plan
            p.deployment_id, p.deployment_url = dep_id, deploys.deployment_url(repo, dep_id)
            p.run_id, p.run_html_url, p.job_id, p.sha, p.failed_at = (run_id, run_html, job_id,
                                                                        sha, jend)
        elif script:
            self.result.script_prod_deploys.append({
                "run_id": run_id, "run_html_url": run_html, "job_id": job_id,
                "job_html_url": job_html, "service": svc.name, "repo": repo.full_name,
                "sha": sha, "actor": run.actor.login, "failed_at": iso_z(jend)})
        elif failed and env == "production":
            self.result.failed_prod_deploys.append({
                "deployment_id": dep_id, "deployment_url": deploys.deployment_url(repo, dep_id),
                "service": svc.name, "repo": repo.full_name, "run_id": run_id,
                "failed_at": iso_z(jend)})

    def _write_failure_log(self, repo: Repo, toolchain: str, spec: JobSpec, job_id: int,
                           day_s: str, steps: list[tuple[str, float, float, str]],
                           failure: Failure) -> None:
        lrng = rng_for(self.seed, "log", job_id)
        leak = lrng.random() < self.secret_p
        text, secret = logs.render_log(lrng, repo=repo.name, toolchain=(
            toolchain if toolchain != "deploy" else "go"), kind=spec.kind, job_name=spec.name,
            steps=steps, failure=failure, leak_secret=leak)
        path = f"github/logs/{day_s}/{job_id}.txt"
        self.out.write_text(path, text)
        self.result.logs_failed += 1
        if secret is not None:
            self.result.secrets.append({"job_id": job_id, "path": path, "kind": secret.kind,
                                        "line": secret.line, "value": secret.value})

    def _write_pass_log(self, info: _PassInfo) -> None:
        lrng = rng_for(self.seed, "log", info.job_id)
        text, _ = logs.render_log(lrng, repo=info.repo, toolchain=(
            info.toolchain if info.toolchain != "deploy" else "go"), kind=info.kind,
            job_name=info.name, steps=info.steps, failure=None)
        self.out.write_text(f"github/logs/{info.day}/{info.job_id}.txt", text)
        info.written = True
        self.result.logs_passing += 1


def _script_deploy(run: _Run, run_id: int) -> bool:
    """Some failed production deploys run as `deploy-script.yml`, a workflow without a GitHub
    environment: no deployment record, only the failed `deploy-production` job (a quarter of the
    unplanned ones, chosen by run id so no random draw changes)."""
    return (run.workflow == "Deploy" and run.deploy_env == "production" and run.deploy_fail
            and run.deploy_plan is None and run_id % 4 == 0)


def day_s_of(d: int) -> str:
    return day_str(START_TS + d * 86400)


def day_index(ts: float) -> int:
    return int((ts - START_TS) // 86400)


def utc(ts: float) -> datetime:
    from sampleorg.writer import from_epoch

    return from_epoch(ts)
