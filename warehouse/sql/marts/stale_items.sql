-- marts.stale_items: one row per stale action item, its reasons and details folded longest-running first, numbered in the order a manager acts on them (P0/P1 first, then more reasons, then longest stale).
WITH items AS (
    SELECT action_item_id,
        any_value(postmortem_id) AS postmortem_id,
        coalesce(any_value(team), '(unassigned)') AS team,
        any_value(service) AS service,
        any_value(owner) AS owner,
        any_value(priority) AS priority,
        any_value(action_text) AS action_text,
        any_value(ticket_key) AS ticket_key,
        any_value(ticket_url) AS ticket_url,
        list(reason ORDER BY days_stale DESC NULLS LAST, reason) AS reasons,
        count(DISTINCT reason) AS reason_count,
        max(days_stale) AS days_stale,
        string_agg(detail, ' | ' ORDER BY days_stale DESC NULLS LAST, reason) AS details,
        any_value(as_of) AS as_of
    FROM marts.stale_action_items
    GROUP BY action_item_id
)
SELECT
    row_number() OVER (ORDER BY
        coalesce(priority IN ('P0', 'P1'), false) DESC, reason_count DESC,
        days_stale DESC NULLS LAST,
        CASE priority WHEN 'P0' THEN 0 WHEN 'P1' THEN 1 WHEN 'P2' THEN 2 WHEN 'P3' THEN 3
            WHEN 'P4' THEN 4 ELSE 9 END,
        action_item_id) AS act_order,
    *
FROM items
ORDER BY act_order
