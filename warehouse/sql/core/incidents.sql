-- core.incidents: PagerDuty incidents, with the owning team and duration.
SELECT
    incident_id,
    'pagerduty'                 AS provider,
    incident_number,
    title,
    service,
    teams[1]                    AS team,
    priority,
    urgency,
    status,
    created_at,
    resolved_at,
    (epoch(resolved_at) - epoch(created_at)) / 60.0 AS duration_min,
    url,
    details
FROM raw.pagerduty_incidents
