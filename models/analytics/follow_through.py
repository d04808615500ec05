"""Settings for the follow-through marts: thresholds people argue about belong in one place.

Values come from `models.settings` (FOLLOWTHROUGH_* variables); the marts store the values they were
computed with (`models.follow_through_settings`), so a figure can always be traced to its rule.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from models.analytics.time_to_ticket import DEFAULT_BENCHMARK_DAYS

BENCHMARK_SOURCE = (
    "vendor-reported industry figure (4.3 days from postmortem to ticket), not a measured standard"
)
SLO_SOURCE = (
    "Atlassian Incident Management Handbook: designated priority actions have an agreed SLO of "
    "4 or 8 weeks (https://www.atlassian.com/incident-management/handbook/postmortems); "
    "applying 4 weeks to P1/P2 and 8 weeks to other items is this installation's choice"
)


@dataclass(frozen=True)
class FollowThroughSettings:
    """The thresholds; parsed from the environment by `models.settings.Settings.load`."""

    as_of: datetime | None = None
    benchmark_days: float = DEFAULT_BENCHMARK_DAYS
    slo_priority_weeks: float = 4.0
    slo_other_weeks: float = 8.0
    done_within_days: float = 30
    p1_within_days: float = 30
    ticket_grace_hours: float = 24.0
    inactivity_days: float = 30
    verification_days: float = 30
    verification_window_days: float = 14
    min_ci_runs: int = 10
    justification_hours: float = 24.0
    fuzzy_window_days: float = 60
    fuzzy_threshold: float = 0.7

    def row(self, as_of: datetime, as_of_source: str) -> dict[str, object]:
        """The `models.follow_through_settings` row, with the resolved `as_of`."""
        out = asdict(self)
        out.update(as_of=as_of, as_of_source=as_of_source, benchmark_source=BENCHMARK_SOURCE,
                   slo_source=SLO_SOURCE)
        return out


AS_OF_SQL = """
SELECT greatest(
    (SELECT max(completed_at) FROM core.ci_jobs),
    (SELECT max(greatest(created_at, updated_at, resolved_at)) FROM core.tickets),
    (SELECT max(occurred_at) FROM core.ticket_events),
    (SELECT max(greatest(created_at, resolved_at)) FROM core.incidents),
    (SELECT max(identified_at) FROM core.postmortems)
)
"""
