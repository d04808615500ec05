"""raw layer for the tracker sources: GitHub Issues (tickets) and Slack incident channels."""

from pipelines.defs.raw import _quarantine_check, unpartitioned
from pipelines.lineage import RAW_ASSETS

raw_github_issues = unpartitioned(
    "github_issues", RAW_ASSETS["github_issues"], {"github"},
    "GitHub issues (as tickets) with their timeline: state changes, labels, assignments, "
    "milestones and comments.", connector="github_issues",
)
raw_slack = unpartitioned(
    "slack", RAW_ASSETS["slack"], {"slack"},
    "Slack messages and thread replies of the incident channels, redacted, to the microsecond.",
    connector="slack",
)

tracker_quarantine_checks = [
    _quarantine_check(asset, RAW_ASSETS[asset.key.path[-1]])
    for asset in (raw_github_issues, raw_slack)
]
