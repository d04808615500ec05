-- marts.postmortem_quality: one row per postmortem: lint errors and warnings, the parts of the five it lacks, its blame-language findings and how many checklist items it passed, failed or left unknown.
WITH findings AS (
    SELECT postmortem_id,
        count(*) FILTER (WHERE f.rule = 'blame-language') AS blame_findings,
        count(*) AS findings
    FROM (
        SELECT postmortem_id,
            unnest(from_json(findings, '[{"rule": "VARCHAR", "severity": "VARCHAR"}]')) AS f
        FROM core.postmortems
    )
    GROUP BY postmortem_id
),
checks AS (
    SELECT postmortem_id,
        count(*) FILTER (WHERE result = 'passed') AS checks_passed,
        count(*) FILTER (WHERE result = 'failed') AS checks_failed,
        count(*) FILTER (WHERE result = 'unknown') AS checks_unknown
    FROM marts.checklist_compliance
    GROUP BY postmortem_id
)
SELECT
    p.postmortem_id, p.title, coalesce(p.team, '(unassigned)') AS team, p.service,
    p.incident_id, p.identified_at, p.lint_errors, p.lint_warnings,
    list_filter(
        ['timeline', 'contributing_conditions', 'impact', 'action_items', 'verification'],
        part -> NOT list_contains(coalesce(p.parts_present, []), part)
    ) AS missing_parts,
    coalesce(f.blame_findings, 0) AS blame_findings,
    coalesce(f.findings, 0) AS findings,
    c.checks_passed, c.checks_failed, c.checks_unknown
FROM core.postmortems p
LEFT JOIN findings f USING (postmortem_id)
LEFT JOIN checks c USING (postmortem_id)
ORDER BY p.identified_at NULLS LAST, p.postmortem_id
