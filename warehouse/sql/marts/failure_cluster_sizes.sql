-- marts.failure_cluster_sizes: over all repositories and per repository, for each cluster size that occurs (min_failures): the clusters with at least that many failures, their failures, their share of all failures, and how many of them a ticket, postmortem or incident cites.
WITH sizes AS (
    SELECT DISTINCT grouping_set, repo, failures AS min_failures FROM marts.failure_cluster_summary
),
totals AS (
    SELECT grouping_set, repo, sum(failures) AS all_failures, count(*) AS all_clusters
    FROM marts.failure_cluster_summary GROUP BY grouping_set, repo
)
SELECT s.grouping_set, s.repo, s.min_failures,
    count(*) AS clusters,
    sum(c.failures) AS failures,
    count(*) FILTER (WHERE c.linked) AS linked_clusters,
    sum(c.failures) / any_value(t.all_failures) AS share_of_failures,
    any_value(t.all_failures) AS all_failures,
    any_value(t.all_clusters) AS all_clusters
FROM sizes s
JOIN marts.failure_cluster_summary c ON c.grouping_set = s.grouping_set
    AND c.repo IS NOT DISTINCT FROM s.repo AND c.failures >= s.min_failures
JOIN totals t ON t.grouping_set = s.grouping_set AND t.repo IS NOT DISTINCT FROM s.repo
GROUP BY s.grouping_set, s.repo, s.min_failures
ORDER BY s.grouping_set, s.repo, s.min_failures
