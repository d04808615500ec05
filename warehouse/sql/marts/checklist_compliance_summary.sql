-- marts.checklist_compliance_summary: marts.checklist_compliance_team with an 'all' row per checklist item (the team counts summed) and the phase order; judged = passed + failed and pass_rate = passed / judged (NULL when nothing could be judged).
SELECT
    CASE WHEN GROUPING(team) = 1 THEN 'all' ELSE 'team' END AS grouping_set,
    team, phase,
    CASE phase WHEN 'during_incident' THEN 1 WHEN 'within_24h' THEN 2 WHEN 'during_meeting' THEN 3
        WHEN 'within_30_days' THEN 4 ELSE 5 END AS phase_order,
    check_id,
    CAST(sum(postmortems) AS BIGINT) AS postmortems,
    CAST(sum(passed) AS BIGINT) AS passed,
    CAST(sum(failed) AS BIGINT) AS failed,
    CAST(sum(unknown) AS BIGINT) AS unknown,
    CAST(sum(pending) AS BIGINT) AS pending,
    CAST(sum(not_applicable) AS BIGINT) AS not_applicable,
    CAST(sum(passed) + sum(failed) AS BIGINT) AS judged,
    sum(passed) / nullif(sum(passed) + sum(failed), 0) AS pass_rate
FROM marts.checklist_compliance_team
GROUP BY GROUPING SETS ((phase, check_id), (team, phase, check_id))
ORDER BY grouping_set, team, phase_order, check_id
