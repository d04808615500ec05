"""GitHub Actions runs, jobs, deployments and deployment statuses."""

from __future__ import annotations

import re
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
    display_title: str | None
    workflow_path: str | None
    run_started_at: datetime | None


@dataclass(frozen=True, slots=True)
class Job:
    job_id: int
    run_id: int
    workflow_name: str | None
    name: str | None
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
    repo: str | None
    run_url: str | None
    run_attempt: int | None


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


# The web address of a run or of one of its jobs, on github.com or a GitHub Enterprise host:
# https://HOST/OWNER/REPO/actions/runs/RUN[/attempts/N | /job/JOB | /jobs/N (older form)]
_RUN_WEB_URL = re.compile(
    r"^(?P<run_url>https?://[^/]+/(?P<repo>[^/]+/[^/]+)/actions/runs/(?P<run_id>\d+))(?:[/?#]|$)"
)
# The API address of a run: https://api.github.com/repos/OWNER/REPO/actions/runs/RUN, or
# https://HOST/api/v3/repos/... on GitHub Enterprise Server.
_RUN_API_URL = re.compile(
    r"^(?P<scheme>https?)://(?P<host>[^/]+)(?P<prefix>/api/v3)?/repos/(?P<repo>[^/]+/[^/]+)"
    r"/actions/runs/(?P<run_id>\d+)(?:[/?#]|$)"
)


def run_web_url(url: str | None) -> tuple[str, str, int] | None:
    """(repo, run web URL, run id) named by a run's or job's web address, or None."""
    m = _RUN_WEB_URL.match(url) if isinstance(url, str) else None
    return (m["repo"], m["run_url"], int(m["run_id"])) if m else None


def run_api_url(url: str | None) -> tuple[str, str, int] | None:
    """(repo, run web URL, run id) named by a run's API address, or None.

    The web host of api.github.com is github.com; an Enterprise server answers both on one host."""
    m = _RUN_API_URL.match(url) if isinstance(url, str) else None
    if not m:
        return None
    host = "github.com" if m["host"] == "api.github.com" else m["host"]
    web = f"{m['scheme']}://{host}/{m['repo']}/actions/runs/{m['run_id']}"
    return m["repo"], web, int(m["run_id"])


def _trailing_id(url: str | None, field: str) -> int:
    if not url:
        raise RecordError(f"missing required field '{field}'")
    tail = url.rstrip("/").rsplit("/", 1)[-1]
    if not tail.isdigit():
        raise RecordError(f"field '{field}' does not end in a numeric id: {url!r:.80}")
    return int(tail)


def map_run(r: dict[str, Any]) -> WorkflowRun:
    """A workflow run; only `id` and something naming the repository are required.

    Runs recorded before mid-2021 have no `name`, `run_attempt`, `run_started_at`,
    `triggering_actor` or `display_title`; the workflow then goes by its file (`path`), the actor
    by who triggered a re-run, the commit by `head_commit`. A re-run keeps `created_at` of the
    first attempt: `run_started_at` is when this attempt started."""
    run_id = integer(require(r, "id"), "id")
    html_url = text(opt(r, "html_url"), "html_url")
    from_urls = run_web_url(html_url) or run_api_url(text(opt(r, "url"), "url"))
    repo = (
        opt(r, "repository", "full_name")
        or (from_urls[0] if from_urls else None)
        or _repo_from_api_url(opt(r, "url"))
    )
    if not repo:
        raise RecordError(f"run {run_id} names no repository (repository.full_name, html_url or url)")
    path = text(opt(r, "path"), "path")
    return WorkflowRun(
        run_id=run_id,  # type: ignore[arg-type]
        repo=text(repo, "repository.full_name"),  # type: ignore[arg-type]
        workflow_id=integer(opt(r, "workflow_id"), "workflow_id"),
        workflow_name=text(opt(r, "name"), "name") or _workflow_file(path),
        run_number=integer(opt(r, "run_number"), "run_number"),
        run_attempt=integer(opt(r, "run_attempt"), "run_attempt"),
        event=text(opt(r, "event"), "event"),
        head_branch=text(opt(r, "head_branch"), "head_branch"),
        head_sha=text(opt(r, "head_sha") or opt(r, "head_commit", "id"), "head_sha"),
        status=text(opt(r, "status"), "status"),
        conclusion=text(opt(r, "conclusion"), "conclusion"),
        actor=text(
            opt(r, "actor", "login") or opt(r, "triggering_actor", "login"), "actor.login"
        ),
        created_at=timestamp(opt(r, "created_at"), "created_at"),
        updated_at=timestamp(opt(r, "updated_at"), "updated_at"),
        html_url=html_url or (from_urls[1] if from_urls else None),
        display_title=text(
            opt(r, "display_title") or _first_line(opt(r, "head_commit", "message")),
            "display_title",
        ),
        workflow_path=path,
        run_started_at=timestamp(opt(r, "run_started_at"), "run_started_at"),
    )


def _workflow_file(path: str | None) -> str | None:
    """`ci.yml` from `.github/workflows/ci.yml` (dynamic workflows carry `dynamic/...`)."""
    return (path.rstrip("/").rsplit("/", 1)[-1] or None) if path else None


def _first_line(message: Any) -> str | None:
    if not isinstance(message, str) or not message.strip():
        return None
    return message.strip().splitlines()[0]


def map_job(j: dict[str, Any]) -> Job:
    """A job; `id` is required, and its run by `run_id` or by a URL that names the run.

    The job's `run_url` (API) and `html_url` (web: `.../actions/runs/RUN/job/JOB`, older
    `.../runs/RUN/jobs/N`, any GitHub Enterprise host) name the repository and the run, so a job
    whose run is not in the export still has both."""
    job_id = integer(require(j, "id"), "id")
    html_url = text(opt(j, "html_url"), "html_url")
    from_urls = run_api_url(text(opt(j, "run_url"), "run_url")) or run_web_url(html_url)
    run_id = integer(opt(j, "run_id"), "run_id")
    if run_id is None:
        if from_urls is None:
            raise RecordError(f"job {job_id} names no run (run_id, run_url or html_url)")
        run_id = from_urls[2]
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
        name=text(opt(j, "name"), "name"),
        head_branch=text(opt(j, "head_branch"), "head_branch"),
        head_sha=text(opt(j, "head_sha"), "head_sha"),
        status=text(opt(j, "status"), "status"),
        conclusion=text(opt(j, "conclusion"), "conclusion"),
        started_at=timestamp(opt(j, "started_at"), "started_at"),
        completed_at=timestamp(opt(j, "completed_at"), "completed_at"),
        html_url=html_url,
        runner_name=text(opt(j, "runner_name"), "runner_name"),
        failed_step=text(failed_step, "steps[].name"),
        step_count=len(steps),
        repo=from_urls[0] if from_urls else None,
        run_url=from_urls[1] if from_urls else None,
        run_attempt=integer(opt(j, "run_attempt"), "run_attempt"),
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
