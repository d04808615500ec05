-- models.action_item_tickets: which ticket carries each action item. The key written in the
-- document wins; failing that, a ticket whose description cites the postmortem is paired with
-- the item whose text its title matches best (confidence = Jaro-Winkler similarity); failing
-- that, the best fuzzy candidate (models.action_item_ticket_candidates: title, assignee and
-- time proximity) not already linked to another item, marked 'fuzzy' with its evidence.
WITH key_refs AS (
    -- Jira/Linear keys (ABC-123), GitHub issues as owner/repo#123 or as their URL
    SELECT a.action_item_id, t.ticket_key
    FROM core.action_items a
    JOIN core.tickets t
      ON t.ticket_key = upper(regexp_extract(a.ticket_ref, '([A-Za-z][A-Za-z0-9]+-[0-9]+)', 1))
    UNION ALL
    SELECT a.action_item_id, t.ticket_key
    FROM core.action_items a
    JOIN core.tickets t
      ON t.provider = 'github'
     AND lower(t.ticket_key) = lower(regexp_extract(a.ticket_ref, '([\w.-]+/[\w.-]+#[0-9]+)', 1))
    UNION ALL
    SELECT a.action_item_id, t.ticket_key
    FROM core.action_items a
    JOIN core.tickets t
      ON t.provider = 'github'
     AND lower(t.url) = lower(regexp_extract(a.ticket_ref, '(https?://\S+/issues/[0-9]+)', 1))
),
by_key AS (
    SELECT action_item_id, ticket_key, 'doc_key' AS link_kind, 1.0 AS confidence,
           'key ' || ticket_key || ' written in the document' AS evidence
    FROM key_refs
    QUALIFY row_number() OVER (PARTITION BY action_item_id ORDER BY ticket_key) = 1
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
    SELECT action_item_id, ticket_key, 'ticket_mentions_postmortem' AS link_kind,
           score AS confidence,
           'ticket description cites the postmortem; title similarity '
               || round(score, 2) AS evidence
    FROM best_for_ticket
    QUALIFY row_number() OVER (PARTITION BY action_item_id ORDER BY score DESC, ticket_key) = 1
),
explicit AS (
    SELECT * FROM by_key
    UNION ALL
    SELECT * FROM by_mention
),
fuzzy_pool AS (
    SELECT c.*
    FROM models.action_item_ticket_candidates c
    JOIN core.action_items a USING (action_item_id)
    WHERE c.action_item_id NOT IN (SELECT action_item_id FROM explicit)
      AND c.ticket_key NOT IN (SELECT ticket_key FROM explicit)
      -- an item whose document names a key is never re-linked by guesswork
      AND NOT regexp_matches(coalesce(a.ticket_ref, ''),
                             '[A-Za-z][A-Za-z0-9]+-[0-9]+|[\w.-]+/[\w.-]+#[0-9]+|/issues/[0-9]+')
),
fuzzy_best_for_ticket AS (
    SELECT * FROM fuzzy_pool
    QUALIFY row_number() OVER (
        PARTITION BY ticket_key ORDER BY confidence DESC, days_after, action_item_id) = 1
),
by_fuzzy AS (
    SELECT action_item_id, ticket_key, 'fuzzy' AS link_kind, confidence, evidence
    FROM fuzzy_best_for_ticket
    QUALIFY row_number() OVER (
        PARTITION BY action_item_id ORDER BY confidence DESC, days_after, ticket_key) = 1
)
SELECT * FROM explicit
UNION ALL
SELECT * FROM by_fuzzy
