"""GitLab CI and Buildkite for the data team's two acquired services, with planted failed
production deploys that only those providers (or their configuration) can reveal.

- GitLab `acme-labs/ledger-sync` deploys through a GitLab environment: every deploy job has a
  deployment record, and a failed one is a failed production deployment.
- GitLab `acme-labs/edge-proxy` deploys with a plain `deploy:deploy-prod` job and no environment:
  no deployment record; only configuration (`gitlab_production_jobs`) says it is production. A
  failed canary job that is allowed to fail and a failed unit test are not deploy failures.
- Buildkite `edge-deploy` is the production pipeline (`production_pipelines`); `edge-ci` is not.
  A build whose only failure is a soft-failed smoke check passed.

Everything is drawn from its own random stream, so the GitHub side of the org is unchanged.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from sampleorg.org import N_DAYS, START_TS, Org, Person, rng_for, sha40
from sampleorg.patterns import render_deploy_failure
from sampleorg.writer import OutputTree, day_str, iso_ms_z, log_ts

GITLAB = "https://gitlab.acme.dev"
BUILDKITE = "https://buildkite.com/acme"
BUILDKITE_API = "https://api.buildkite.com/v2/organizations/acme"
SYNC = "acme-labs/ledger-sync"
EDGE = "acme-labs/edge-proxy"
# The `[automation]` keys under which the sample org's deploys are production (see the
# "Triggers" section of docs/automation.md): the deploy workflows' production job, the
# edge-proxy GitLab deploy job, the edge-deploy Buildkite pipeline and its deploy step.
AUTOMATION_TRIGGERS: dict[str, list[str]] = {
    "production_workflows": ["deploy*.yml"],
    "production_jobs": ["deploy-production", "*: deploy"],
    "gitlab_production_jobs": ["deploy:deploy-prod"],
    "production_pipelines": ["edge-deploy"],
}
SYNC_DEPLOY_FAILURES = 3
EDGE_DEPLOY_FAILURES = 2
BUILDKITE_DEPLOY_FAILURES = 3


@dataclass
class OtherCiResult:
    gitlab_pipelines: int = 0
    gitlab_jobs: int = 0
    gitlab_deployments: int = 0
    buildkite_builds: int = 0
    logs: int = 0
    # planted failed production deploys, by the ticket key followthrough gives each
    failed_deploys: list[dict[str, Any]] = field(default_factory=list)
    # failures planted to be ignored: allowed to fail, soft failed, not a production pipeline
    not_deploys: list[dict[str, Any]] = field(default_factory=list)


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _days(rng: random.Random, n: int) -> list[int]:
    """n distinct weekdays of the window, in order."""
    weekdays = [d for d in range(N_DAYS) if (START_TS // 86400 + d + 3) % 7 < 5]
    return sorted(rng.sample(weekdays, min(n, len(weekdays))))


def _log(rng: random.Random, start: float, end: float, head: list[str],
         failure_lines: list[str]) -> str:
    lines = [*head, *failure_lines]
    step = max(end - start, 1.0) / (len(lines) + 1)
    return "".join(f"{log_ts(start + (i + 1) * step)} {text}\n" for i, text in enumerate(lines))


def _user(p: Person, uid: int) -> dict[str, Any]:
    return {"id": uid, "name": p.name, "username": p.login, "state": "active",
            "web_url": f"{GITLAB}/{p.login}"}


class _GitLab:
    def __init__(self, org: Org, out: OutputTree, seed: int, result: OtherCiResult) -> None:
        self.org, self.out, self.seed, self.result = org, out, seed, result
        self.pipeline_id, self.job_id, self.deployment_id = 91_000, 4_400_000, 7_100
        self.people = org.team("data").members
        self.files: dict[str, list[dict[str, Any]]] = {}

    def _add(self, kind: str, project: str, day: str, record: dict[str, Any]) -> None:
        self.files.setdefault(f"gitlab/{kind}/{day}.{project.replace('/', '__')}.json",
                              []).append(record)

    def pipeline(self, rng: random.Random, project: str, t0: float, *,
                 deploy: str, environment: bool, fail: str | None) -> None:
        """One pipeline: build, unit, and `deploy` (failing where `fail` says)."""
        self.pipeline_id += rng.randint(1, 30)
        pid = self.pipeline_id
        sha = sha40(rng)
        who = rng.choice(self.people)
        day = day_str(t0)
        web = f"{GITLAB}/{project}"
        jobs = [("build", "build", False), ("test", "unit", False), ("deploy", deploy, False)]
        if fail == "canary":
            jobs.append(("deploy", "deploy-prod-canary", True))
        t = t0 + rng.uniform(5, 30)
        status = "success"
        for stage, name, allowed in jobs:
            self.job_id += rng.randint(1, 9)
            jid = self.job_id
            dur = rng.uniform(60, 400)
            failed = ((fail == "deploy" and name == deploy) or (fail == "unit" and name == "unit")
                      or (fail == "canary" and allowed))
            if failed and not allowed:
                status = "failed"
            job = {
                "id": jid, "name": name, "stage": stage, "ref": "main", "tag": False,
                "status": "failed" if failed else "success",
                "failure_reason": "script_failure" if failed else None,
                "allow_failure": allowed, "created_at": iso_ms_z(t0),
                "started_at": iso_ms_z(t), "finished_at": iso_ms_z(t + dur),
                "duration": round(dur, 3), "queued_duration": round(rng.uniform(0.2, 9), 3),
                "web_url": f"{web}/-/jobs/{jid}",
                "commit": {"id": sha, "short_id": sha[:8], "title": "Ship it",
                           "author_name": who.name, "author_email": who.email},
                "pipeline": {"id": pid, "project_id": 311 if project == SYNC else 312,
                             "ref": "main", "sha": sha, "status": "running"},
                "runner": {"description": f"acme-labs-runner-{rng.randint(1, 6)}"},
                "user": _user(who, 9000 + self.people.index(who)),
            }
            self._add("jobs", project, day, job)
            self.result.gitlab_jobs += 1
            if failed:
                svc = project.rsplit("/", 1)[-1]
                failure = render_deploy_failure(rng_for(self.seed, "gitlab-fail", jid), svc,
                                                "production")
                self.out.write_text(f"gitlab/logs/{day}/{jid}.txt", _log(
                    rng, t, t + dur,
                    [f"Running with gitlab-runner 17.5.2 on acme-labs-runner-{jid % 6 + 1}",
                     f"$ ./scripts/{name}.sh"],
                    [*failure.lines, f"ERROR: Job failed: exit code {failure.exit_code}"]))
                self.result.logs += 1
                record = {"provider": "gitlab", "project": project, "pipeline_id": pid,
                          "job_id": jid, "job_url": f"{web}/-/jobs/{jid}",
                          "pipeline_url": f"{web}/-/pipelines/{pid}", "sha": sha,
                          "user": who.login, "failed_at": iso_ms_z(t + dur),
                          "headline": failure.headline}
                if allowed or name != deploy:
                    self.result.not_deploys.append(
                        {**record, "why": "allowed to fail" if allowed else "not a deploy job"})
                elif not environment:
                    self.result.failed_deploys.append(
                        {**record, "key": f"gitlab-pipeline:{pid}", "trigger": "gitlab_job"})
            if name == deploy and environment:
                self.deployment(rng, project, pid, job, sha, who, t, t + dur, failed)
            t += dur + rng.uniform(2, 20)
            if failed and not allowed and name != deploy:
                break  # a failed test stage: the deploy stage never runs
        self._add("pipelines", project, day, {
            "id": pid, "iid": pid - 90_000, "project_id": 311 if project == SYNC else 312,
            "status": status, "source": "push", "ref": "main", "sha": sha,
            "name": "Deploy pipeline", "web_url": f"{web}/-/pipelines/{pid}",
            "created_at": iso_ms_z(t0), "updated_at": iso_ms_z(t),
            "started_at": iso_ms_z(t0 + 3), "finished_at": iso_ms_z(t)})
        self.result.gitlab_pipelines += 1

    def deployment(self, rng: random.Random, project: str, pid: int, job: dict[str, Any],
                   sha: str, who: Person, start: float, end: float, failed: bool) -> None:
        self.deployment_id += rng.randint(1, 4)
        did = self.deployment_id
        web = f"{GITLAB}/{project}"
        self._add("deployments", project, day_str(start), {
            "id": did, "iid": did - 7_000, "ref": "main", "sha": sha,
            "status": "failed" if failed else "success",
            "created_at": iso_ms_z(start), "updated_at": iso_ms_z(end),
            "user": _user(who, 9000 + self.people.index(who)),
            "environment": {"id": 41, "name": "production", "tier": "production",
                            "external_url": "https://ledger-sync.acme.dev"},
            "deployable": {**{k: job[k] for k in ("id", "name", "stage", "status", "ref",
                                                  "created_at", "started_at", "finished_at",
                                                  "web_url", "commit", "user")},
                           "pipeline": {"id": pid, "ref": "main", "sha": sha,
                                        "status": "failed" if failed else "success",
                                        "web_url": f"{web}/-/pipelines/{pid}"}},
        })
        self.result.gitlab_deployments += 1
        if failed:
            self.result.failed_deploys.append({
                "provider": "gitlab", "project": project, "key": f"gitlab:{did}",
                "trigger": "gitlab_deployment", "deployment_id": did, "pipeline_id": pid,
                "job_id": job["id"], "job_url": job["web_url"],
                "pipeline_url": f"{web}/-/pipelines/{pid}", "sha": sha, "user": who.login,
                "failed_at": iso_ms_z(end)})

    def flush(self) -> None:
        for path, records in sorted(self.files.items()):
            self.out.write_json(path, records)


class _Buildkite:
    def __init__(self, org: Org, out: OutputTree, seed: int, result: OtherCiResult) -> None:
        self.org, self.out, self.seed, self.result = org, out, seed, result
        self.people = org.team("data").members
        self.numbers: dict[str, int] = {}
        self.files: dict[str, list[dict[str, Any]]] = {}

    def build(self, rng: random.Random, slug: str, t0: float, *, fail: str | None) -> None:
        """A build of `slug`: `:rocket: deploy` then `:mag: smoke` (edge-deploy), or
        `:pytest: unit` (edge-ci); `fail` names the job that fails."""
        n = self.numbers[slug] = self.numbers.get(slug, 0) + 1
        build_id = _uuid(rng)
        sha = sha40(rng)
        who = rng.choice(self.people)
        day = day_str(t0)
        web = f"{BUILDKITE}/{slug}/builds/{n}"
        api = f"{BUILDKITE_API}/pipelines/{slug}/builds/{n}"
        steps = ([(":rocket: deploy", "deploy", "make deploy"), (":mag: smoke", "smoke",
                                                                "make smoke")]
                 if slug == "edge-deploy" else [(":pytest: unit", "unit", "make unit")])
        t = t0 + rng.uniform(3, 20)
        jobs = []
        state = "passed"
        for name, key, command in steps:
            job_id = _uuid(rng)
            dur = rng.uniform(40, 300)
            failed = fail == key or (fail == "soft" and key == "smoke")
            soft = fail == "soft" and key == "smoke"
            if failed and not soft:
                state = "failed"
            jobs.append({
                "id": job_id, "type": "script", "name": name, "step_key": key,
                "command": command, "state": "failed" if failed else "passed",
                "soft_failed": soft, "exit_status": (3 if failed else 0), "retried": False,
                "web_url": f"{web}#{job_id}", "log_url": f"{api}/jobs/{job_id}/log",
                "raw_log_url": f"{api}/jobs/{job_id}/log.txt",
                "agent": {"name": f"edge-agent-{rng.randint(1, 4)}"},
                "created_at": iso_ms_z(t0), "scheduled_at": iso_ms_z(t0),
                "started_at": iso_ms_z(t), "finished_at": iso_ms_z(t + dur)})
            if failed:
                failure = render_deploy_failure(rng_for(self.seed, "buildkite-fail", job_id),
                                                "edge-proxy", "production")
                self.out.write_text(f"buildkite/logs/{day}/{job_id}.txt", _log(
                    rng, t, t + dur, ["~~~ Preparing working directory", f"$ {command}"],
                    [*failure.lines, "🚨 Error: The command exited with status 3"]))
                self.result.logs += 1
                record = {"provider": "buildkite", "pipeline": slug, "build_uuid": build_id,
                          "number": n, "build_url": web, "job_uuid": job_id,
                          "job_url": f"{web}#{job_id}", "sha": sha, "creator": who.email,
                          "failed_at": iso_ms_z(t + dur), "headline": failure.headline}
                if slug == "edge-deploy" and not soft:
                    self.result.failed_deploys.append(
                        {**record, "key": f"buildkite:{build_id}", "trigger": "buildkite_build"})
                else:
                    self.result.not_deploys.append(
                        {**record, "why": "soft failed" if soft else "not a production "
                                                                     "pipeline"})
            t += dur + rng.uniform(1, 10)
            if failed and not soft:
                break  # the deploy failed: nothing after it runs
        self.files.setdefault(f"buildkite/builds/{day}.{slug}.json", []).append({
            "id": build_id, "url": api, "web_url": web, "number": n, "state": state,
            "blocked": False, "message": "Ship edge-proxy", "commit": sha, "branch": "main",
            "env": {}, "source": "webhook",
            "creator": {"id": _uuid(rng), "name": who.name, "email": who.email},
            "created_at": iso_ms_z(t0), "scheduled_at": iso_ms_z(t0),
            "started_at": iso_ms_z(t0 + 2), "finished_at": iso_ms_z(t),
            "pipeline": {"slug": slug, "name": "Edge deploy" if slug == "edge-deploy"
                         else "Edge CI", "url": f"{BUILDKITE_API}/pipelines/{slug}"},
            "jobs": jobs})
        self.result.buildkite_builds += 1

    def flush(self) -> None:
        for path, records in sorted(self.files.items()):
            self.out.write_json(path, records)


def write_other_ci(org: Org, out: OutputTree, seed: int, scale: float) -> OtherCiResult:
    """The GitLab and Buildkite exports; at any scale the same planted failures, around a
    number of ordinary pipelines that grows with the scale."""
    rng = rng_for(seed, "otherci")
    result = OtherCiResult()
    gitlab = _GitLab(org, out, seed, result)
    buildkite = _Buildkite(org, out, seed, result)
    n = max(12, round(40 * scale))

    def at(day: int) -> float:
        return START_TS + day * 86400 + rng.uniform(9, 17) * 3600

    sync = _days(rng, n)
    fails = set(rng.sample(range(len(sync)), SYNC_DEPLOY_FAILURES))
    for i, day in enumerate(sync):
        gitlab.pipeline(rng, SYNC, at(day), deploy="deploy-production", environment=True,
                        fail="deploy" if i in fails else None)
    edge = _days(rng, n)
    plan = rng.sample(range(len(edge)), EDGE_DEPLOY_FAILURES + 2)
    kinds = {plan[0]: "unit", plan[1]: "canary", **{i: "deploy" for i in plan[2:]}}
    for i, day in enumerate(edge):
        gitlab.pipeline(rng, EDGE, at(day), deploy="deploy-prod", environment=False,
                        fail=kinds.get(i))
    deploys = _days(rng, n)
    plan = rng.sample(range(len(deploys)), BUILDKITE_DEPLOY_FAILURES + 1)
    kinds = {plan[0]: "soft", **{i: "deploy" for i in plan[1:]}}
    for i, day in enumerate(deploys):
        buildkite.build(rng, "edge-deploy", at(day), fail=kinds.get(i))
    for i, day in enumerate(_days(rng, max(6, n // 2))):
        buildkite.build(rng, "edge-ci", at(day), fail="unit" if i % 3 == 0 else None)
    gitlab.flush()
    buildkite.flush()
    return result
