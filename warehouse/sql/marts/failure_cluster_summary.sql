-- marts.failure_cluster_summary: per CI failure cluster, over all repositories and per repository: failures, repositories, jobs, first and last seen, the tickets, postmortems and incidents citing it, failures after a fix was resolved, its masked representative text and signature (the first line that says what went wrong, at most 110 characters); failure_rank orders clusters most failures first.
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
    -- dashboards.reads.failure_clusters.signature in SQL: the first line of the representative
    -- (Python's whitespace and line breaks) that says what went wrong, else the first with
    -- words, else the first non-blank one; at most 110 characters.
    SELECT cluster_id, representative,
        list_transform(list_transform([list_filter(list_transform(
            string_split_regex(coalesce(representative, ''),
                '[\n\r\x{0b}\x{0c}\x{1c}-\x{1e}\x{85}\x{2028}\x{2029}]'),
            x -> regexp_replace(x, '^[\s\x{0b}\x{1c}-\x{1f}\x{85}\pZ]+|[\s\x{0b}\x{1c}-\x{1f}\x{85}\pZ]+$', '', 'g')),
            x -> x <> '')],
        ls -> coalesce(
            list_filter(ls, x -> regexp_matches(x, '[Ee]rror|ERROR|[Ff]ail|FAIL|[Ff]atal|FATAL|[Ee]xception|[Pp]anic|PANIC|[Tt]imed out|[Tt]imeout|TIMEOUT|[Dd]enied|[Rr]efused|[Cc]annot|[Cc]ould not|[Uu]nable|[Nn]ot found|[Aa]bort|[Nn]o space'))[1],
            list_filter(ls, x -> regexp_matches(x, '[A-Za-z]{2,}[^A-Za-z]+[A-Za-z]{2,}'))[1],
            ls[1], '')),
        s -> CASE WHEN length(s) <= 110 THEN s ELSE left(s, 109) || '…' END)[1] AS signature
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
    fc.representative, fc.signature
FROM clusters c
LEFT JOIN links l USING (cluster_id)
LEFT JOIN broken b ON b.grouping_set = c.grouping_set AND b.scope IS NOT DISTINCT FROM c.scope
    AND b.cluster_id = c.cluster_id
LEFT JOIN signatures fc ON fc.cluster_id = c.cluster_id
ORDER BY c.grouping_set, c.scope, failure_rank
