-- marts.failure_cluster_summary: per CI failure cluster, over all repositories and per repository: failures, repositories, jobs, first and last seen, the tickets, postmortems and incidents citing it, failures after a fix was resolved, its masked representative text and signature (first non-blank line, stripped, at most 110 characters); failure_rank orders clusters most failures first.
WITH scoped AS (
    SELECT 'all' AS grouping_set, CAST(NULL AS VARCHAR) AS scope, * FROM models.ci_failure_clusters
    UNION ALL
    SELECT 'repo', repo, * FROM models.ci_failure_clusters WHERE repo IS NOT NULL
),
clusters AS (
    SELECT grouping_set, scope, cluster_id,
        count(*) AS failures,
        count(DISTINCT repo) AS repos,
        array_to_string(list_sort(list_distinct(list(repo))), ', ') AS repo_list,
        count(DISTINCT job_name) AS jobs,
        min(failed_at) AS first_seen,
        max(failed_at) AS last_seen
    FROM scoped GROUP BY grouping_set, scope, cluster_id
),
links AS (
    SELECT cluster_id,
        coalesce(array_to_string(list_sort(list_distinct(
            list(target_id) FILTER (WHERE link_type = 'ticket'))), ', '), '') AS tickets,
        coalesce(array_to_string(list_sort(list_distinct(
            list(target_id) FILTER (WHERE link_type = 'postmortem'))), ', '), '') AS postmortems,
        coalesce(array_to_string(list_sort(list_distinct(
            list(target_id) FILTER (WHERE link_type = 'incident'))), ', '), '') AS incidents
    FROM models.cluster_links GROUP BY cluster_id
),
broken AS (
    SELECT 'all' AS grouping_set, CAST(NULL AS VARCHAR) AS scope, cluster_id, count(*) AS n
    FROM models.recurrences WHERE fix_did_not_hold GROUP BY cluster_id
    UNION ALL
    SELECT 'repo', repo, cluster_id, count(*)
    FROM models.recurrences WHERE fix_did_not_hold AND repo IS NOT NULL GROUP BY repo, cluster_id
),
signatures AS (
    -- dashboards.reads.failure_clusters.signature in SQL: Python's whitespace and line breaks.
    SELECT cluster_id, representative,
        regexp_replace(regexp_extract(coalesce(representative, ''),
            '^[\s\x{0b}\x{1c}-\x{1f}\x{85}\pZ]*([^\n\r\x{0b}\x{0c}\x{1c}-\x{1e}\x{85}\x{2028}\x{2029}]*)', 1),
            '[\s\x{0b}\x{1c}-\x{1f}\x{85}\pZ]+$', '') AS first_line
    FROM models.failure_clusters
)
SELECT
    c.grouping_set, c.scope AS repo, c.cluster_id,
    row_number() OVER (PARTITION BY c.grouping_set, c.scope
        ORDER BY c.failures DESC, c.last_seen DESC, c.cluster_id) AS failure_rank,
    c.failures, c.repos, c.repo_list, c.jobs, c.first_seen, c.last_seen,
    coalesce(l.tickets, '') AS tickets,
    coalesce(l.postmortems, '') AS postmortems,
    coalesce(l.incidents, '') AS incidents,
    coalesce(l.tickets, '') <> '' OR coalesce(l.postmortems, '') <> ''
        OR coalesce(l.incidents, '') <> '' AS linked,
    coalesce(b.n, 0) AS failures_after_fix,
    fc.representative,
    CASE WHEN length(fc.first_line) <= 110 THEN fc.first_line
        ELSE left(fc.first_line, 109) || '…' END AS signature
FROM clusters c
LEFT JOIN links l USING (cluster_id)
LEFT JOIN broken b ON b.grouping_set = c.grouping_set AND b.scope IS NOT DISTINCT FROM c.scope
    AND b.cluster_id = c.cluster_id
LEFT JOIN signatures fc ON fc.cluster_id = c.cluster_id
ORDER BY c.grouping_set, c.scope, failure_rank
