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


@dataclass(frozen=True, slots=True)
class LogEntry:
    log_entry_id: str
    incident_id: str
    type: str | None
    created_at: datetime | None
    summary: str | None
    agent_type: str | None
    agent_summary: str | None
    channel_type: str | None
    channel_summary: str | None
    channel_details: str | None
    service: str | None


def map_log_entry(e: dict[str, Any]) -> LogEntry:
    """A `GET /incidents/{id}/log_entries` item; it names its incident in `incident.id`."""
    entry_id = text(require(e, "id"), "id")
    incident_id = text(opt(e, "incident", "id"), "incident.id")
    if not incident_id:
        raise RecordError(f"log entry {entry_id} names no incident (incident.id)")
    details = opt(e, "channel", "details")
    return LogEntry(
        log_entry_id=entry_id,  # type: ignore[arg-type]
        incident_id=incident_id,
        type=text(opt(e, "type"), "type"),
        created_at=timestamp(opt(e, "created_at"), "created_at"),
        summary=text(opt(e, "summary"), "summary"),
        agent_type=text(opt(e, "agent", "type"), "agent.type"),
        agent_summary=text(opt(e, "agent", "summary"), "agent.summary"),
        channel_type=text(opt(e, "channel", "type"), "channel.type"),
        channel_summary=text(opt(e, "channel", "summary") or opt(e, "channel", "description"),
                             "channel.summary"),
        channel_details=json.dumps(details, sort_keys=True) if details is not None else None,
        service=text(opt(e, "service", "summary"), "service.summary"),
    )
