-- marts.time_to_ticket: one row per action item, ticketed or not (never-ticketed rows keep
-- NULL ticket columns, so they count instead of vanishing).
SELECT
    a.action_item_id,
    a.postmortem_id,
    p.title AS postmortem_title,
    a.team,
    a.service,
    a.text AS action_text,
    a.owner,
    coalesce(a.priority, t.priority) AS priority,
    a.identified_at,
    t.ticket_key,
    t.provider AS ticket_provider,
    t.url AS ticket_url,
    t.created_at AS ticket_created_at,
    (epoch(t.created_at) - epoch(a.identified_at)) / 3600.0 AS hours_to_ticket,
    l.link_kind
FROM core.action_items a
JOIN core.postmortems p USING (postmortem_id)
LEFT JOIN models.action_item_tickets l USING (action_item_id)
LEFT JOIN core.tickets t ON t.ticket_key = l.ticket_key
