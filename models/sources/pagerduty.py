"""PagerDuty incidents (REST API v2 `GET /incidents`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models.sources.common import RecordError, integer, opt, require, text, timestamp


@dataclass(frozen=True, slots=True)
class Incident:
    incident_id: str
    incident_number: int | None
    title: str | None
    status: str | None
    urgency: str | None
    priority: str | None
    service: str | None
    teams: list[str]
    created_at: datetime | None
    resolved_at: datetime | None
    url: str | None
    details: str | None


def map_incident(i: dict[str, Any]) -> Incident:
    incident_id = text(require(i, "id"), "id")
    teams = opt(i, "teams") or []
    if not isinstance(teams, list):
        raise RecordError("field 'teams' should be a list")
    details = opt(i, "body", "details")
    if details is not None and not isinstance(details, str):
        details = json.dumps(details, sort_keys=True)
    resolved_at = timestamp(opt(i, "resolved_at"), "resolved_at")
    if resolved_at is None and opt(i, "status") == "resolved":
        # List responses often omit resolved_at; the last status change is the resolution.
        resolved_at = timestamp(opt(i, "last_status_change_at"), "last_status_change_at")
    return Incident(
        incident_id=incident_id,  # type: ignore[arg-type]
        incident_number=integer(opt(i, "incident_number"), "incident_number"),
        title=text(opt(i, "title") or opt(i, "summary"), "title"),
        status=text(opt(i, "status"), "status"),
        urgency=text(opt(i, "urgency"), "urgency"),
        priority=text(opt(i, "priority", "summary"), "priority.summary"),
        service=text(opt(i, "service", "summary"), "service.summary"),
        teams=[str(t.get("summary")) for t in teams if isinstance(t, dict) and t.get("summary")],
        created_at=timestamp(opt(i, "created_at"), "created_at"),
        resolved_at=resolved_at,
        url=text(opt(i, "html_url"), "html_url"),
        details=details,
    )
