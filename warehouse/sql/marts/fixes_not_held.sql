-- marts.fixes_not_held: over all repositories and per repository, per cluster and fix ticket: the CI failures after the fix was resolved (how many, first and latest, which repositories), with the ticket's link and title and the cluster's masked representative text.
WITH scoped AS (
    SELECT 'all' AS grouping_set, CAST(NULL AS VARCHAR) AS scope, *
    FROM models.recurrences WHERE fix_did_not_hold
    UNION ALL
    SELECT 'repo', repo, * FROM models.recurrences WHERE fix_did_not_hold AND repo IS NOT NULL
),
fixes AS (
    SELECT grouping_set, scope, cluster_id, fix_ticket_key,
        max(fix_resolved_at) AS fix_resolved_at,
        count(*) AS failures_after_fix,
        min(failed_at) AS first_after_fix,
        max(failed_at) AS last_after_fix,
        array_to_string(list_sort(list_distinct(list(repo))), ', ') AS repos
    FROM scoped GROUP BY grouping_set, scope, cluster_id, fix_ticket_key
)
SELECT f.grouping_set, f.scope AS repo, f.cluster_id, f.fix_ticket_key,
    t.url AS ticket_url, t.title AS ticket_title,
    f.fix_resolved_at, f.failures_after_fix, f.first_after_fix, f.last_after_fix, f.repos,
    fc.representative
FROM fixes f
LEFT JOIN core.tickets t ON t.ticket_key = f.fix_ticket_key
LEFT JOIN models.failure_clusters fc ON fc.cluster_id = f.cluster_id
ORDER BY f.grouping_set, f.scope, f.last_after_fix DESC, f.cluster_id
