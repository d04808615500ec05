-- core.incidents: PagerDuty incidents, with the owning team and duration. Incident lists carry
-- no alert body; the trigger log entry's details (a deploy or CI run URL) stand in for it.
WITH triggered AS (
    SELECT incident_id, arg_min(CAST(channel_details AS VARCHAR), created_at) AS details
    FROM raw.pagerduty_log_entries
    WHERE type = 'trigger_log_entry' AND channel_details IS NOT NULL
    GROUP BY incident_id
)
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
    coalesce(i.details, t.details) AS details
FROM raw.pagerduty_incidents i
LEFT JOIN triggered t USING (incident_id)
