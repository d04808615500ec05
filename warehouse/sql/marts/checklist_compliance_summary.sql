-- marts.checklist_compliance_summary: for all postmortems and per team, each checklist item's postmortems passed, failed, unknown, pending and not applicable; judged = passed + failed and pass_rate = passed / judged (NULL when nothing could be judged).
SELECT
    CASE WHEN GROUPING(team) = 1 THEN 'all' ELSE 'team' END AS grouping_set,
    team, phase,
    CASE phase WHEN 'during_incident' THEN 1 WHEN 'within_24h' THEN 2 WHEN 'during_meeting' THEN 3
        WHEN 'within_30_days' THEN 4 ELSE 5 END AS phase_order,
    check_id,
    count(*) AS postmortems,
    count(*) FILTER (WHERE result = 'passed') AS passed,
    count(*) FILTER (WHERE result = 'failed') AS failed,
    count(*) FILTER (WHERE result = 'unknown') AS unknown,
    count(*) FILTER (WHERE result = 'pending') AS pending,
    count(*) FILTER (WHERE result = 'not_applicable') AS not_applicable,
    count(*) FILTER (WHERE result IN ('passed', 'failed')) AS judged,
    count(*) FILTER (WHERE result = 'passed')
        / nullif(count(*) FILTER (WHERE result IN ('passed', 'failed')), 0) AS pass_rate
FROM (SELECT coalesce(team, '(unassigned)') AS team, phase, check_id, result
      FROM marts.checklist_compliance)
GROUP BY GROUPING SETS ((phase, check_id), (team, phase, check_id))
ORDER BY grouping_set, team, phase_order, check_id
