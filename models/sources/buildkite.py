"""Buildkite builds with their jobs (REST API v2 records).

Buildkite identifies builds and jobs by UUID, while the warehouse keys CI jobs (core.ci_jobs,
raw.ci_logs) by BIGINT. `bigint_id` maps a UUID to a stable 63-bit integer: the first 8 bytes of
the SHA-256 of the UUID's canonical text (lower case, hyphenated), big-endian, with the top bit
cleared. It is the same on every machine and every run; among a million jobs the chance that any
two share one is about 1 in 18 million. The UUID itself is kept beside it (`job_uuid`,
`build_uuid`), and a build's `run_id` is the same mapping of the build's UUID (build numbers
repeat across pipelines).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from models.sources.common import RecordError, integer, opt, require, text, timestamp

_MASK = (1 << 63) - 1


def canonical_uuid(value: str, field: str = "id") -> str:
    try:
        return str(uuid.UUID(value.strip()))
    except (ValueError, AttributeError):
        raise RecordError(f"field '{field}' is not a UUID: {value!r:.60}") from None


def bigint_id(value: str) -> int:
    """The stable 63-bit integer standing for a Buildkite UUID (see the module docstring)."""
    digest = hashlib.sha256(canonical_uuid(value).encode("ascii")).digest()
    return int.from_bytes(digest[:8], "big") & _MASK


@dataclass(frozen=True, slots=True)
class Build:
    build_uuid: str
    run_id: int
    number: int | None
    organization: str | None
    pipeline_slug: str
    pipeline_name: str | None
    state: str | None
    blocked: bool | None
    branch: str | None
    sha: str | None
    message: str | None
    source: str | None
    creator: str | None
    created_at: datetime | None
    scheduled_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    web_url: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class Job:
    job_id: int
    job_uuid: str
    build_uuid: str
    run_id: int
    pipeline_slug: str
    type: str | None
    name: str | None
    step_key: str | None
    command: str | None
    state: str | None
    exit_status: int | None
    soft_failed: bool | None
    retried: bool | None
    retried_in_job_uuid: str | None
    agent: str | None
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    web_url: str | None
    raw_log_url: str | None


def _bool(value: Any, field: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise RecordError(f"field '{field}' should be true or false, got {value!r:.40}")


def _organization(url: str | None) -> str | None:
    # https://api.buildkite.com/v2/organizations/{org}/pipelines/{slug}/builds/{n}
    parts = urlsplit(url or "").path.split("/")
    if "organizations" in parts:
        i = parts.index("organizations")
        return parts[i + 1] if i + 1 < len(parts) and parts[i + 1] else None
    return None


def _pipeline_slug(b: dict[str, Any]) -> str:
    found = opt(b, "pipeline", "slug")
    if found is None:
        parts = urlsplit(opt(b, "url") or "").path.split("/")
        if "pipelines" in parts and parts.index("pipelines") + 1 < len(parts):
            found = parts[parts.index("pipelines") + 1]
    if not found:
        raise RecordError("build names no pipeline (pipeline.slug or url)")
    return text(found, "pipeline.slug")  # type: ignore[return-value]


def map_build(b: dict[str, Any]) -> tuple[Build, list[Job]]:
    """The build and its command jobs; wait, block and trigger steps are not CI jobs."""
    build_uuid = canonical_uuid(text(require(b, "id"), "id"))  # type: ignore[arg-type]
    run_id = bigint_id(build_uuid)
    slug = _pipeline_slug(b)
    url = text(opt(b, "url"), "url")
    build = Build(
        build_uuid=build_uuid,
        run_id=run_id,
        number=integer(opt(b, "number"), "number"),
        organization=_organization(url) or _organization(opt(b, "pipeline", "url")),
        pipeline_slug=slug,
        pipeline_name=text(opt(b, "pipeline", "name"), "pipeline.name"),
        state=text(opt(b, "state"), "state"),
        blocked=_bool(opt(b, "blocked"), "blocked"),
        branch=text(opt(b, "branch"), "branch"),
        sha=text(opt(b, "commit"), "commit"),
        message=text(opt(b, "message"), "message"),
        source=text(opt(b, "source"), "source"),
        creator=text(opt(b, "creator", "email") or opt(b, "creator", "name"), "creator"),
        created_at=timestamp(opt(b, "created_at"), "created_at"),
        scheduled_at=timestamp(opt(b, "scheduled_at"), "scheduled_at"),
        started_at=timestamp(opt(b, "started_at"), "started_at"),
        finished_at=timestamp(opt(b, "finished_at"), "finished_at"),
        web_url=text(opt(b, "web_url"), "web_url"),
        url=url,
    )
    jobs_raw = opt(b, "jobs") or []
    if not isinstance(jobs_raw, list):
        raise RecordError("field 'jobs' should be a list")
    jobs: list[Job] = []
    for i, j in enumerate(jobs_raw):
        if not isinstance(j, dict):
            raise RecordError(f"jobs[{i}] should be an object")
        if j.get("type", "script") != "script":
            continue
        job_uuid = canonical_uuid(text(require(j, "id"), f"jobs[{i}].id"),  # type: ignore[arg-type]
                                  f"jobs[{i}].id")
        retried_in = text(opt(j, "retried_in_job_id"), f"jobs[{i}].retried_in_job_id")
        jobs.append(Job(
            job_id=bigint_id(job_uuid),
            job_uuid=job_uuid,
            build_uuid=build_uuid,
            run_id=run_id,
            pipeline_slug=slug,
            type=text(opt(j, "type"), f"jobs[{i}].type"),
            name=text(opt(j, "name"), f"jobs[{i}].name"),
            step_key=text(opt(j, "step_key"), f"jobs[{i}].step_key"),
            command=text(opt(j, "command"), f"jobs[{i}].command"),
            state=text(opt(j, "state"), f"jobs[{i}].state"),
            exit_status=integer(opt(j, "exit_status"), f"jobs[{i}].exit_status"),
            soft_failed=_bool(opt(j, "soft_failed"), f"jobs[{i}].soft_failed"),
            retried=_bool(opt(j, "retried"), f"jobs[{i}].retried"),
            retried_in_job_uuid=canonical_uuid(retried_in) if retried_in else None,
            agent=text(opt(j, "agent", "name"), f"jobs[{i}].agent.name"),
            created_at=timestamp(opt(j, "created_at"), f"jobs[{i}].created_at"),
            started_at=timestamp(opt(j, "started_at"), f"jobs[{i}].started_at"),
            finished_at=timestamp(opt(j, "finished_at"), f"jobs[{i}].finished_at"),
            web_url=text(opt(j, "web_url"), f"jobs[{i}].web_url"),
            raw_log_url=text(opt(j, "raw_log_url"), f"jobs[{i}].raw_log_url"),
        ))
    return build, jobs
