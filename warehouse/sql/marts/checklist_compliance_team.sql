-- marts.checklist_compliance_team: per team and checklist item, how many postmortems passed, failed, are unknown, pending or not applicable; pass_rate counts only passed and failed.
SELECT
    coalesce(team, '(unassigned)') AS team, phase, check_id,
    count(*) AS postmortems,
    count(*) FILTER (WHERE result = 'passed') AS passed,
    count(*) FILTER (WHERE result = 'failed') AS failed,
    count(*) FILTER (WHERE result = 'unknown') AS unknown,
    count(*) FILTER (WHERE result = 'pending') AS pending,
    count(*) FILTER (WHERE result = 'not_applicable') AS not_applicable,
    count(*) FILTER (WHERE result = 'passed')
        / nullif(count(*) FILTER (WHERE result IN ('passed', 'failed')), 0) AS pass_rate,
    any_value(as_of) AS as_of
FROM marts.checklist_compliance
GROUP BY ALL
ORDER BY team, phase, check_id
