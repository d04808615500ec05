"""GitHub Actions runs, jobs, deployments and deployment statuses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models.sources.common import RecordError, integer, opt, require, text, timestamp

PRODUCTION_ENVIRONMENTS = frozenset({"production", "prod", "prd", "live"})


@dataclass(frozen=True, slots=True)
class WorkflowRun:
    run_id: int
    repo: str
    workflow_id: int | None
    workflow_name: str | None
    run_number: int | None
    run_attempt: int | None
    event: str | None
    head_branch: str | None
    head_sha: str | None
    status: str | None
    conclusion: str | None
    actor: str | None
    created_at: datetime | None
    updated_at: datetime | None
    html_url: str | None


@dataclass(frozen=True, slots=True)
class Job:
    job_id: int
    run_id: int
    workflow_name: str | None
    name: str
    head_branch: str | None
    head_sha: str | None
    status: str | None
    conclusion: str | None
    started_at: datetime | None
    completed_at: datetime | None
    html_url: str | None
    runner_name: str | None
    failed_step: str | None
    step_count: int


@dataclass(frozen=True, slots=True)
class Deployment:
    deployment_id: int
    repo: str | None
    environment: str | None
    sha: str | None
    ref: str | None
    task: str | None
    description: str | None
    creator: str | None
    production: bool | None
    created_at: datetime | None
    updated_at: datetime | None
    url: str | None


@dataclass(frozen=True, slots=True)
class DeploymentStatus:
    status_id: int
    deployment_id: int
    state: str
    description: str | None
    environment: str | None
    target_url: str | None
    log_url: str | None
    creator: str | None
    created_at: datetime | None


def _repo_from_api_url(url: str | None) -> str | None:
    # https://api.github.com/repos/{owner}/{repo}[/...]
    if not url or "/repos/" not in url:
        return None
    parts = url.split("/repos/", 1)[1].split("/")
    return "/".join(parts[:2]) if len(parts) >= 2 else None


def _trailing_id(url: str | None, field: str) -> int:
    if not url:
        raise RecordError(f"missing required field '{field}'")
    tail = url.rstrip("/").rsplit("/", 1)[-1]
    if not tail.isdigit():
        raise RecordError(f"field '{field}' does not end in a numeric id: {url!r:.80}")
    return int(tail)


def map_run(r: dict[str, Any]) -> WorkflowRun:
    run_id = integer(require(r, "id"), "id")
    repo = opt(r, "repository", "full_name") or _repo_from_api_url(opt(r, "url"))
    if not repo:
        raise RecordError("run names no repository (repository.full_name or url)")
    return WorkflowRun(
        run_id=run_id,  # type: ignore[arg-type]
        repo=repo,
        workflow_id=integer(opt(r, "workflow_id"), "workflow_id"),
        workflow_name=text(opt(r, "name"), "name"),
        run_number=integer(opt(r, "run_number"), "run_number"),
        run_attempt=integer(opt(r, "run_attempt"), "run_attempt"),
        event=text(opt(r, "event"), "event"),
        head_branch=text(opt(r, "head_branch"), "head_branch"),
        head_sha=text(opt(r, "head_sha"), "head_sha"),
        status=text(opt(r, "status"), "status"),
        conclusion=text(opt(r, "conclusion"), "conclusion"),
        actor=text(opt(r, "actor", "login"), "actor.login"),
        created_at=timestamp(opt(r, "created_at"), "created_at"),
        updated_at=timestamp(opt(r, "updated_at"), "updated_at"),
        html_url=text(opt(r, "html_url"), "html_url"),
    )


def map_job(j: dict[str, Any]) -> Job:
    job_id = integer(require(j, "id"), "id")
    run_id = integer(require(j, "run_id"), "run_id")
    steps = opt(j, "steps") or []
    if not isinstance(steps, list):
        raise RecordError("field 'steps' should be a list")
    failed_step = next(
        (
            s.get("name")
            for s in steps
            if isinstance(s, dict) and s.get("conclusion") in {"failure", "timed_out"}
        ),
        None,
    )
    return Job(
        job_id=job_id,  # type: ignore[arg-type]
        run_id=run_id,  # type: ignore[arg-type]
        workflow_name=text(opt(j, "workflow_name"), "workflow_name"),
        name=text(require(j, "name"), "name"),  # type: ignore[arg-type]
        head_branch=text(opt(j, "head_branch"), "head_branch"),
        head_sha=text(opt(j, "head_sha"), "head_sha"),
        status=text(opt(j, "status"), "status"),
        conclusion=text(opt(j, "conclusion"), "conclusion"),
        started_at=timestamp(opt(j, "started_at"), "started_at"),
        completed_at=timestamp(opt(j, "completed_at"), "completed_at"),
        html_url=text(opt(j, "html_url"), "html_url"),
        runner_name=text(opt(j, "runner_name"), "runner_name"),
        failed_step=text(failed_step, "steps[].name"),
        step_count=len(steps),
    )


def map_deployment(d: dict[str, Any]) -> Deployment:
    dep_id = integer(require(d, "id"), "id")
    env = text(opt(d, "environment"), "environment")
    # GitHub sends production_environment: false unless the deployment sets it, so an
    # environment named like production counts as production whatever the flag says.
    flag = opt(d, "production_environment")
    named = env is not None and env.strip().lower() in PRODUCTION_ENVIRONMENTS
    prod = None if flag is None and env is None else bool(flag) or named
    return Deployment(
        deployment_id=dep_id,  # type: ignore[arg-type]
        repo=_repo_from_api_url(opt(d, "repository_url") or opt(d, "url")),
        environment=env,
        sha=text(opt(d, "sha"), "sha"),
        ref=text(opt(d, "ref"), "ref"),
        task=text(opt(d, "task"), "task"),
        description=text(opt(d, "description"), "description"),
        creator=text(opt(d, "creator", "login"), "creator.login"),
        production=prod,
        created_at=timestamp(opt(d, "created_at"), "created_at"),
        updated_at=timestamp(opt(d, "updated_at"), "updated_at"),
        url=text(opt(d, "url"), "url"),
    )


def map_deployment_status(s: dict[str, Any]) -> DeploymentStatus:
    status_id = integer(require(s, "id"), "id")
    return DeploymentStatus(
        status_id=status_id,  # type: ignore[arg-type]
        deployment_id=_trailing_id(
            opt(s, "deployment_url") or (opt(s, "url") or "").split("/statuses")[0] or None,
            "deployment_url",
        ),
        state=text(require(s, "state"), "state"),  # type: ignore[arg-type]
        description=text(opt(s, "description"), "description"),
        environment=text(opt(s, "environment"), "environment"),
        target_url=text(opt(s, "target_url"), "target_url"),
        log_url=text(opt(s, "log_url"), "log_url"),
        creator=text(opt(s, "creator", "login"), "creator.login"),
        created_at=timestamp(opt(s, "created_at"), "created_at"),
    )
