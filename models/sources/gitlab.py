"""GitLab CI pipelines, jobs and deployments (REST API v4 records)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from models.sources.common import RecordError, integer, opt, require, text, timestamp

PRODUCTION_ENVIRONMENTS = frozenset({"production", "prod", "prd", "live"})


@dataclass(frozen=True, slots=True)
class Pipeline:
    pipeline_id: int
    iid: int | None
    project_id: int | None
    project_path: str | None
    name: str | None
    status: str | None
    source: str | None
    ref: str | None
    sha: str | None
    created_at: datetime | None
    updated_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    web_url: str | None


@dataclass(frozen=True, slots=True)
class Job:
    job_id: int
    pipeline_id: int
    project_id: int | None
    project_path: str | None
    name: str
    stage: str | None
    ref: str | None
    sha: str | None
    status: str | None
    failure_reason: str | None
    allow_failure: bool | None
    tag: bool | None
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    duration_s: float | None
    queued_s: float | None
    web_url: str | None
    runner: str | None
    username: str | None


@dataclass(frozen=True, slots=True)
class Deployment:
    deployment_id: int
    iid: int | None
    project_path: str | None
    environment: str | None
    production: bool | None
    status: str | None
    ref: str | None
    sha: str | None
    creator: str | None
    created_at: datetime | None
    updated_at: datetime | None
    job_id: int | None
    pipeline_id: int | None
    job_url: str | None
    pipeline_url: str | None
    environment_url: str | None


def project_path(url: str | None) -> str | None:
    """`group/sub/project` from a GitLab web URL of a pipeline, job or deployment.

    Web URLs read `<host>/<path>/-/jobs/6` (older ones `<host>/<path>/pipelines/47`). On an
    instance served under a relative URL root the root is part of what is returned."""
    if not url:
        return None
    path = urlsplit(url).path.strip("/")
    if "/-/" in f"/{path}/":
        head = f"/{path}/".split("/-/", 1)[0].strip("/")
        return head or None
    parts = path.split("/")
    for marker in ("pipelines", "jobs", "builds", "deployments", "environments"):
        if marker in parts[1:]:
            i = len(parts) - 1 - parts[::-1].index(marker)
            return "/".join(parts[:i]) or None
    return None


def _bool(value: Any, field: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise RecordError(f"field '{field}' should be true or false, got {value!r:.40}")


def _seconds(value: Any, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise RecordError(f"field '{field}' should be a number of seconds, got {value!r:.40}")


def map_pipeline(p: dict[str, Any]) -> Pipeline:
    pipeline_id = integer(require(p, "id"), "id")
    web_url = text(opt(p, "web_url"), "web_url")
    return Pipeline(
        pipeline_id=pipeline_id,  # type: ignore[arg-type]
        iid=integer(opt(p, "iid"), "iid"),
        project_id=integer(opt(p, "project_id"), "project_id"),
        project_path=project_path(web_url),
        name=text(opt(p, "name"), "name"),
        status=text(opt(p, "status"), "status"),
        source=text(opt(p, "source"), "source"),
        ref=text(opt(p, "ref"), "ref"),
        sha=text(opt(p, "sha"), "sha"),
        created_at=timestamp(opt(p, "created_at"), "created_at"),
        updated_at=timestamp(opt(p, "updated_at"), "updated_at"),
        started_at=timestamp(opt(p, "started_at"), "started_at"),
        finished_at=timestamp(opt(p, "finished_at"), "finished_at"),
        web_url=web_url,
    )


def map_job(j: dict[str, Any]) -> Job:
    job_id = integer(require(j, "id"), "id")
    pipeline = opt(j, "pipeline")
    if not isinstance(pipeline, dict) or pipeline.get("id") is None:
        raise RecordError("job names no pipeline (pipeline.id)")
    pipeline_id = integer(pipeline["id"], "pipeline.id")
    web_url = text(opt(j, "web_url"), "web_url")
    return Job(
        job_id=job_id,  # type: ignore[arg-type]
        pipeline_id=pipeline_id,  # type: ignore[arg-type]
        project_id=integer(opt(pipeline, "project_id"), "pipeline.project_id"),
        project_path=project_path(web_url),
        name=text(require(j, "name"), "name"),  # type: ignore[arg-type]
        stage=text(opt(j, "stage"), "stage"),
        ref=text(opt(j, "ref"), "ref"),
        sha=text(opt(j, "commit", "id") or opt(pipeline, "sha"), "commit.id"),
        status=text(opt(j, "status"), "status"),
        failure_reason=text(opt(j, "failure_reason"), "failure_reason"),
        allow_failure=_bool(opt(j, "allow_failure"), "allow_failure"),
        tag=_bool(opt(j, "tag"), "tag"),
        created_at=timestamp(opt(j, "created_at"), "created_at"),
        started_at=timestamp(opt(j, "started_at"), "started_at"),
        finished_at=timestamp(opt(j, "finished_at"), "finished_at"),
        duration_s=_seconds(opt(j, "duration"), "duration"),
        queued_s=_seconds(opt(j, "queued_duration"), "queued_duration"),
        web_url=web_url,
        runner=text(opt(j, "runner", "description"), "runner.description"),
        username=text(opt(j, "user", "username"), "user.username"),
    )


def map_deployment(d: dict[str, Any]) -> Deployment:
    """A deployment; production when its environment's tier says so (the connector sets the tier
    of the environments `production_environments` names) or its name reads like production."""
    dep_id = integer(require(d, "id"), "id")
    env = text(opt(d, "environment", "name"), "environment.name")
    tier = text(opt(d, "environment", "tier"), "environment.tier")
    pipeline_url = text(opt(d, "deployable", "pipeline", "web_url"), "deployable.pipeline.web_url")
    job_url = text(opt(d, "deployable", "web_url"), "deployable.web_url")
    return Deployment(
        deployment_id=dep_id,  # type: ignore[arg-type]
        iid=integer(opt(d, "iid"), "iid"),
        project_path=project_path(job_url) or project_path(pipeline_url),
        environment=env,
        production=(None if env is None and tier is None
                    else tier == "production" or (env or "").strip().lower()
                    in PRODUCTION_ENVIRONMENTS),
        status=text(opt(d, "status"), "status"),
        ref=text(opt(d, "ref"), "ref"),
        sha=text(opt(d, "sha"), "sha"),
        creator=text(opt(d, "user", "username"), "user.username"),
        created_at=timestamp(opt(d, "created_at"), "created_at"),
        updated_at=timestamp(opt(d, "updated_at"), "updated_at"),
        job_id=integer(opt(d, "deployable", "id"), "deployable.id"),
        pipeline_id=integer(opt(d, "deployable", "pipeline", "id"), "deployable.pipeline.id"),
        job_url=job_url,
        pipeline_url=pipeline_url,
        environment_url=text(opt(d, "environment", "external_url"), "environment.external_url"),
    )
