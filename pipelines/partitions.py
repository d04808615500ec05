"""The daily partitions of the GitHub Actions raw asset.

Partitions are part of the definitions, so their first day is read when the code location
loads (FOLLOWTHROUGH_START_DATE), not per run.
"""

import dagster as dg

from models.settings import Settings


def partitions_start() -> str:
    """First day of the daily partitions; set FOLLOWTHROUGH_START_DATE to your history's start."""
    return Settings.load(only=("START_DATE",)).start_date.isoformat()


DAILY = dg.DailyPartitionsDefinition(start_date=partitions_start(), end_offset=1)

# The failure-excerpt stage is split into buckets of repositories (an md5 hash of the
# repository name, so a bucket holds the same repositories on every machine and every run).
# Each bucket is a partition: its logs are excerpted in its own run or process, and a failure's
# passing log (same repository, workflow and job) always falls in the failure's own bucket.
REPO_BUCKETS = 16
REPO_BUCKET_PARTITIONS = dg.StaticPartitionsDefinition([f"{b:02d}" for b in range(REPO_BUCKETS)])
