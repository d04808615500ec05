"""raw layer for the CI providers beside GitHub Actions: GitLab CI and Buildkite.

Their files are loaded whole (idempotent by file hash, like the other unpartitioned sources):
a connector re-lands a day's file when a pipeline in it changes, and only changed files load.
"""

from pipelines.defs.raw import _quarantine_check, unpartitioned
from pipelines.lineage import RAW_ASSETS

raw_gitlab = unpartitioned(
    "gitlab", RAW_ASSETS["gitlab"], {"gitlab"},
    "GitLab CI pipelines, jobs (retried attempts too), job traces and deployments.",
    connector="gitlab",
)
raw_buildkite = unpartitioned(
    "buildkite", RAW_ASSETS["buildkite"], {"buildkite"},
    "Buildkite builds with their jobs (retries too) and job logs.", connector="buildkite",
)

quarantine_checks = [
    _quarantine_check(asset, RAW_ASSETS[asset.key.path[-1]])
    for asset in (raw_gitlab, raw_buildkite)
]
