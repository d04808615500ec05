-- core.ticket_events: status, sprint, due-date and assignee changes and comments, per ticket.
SELECT
    key AS ticket_key, 'jira' AS provider, event_id || ':' || seq AS event_id, occurred_at, author,
    kind, field, from_value, to_value, body
FROM raw.jira_events
UNION ALL BY NAME
SELECT
    identifier AS ticket_key, 'linear' AS provider, seq || ':' || field AS event_id, occurred_at,
    author, coalesce(kind, 'change') AS kind,
    CASE WHEN kind = 'comment' THEN NULL
         WHEN field = 'dueDate' THEN 'duedate' WHEN field = 'cycle' THEN 'Sprint'
         WHEN field = 'state' THEN 'status' ELSE field END AS field,
    from_value, to_value, body
FROM raw.linear_events
UNION ALL BY NAME
SELECT
    ticket_key, 'github' AS provider, event_id, occurred_at, author, kind, field, from_value,
    to_value, body
FROM raw.github_issue_events
