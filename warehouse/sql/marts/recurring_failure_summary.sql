-- marts.recurring_failure_summary: over all repositories and per repository: clustered CI failures, clusters, clusters whose fix did not hold and the failures after a fix was resolved.
WITH scoped AS (
    SELECT 'all' AS grouping_set, CAST(NULL AS VARCHAR) AS repo, cluster_id
    FROM models.ci_failure_clusters
    UNION ALL
    SELECT 'repo', repo, cluster_id FROM models.ci_failure_clusters WHERE repo IS NOT NULL
),
broken AS (
    SELECT 'all' AS grouping_set, CAST(NULL AS VARCHAR) AS repo,
        count(DISTINCT cluster_id) AS fix_clusters, count(*) AS failures_after_fix
    FROM models.recurrences WHERE fix_did_not_hold
    UNION ALL
    SELECT 'repo', repo, count(DISTINCT cluster_id), count(*)
    FROM models.recurrences WHERE fix_did_not_hold AND repo IS NOT NULL GROUP BY repo
)
SELECT s.grouping_set, s.repo, count(*) AS failures, count(DISTINCT s.cluster_id) AS clusters,
    coalesce(any_value(b.fix_clusters), 0) AS fix_clusters,
    coalesce(any_value(b.failures_after_fix), 0) AS failures_after_fix
FROM scoped s
LEFT JOIN broken b ON b.grouping_set = s.grouping_set AND b.repo IS NOT DISTINCT FROM s.repo
GROUP BY s.grouping_set, s.repo
ORDER BY s.grouping_set, s.repo
