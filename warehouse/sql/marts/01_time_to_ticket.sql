-- marts.time_to_ticket: one row per action item, ticketed or not (never-ticketed rows keep
-- NULL ticket columns). The ticket is the one the document names; failing that, a ticket whose
-- description cites the postmortem, paired with the item whose text its title best matches.
WITH by_key AS (
    SELECT a.action_item_id, t.ticket_key, 'doc_key' AS link_kind
    FROM core.action_items a
    JOIN core.tickets t
      ON t.ticket_key = upper(regexp_extract(a.ticket_ref, '([A-Za-z][A-Za-z0-9]+-[0-9]+)', 1))
),
mentions AS (
    SELECT a.action_item_id, t.ticket_key,
           jaro_winkler_similarity(lower(a.text), lower(t.title)) AS score
    FROM core.action_items a
    JOIN core.tickets t ON contains(t.description, a.postmortem_id)
    WHERE a.action_item_id NOT IN (SELECT action_item_id FROM by_key)
      AND t.ticket_key NOT IN (SELECT ticket_key FROM by_key)
),
best_for_ticket AS (
    SELECT * FROM mentions
    QUALIFY row_number() OVER (PARTITION BY ticket_key ORDER BY score DESC, action_item_id) = 1
),
by_mention AS (
    SELECT action_item_id, ticket_key, 'ticket_mentions_postmortem' AS link_kind
    FROM best_for_ticket
    QUALIFY row_number() OVER (PARTITION BY action_item_id ORDER BY score DESC, ticket_key) = 1
),
links AS (
    SELECT * FROM by_key UNION ALL SELECT * FROM by_mention
)
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
LEFT JOIN links l USING (action_item_id)
LEFT JOIN core.tickets t ON t.ticket_key = l.ticket_key
