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
