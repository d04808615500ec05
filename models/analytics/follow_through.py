"""Settings for the follow-through marts: thresholds people argue about belong in one place.

Every value can be set through an environment variable; the marts store the values they were
computed with (`models.follow_through_settings`), so a figure can always be traced to its rule.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime

from models.analytics.time_to_ticket import DEFAULT_BENCHMARK_DAYS

BENCHMARK_SOURCE = (
    "vendor-reported industry figure (4.3 days from postmortem to ticket), not a measured standard"
)
SLO_SOURCE = (
    "Atlassian Incident Management Handbook: designated priority actions have an agreed SLO of "
    "4 or 8 weeks (https://www.atlassian.com/incident-management/handbook/postmortems); "
    "applying 4 weeks to P1/P2 and 8 weeks to other items is this installation's choice"
)


class SettingError(ValueError):
    """An environment variable holds a value the follow-through marts cannot use."""


@dataclass(frozen=True)
class FollowThroughSettings:
    as_of: datetime | None = None
    benchmark_days: float = DEFAULT_BENCHMARK_DAYS
    slo_priority_weeks: float = 4.0
    slo_other_weeks: float = 8.0
    done_within_days: int = 30
    p1_within_days: int = 30
    ticket_grace_hours: float = 24.0
    inactivity_days: int = 30
    verification_days: int = 30
    verification_window_days: int = 14
    min_ci_runs: int = 10
    justification_hours: float = 24.0
    fuzzy_window_days: int = 60
    fuzzy_threshold: float = 0.7

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> FollowThroughSettings:
        """Read `FOLLOWTHROUGH_<FIELD>` variables (e.g. FOLLOWTHROUGH_DONE_WITHIN_DAYS=45)."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in fields(cls):
            name = f"FOLLOWTHROUGH_{f.name.upper()}"
            raw = env.get(name)
            if raw is None or raw.strip() == "":
                continue
            values[f.name] = _parse(name, f.name, raw.strip())
        settings = cls(**values)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def validate(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "as_of":
                continue
            if v is None or v < 0:
                raise SettingError(f"FOLLOWTHROUGH_{f.name.upper()}={v!r}: must be a number >= 0")
        if not 0.0 < self.fuzzy_threshold <= 1.0:
            raise SettingError(
                f"FOLLOWTHROUGH_FUZZY_THRESHOLD={self.fuzzy_threshold!r}: must be in (0, 1]"
            )

    def row(self, as_of: datetime, as_of_source: str) -> dict[str, object]:
        """The `models.follow_through_settings` row, with the resolved `as_of`."""
        out = asdict(self)
        out.update(as_of=as_of, as_of_source=as_of_source, benchmark_source=BENCHMARK_SOURCE,
                   slo_source=SLO_SOURCE)
        return out


def _parse(var: str, name: str, raw: str) -> object:
    if name == "as_of":
        try:
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError as exc:
            raise SettingError(f"{var}={raw!r}: not an ISO-8601 timestamp") from exc
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    kind = int if name.endswith("_days") or name == "min_ci_runs" else float
    try:
        return kind(raw)
    except ValueError as exc:
        raise SettingError(f"{var}={raw!r}: not {'an integer' if kind is int else 'a number'}") \
            from exc


AS_OF_SQL = """
SELECT greatest(
    (SELECT max(completed_at) FROM core.ci_jobs),
    (SELECT max(greatest(created_at, updated_at, resolved_at)) FROM core.tickets),
    (SELECT max(occurred_at) FROM core.ticket_events),
    (SELECT max(greatest(created_at, resolved_at)) FROM core.incidents),
    (SELECT max(identified_at) FROM core.postmortems)
)
"""
