-- marts.postmortem_missing_parts: for all postmortems and per team, how many lack each of the five parts (timeline, contributing conditions, impact, action items, verification); every part has a row, 0 when none lacks it.
WITH parts AS (
    SELECT * FROM (VALUES
        (1, 'timeline'), (2, 'contributing_conditions'), (3, 'impact'), (4, 'action_items'),
        (5, 'verification')) v(part_order, part)
),
groups AS (
    SELECT 'all' AS grouping_set, CAST(NULL AS VARCHAR) AS team
    UNION ALL
    SELECT DISTINCT 'team', team FROM marts.postmortem_quality
)
SELECT g.grouping_set, g.team, p.part, p.part_order,
    (SELECT count(*) FROM marts.postmortem_quality q
     WHERE list_contains(q.missing_parts, p.part)
       AND (g.grouping_set = 'all' OR q.team = g.team)) AS missing
FROM groups g CROSS JOIN parts p
WHERE EXISTS (SELECT 1 FROM marts.postmortem_quality)
ORDER BY g.grouping_set, g.team, p.part_order
