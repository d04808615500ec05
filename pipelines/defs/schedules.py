"""When things run: the day's GitHub partition nightly, the other sources hourly.

core, models and marts follow their inputs by automation condition (eager), so they need the
Dagster daemon (`dg dev` runs one).
"""

import dagster as dg

github_daily = dg.build_schedule_from_partitioned_job(
    dg.define_asset_job(
        "github_actions_daily",
        selection=dg.AssetSelection.assets(["raw", "github_actions"]),
        partitions_def=None,
    ),
    hour_of_day=1,
    minute_of_hour=15,
)

sources_hourly = dg.ScheduleDefinition(
    name="sources_hourly",
    cron_schedule="7 * * * *",
    target=dg.AssetSelection.assets(
        ["raw", "jira"], ["raw", "linear"], ["raw", "pagerduty"], ["raw", "postmortems"],
        ["raw", "gitlab"], ["raw", "buildkite"], ["raw", "github_issues"], ["raw", "slack"],
    ),
)
