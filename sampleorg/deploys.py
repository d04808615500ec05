"""GitHub deployment and deployment-status records (vendor response shapes)."""

from __future__ import annotations

from typing import Any

from sampleorg.org import Person, Repo, node_id
from sampleorg.writer import iso_z


def user_ref(p: Person) -> dict[str, Any]:
    """The GitHub `simple-user` object, trimmed to its identifying fields."""
    return {
        "login": p.login,
        "id": p.gh_id,
        "node_id": node_id("04:User", p.gh_id),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{p.gh_id}?v=4",
        "html_url": f"https://github.com/{p.login}",
        "type": "User",
        "site_admin": False,
    }


def deployment_url(repo: Repo, dep_id: int) -> str:
    return f"{repo.api_url}/deployments/{dep_id}"


def deployment(repo: Repo, dep_id: int, *, sha: str, ref: str, environment: str,
               created: float, creator: Person, service: str, run_id: int,
               version: str) -> dict[str, Any]:
    url = deployment_url(repo, dep_id)
    return {
        "url": url,
        "id": dep_id,
        "node_id": node_id("010:Deployment", dep_id),
        "sha": sha,
        "ref": ref,
        "task": "deploy",
        "payload": {"service": service, "version": version, "workflow_run_id": run_id},
        "original_environment": environment,
        "environment": environment,
        "description": f"Deploy {service} {version} to {environment}",
        "creator": user_ref(creator),
        "created_at": iso_z(created),
        "updated_at": iso_z(created),
        "statuses_url": f"{url}/statuses",
        "repository_url": repo.api_url,
        "transient_environment": False,
        "production_environment": environment == "production",
    }


def deployment_status(repo: Repo, dep_id: int, status_id: int, *, state: str,
                      environment: str, created: float, creator: Person, service: str,
                      run_html_url: str, job_html_url: str) -> dict[str, Any]:
    url = deployment_url(repo, dep_id)
    desc = {"in_progress": "Deployment started.", "success": "Deployment finished successfully.",
            "failure": "Deployment failed.", "error": "Deployment errored before rollout.",
            "queued": "Deployment queued."}[state]
    return {
        "url": f"{url}/statuses/{status_id}",
        "id": status_id,
        "node_id": node_id("016:DeploymentStatus", status_id),
        "state": state,
        "creator": user_ref(creator),
        "description": desc,
        "environment": environment,
        "target_url": run_html_url,
        "created_at": iso_z(created),
        "updated_at": iso_z(created),
        "deployment_url": url,
        "repository_url": repo.api_url,
        "environment_url": (f"https://{service}.acme.dev" if environment == "production"
                            else f"https://{service}.{environment}.acme.dev"),
        "log_url": job_html_url,
    }
