-- marts.failure_cluster_weekly: per CI failure cluster and week (starting Monday, UTC), over all repositories and per repository: its failures and the repositories they were in.
WITH scoped AS (
    SELECT 'all' AS grouping_set, CAST(NULL AS VARCHAR) AS scope, * FROM models.ci_failure_clusters
    WHERE failed_at IS NOT NULL
    UNION ALL
    SELECT 'repo', repo, * FROM models.ci_failure_clusters
    WHERE repo IS NOT NULL AND failed_at IS NOT NULL
)
SELECT grouping_set, scope AS repo, cluster_id,
    CAST(date_trunc('week', timezone('UTC', failed_at)) AS DATE) AS week,
    count(*) AS failures,
    array_to_string(list_sort(list_distinct(list(coalesce(repo, '(no repo)')))), ', ') AS repos
FROM scoped
GROUP BY ALL
ORDER BY 1, 2, 3, 4
