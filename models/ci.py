"""CI vocabulary shared by the warehouse SQL, the draft loader and the dashboards."""

from __future__ import annotations

# Job conclusions that count as a failed CI job. Order matters only for readability; callers
# that bind it as SQL parameters use one placeholder per entry.
FAILED_CONCLUSIONS: tuple[str, ...] = ("failure", "timed_out", "startup_failure")

__all__ = ["FAILED_CONCLUSIONS"]
