-- marts.stale_summary: stale action items counted for all teams or one team, all reasons or one reason, every item or P0/P1 only: items, P0/P1 items, items without an owner, item × reason rows and the median days stale (per item, its longest-running reason of those counted).
WITH stale AS (
    SELECT action_item_id, reason, coalesce(team, '(unassigned)') AS team, days_stale,
        coalesce(priority IN ('P0', 'P1'), false) AS p1,
        bool_or(reason = 'no_owner') OVER (PARTITION BY action_item_id) AS unowned
    FROM marts.stale_action_items
),
variants AS (
    SELECT f.p1_only, s.* FROM stale s CROSS JOIN (VALUES (false), (true)) f(p1_only)
    WHERE NOT f.p1_only OR s.p1
),
any_reason AS (
    SELECT p1_only, team, action_item_id, max(days_stale) AS days_stale, count(*) AS rows,
        bool_or(p1) AS p1, bool_or(unowned) AS unowned
    FROM variants GROUP BY ALL
),
one_reason AS (
    SELECT p1_only, team, reason, action_item_id, max(days_stale) AS days_stale, count(*) AS rows,
        bool_or(p1) AS p1, bool_or(unowned) AS unowned
    FROM variants GROUP BY ALL
)
SELECT
    CASE WHEN GROUPING(team) = 1 THEN 'all' ELSE 'team' END AS grouping_set,
    p1_only, team, CAST(NULL AS VARCHAR) AS reason,
    count(*) AS items, count(*) FILTER (WHERE p1) AS p1_items,
    count(*) FILTER (WHERE unowned) AS without_owner, sum(rows) AS item_reasons,
    median(days_stale) AS median_days_stale
FROM any_reason
GROUP BY GROUPING SETS ((p1_only), (p1_only, team))
UNION ALL
SELECT
    CASE WHEN GROUPING(team) = 1 THEN 'reason' ELSE 'team_reason' END AS grouping_set,
    p1_only, team, reason,
    count(*) AS items, count(*) FILTER (WHERE p1) AS p1_items,
    count(*) FILTER (WHERE unowned) AS without_owner, sum(rows) AS item_reasons,
    median(days_stale) AS median_days_stale
FROM one_reason
GROUP BY GROUPING SETS ((p1_only, reason), (p1_only, team, reason))
ORDER BY grouping_set, p1_only, team, reason
