-- marts.postmortem_quality_summary: for all postmortems and per team: how many there are, their lint errors and warnings, how many have lint errors or lack one of the five parts, and their blame-language findings.
SELECT
    CASE WHEN GROUPING(team) = 1 THEN 'all' ELSE 'team' END AS grouping_set,
    team,
    count(*) AS postmortems,
    coalesce(sum(lint_errors), 0) AS lint_errors,
    coalesce(sum(lint_warnings), 0) AS lint_warnings,
    count(*) FILTER (WHERE lint_errors > 0) AS with_errors,
    count(*) FILTER (WHERE len(missing_parts) > 0) AS missing_any,
    coalesce(sum(blame_findings), 0) AS blame_findings,
    count(*) FILTER (WHERE blame_findings > 0) AS blame_postmortems,
    count(*) FILTER (WHERE lint_errors > 0) / count(*) AS share_with_errors,
    count(*) FILTER (WHERE len(missing_parts) > 0) / count(*) AS share_missing_any
FROM marts.postmortem_quality
GROUP BY GROUPING SETS ((), (team))
ORDER BY grouping_set, team
