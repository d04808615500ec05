-- core.action_items: one row per action item, identified at its postmortem's review meeting.
SELECT
    a.postmortem_id || '#' || a.ordinal AS action_item_id,
    a.postmortem_id,
    a.ordinal,
    a.text,
    a.owner,
    a.ticket AS ticket_ref,
    a.status,
    a.priority,
    a.due_date,
    a.sprint,
    a.verification,
    p.identified_at,
    p.team,
    p.service,
    a.line
FROM raw.postmortem_action_items a
JOIN core.postmortems p USING (postmortem_id)
