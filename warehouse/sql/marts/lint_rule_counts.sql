-- marts.lint_rule_counts: for all postmortems and per team, lint findings per rule and severity and how many postmortems each touches.
WITH findings AS (
    SELECT postmortem_id, coalesce(team, '(unassigned)') AS team,
        unnest(from_json(findings, '[{"rule": "VARCHAR", "severity": "VARCHAR"}]')) AS f
    FROM core.postmortems
)
SELECT
    CASE WHEN GROUPING(team) = 1 THEN 'all' ELSE 'team' END AS grouping_set,
    team, f.rule AS rule, coalesce(f.severity, '') AS severity,
    count(*) AS findings,
    count(DISTINCT postmortem_id) AS postmortems
FROM findings
WHERE f.rule IS NOT NULL
GROUP BY GROUPING SETS ((f.rule, coalesce(f.severity, '')), (team, f.rule, coalesce(f.severity, '')))
ORDER BY grouping_set, team, findings DESC, rule, severity
