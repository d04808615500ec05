-- marts.verification_summary: for all verification criteria and per team, how many hold, fail, lack data or are not checkable (every known result has a row, 0 when absent), and their share of the criteria.
WITH checks AS (
    SELECT coalesce(team, '(unassigned)') AS team, result FROM marts.verification_checks
),
groups AS (
    SELECT 'all' AS grouping_set, CAST(NULL AS VARCHAR) AS team, count(*) AS total FROM checks
    UNION ALL
    SELECT 'team', team, count(*) FROM checks GROUP BY team
),
results AS (
    SELECT * FROM (VALUES (1, 'holds'), (2, 'fails'), (3, 'not_enough_data'), (4, 'not_checkable'))
        v(result_order, result)
    UNION ALL
    SELECT DISTINCT 5, result FROM checks
    WHERE result NOT IN ('holds', 'fails', 'not_enough_data', 'not_checkable')
)
SELECT g.grouping_set, g.team, r.result, r.result_order,
    (SELECT count(*) FROM checks c
     WHERE c.result = r.result AND (g.grouping_set = 'all' OR c.team = g.team)) AS criteria,
    g.total AS total_criteria,
    (SELECT count(*) FROM checks c
     WHERE c.result = r.result AND (g.grouping_set = 'all' OR c.team = g.team))
        / nullif(g.total, 0) AS share
FROM groups g CROSS JOIN results r
WHERE g.total > 0
ORDER BY g.grouping_set, g.team, r.result_order, r.result
