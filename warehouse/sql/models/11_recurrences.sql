-- models.recurrences: every CI failure whose cluster failed before, with what was known by
-- then: earlier tickets and postmortems about the failure, and a fix that did not hold (a
-- ticket that cites the failure, already resolved). A ticket or postmortem found through a
-- cited failure applies to failures of the same cluster in the same repository, and to the
-- same fingerprint elsewhere unless that fingerprint is org-wide noise: seen in more than a
-- quarter of the repositories that fail (registry timeouts, a shared smoke test). A linked
-- postmortem's other action items are not taken as the fix: most address something else.
WITH spread AS (
    SELECT fingerprint, count(DISTINCT repo) AS repos FROM models.ci_failure_clusters GROUP BY ALL
),
org AS (
    SELECT greatest(2, 0.25 * count(DISTINCT repo)) AS specific_max FROM core.ci_failures
),
f AS (
    SELECT c.*,
           row_number() OVER (PARTITION BY cluster_id ORDER BY failed_at, job_id) AS occurrence,
           min(failed_at) OVER (PARTITION BY cluster_id) AS first_seen
    FROM models.ci_failure_clusters c
),
fix_candidates AS (
    SELECT l.cluster_id, t.ticket_key, t.resolved_at
    FROM models.cluster_links l
    JOIN core.tickets t ON l.link_type = 'ticket' AND t.ticket_key = l.target_id
    WHERE t.status_category = 'done' AND t.resolved_at IS NOT NULL
),
fix AS (
    SELECT f.provider, f.job_id,
           arg_max(x.ticket_key, x.resolved_at) AS fix_ticket_key,
           max(x.resolved_at) AS fix_resolved_at
    FROM f JOIN fix_candidates x ON x.cluster_id = f.cluster_id AND x.resolved_at < f.failed_at
    GROUP BY ALL
),
prior AS (
    SELECT f.provider, f.job_id,
           list(DISTINCT l.target_id ORDER BY l.target_id)
               FILTER (WHERE l.link_type = 'ticket') AS prior_ticket_keys,
           list(DISTINCT l.target_id ORDER BY l.target_id)
               FILTER (WHERE l.link_type = 'postmortem') AS prior_postmortem_ids
    FROM f JOIN models.cluster_links l
      ON l.cluster_id = f.cluster_id AND l.linked_at < f.failed_at
     AND (l.repos IS NULL OR list_contains(l.repos, f.repo)
          OR (list_contains(l.fingerprints, f.fingerprint)
              AND (SELECT repos FROM spread s WHERE s.fingerprint = f.fingerprint)
                  <= (SELECT specific_max FROM org)))
    GROUP BY ALL
)
SELECT
    f.provider, f.job_id, f.cluster_id, f.repo, f.job_name, f.failed_at,
    f.occurrence::INTEGER AS occurrence,
    (f.occurrence - 1)::INTEGER AS prior_failures,
    f.first_seen,
    coalesce(p.prior_ticket_keys, []) AS prior_ticket_keys,
    coalesce(p.prior_postmortem_ids, []) AS prior_postmortem_ids,
    x.fix_ticket_key,
    x.fix_resolved_at,
    x.fix_ticket_key IS NOT NULL AS fix_did_not_hold,
    'this failure has happened ' || (f.occurrence - 1) || ' time(s) before, first on '
        || strftime(f.first_seen, '%Y-%m-%d')
        || CASE WHEN len(coalesce(p.prior_ticket_keys, [])) > 0
                THEN '; see ' || array_to_string(p.prior_ticket_keys, ', ') ELSE '' END
        || CASE WHEN len(coalesce(p.prior_postmortem_ids, [])) > 0
                THEN '; postmortem ' || array_to_string(p.prior_postmortem_ids, ', ') ELSE '' END
        || CASE WHEN x.fix_ticket_key IS NOT NULL
                THEN '; the fix in ' || x.fix_ticket_key || ' (resolved '
                     || strftime(x.fix_resolved_at, '%Y-%m-%d') || ') did not hold' ELSE '' END
        AS message
FROM f
LEFT JOIN prior p USING (provider, job_id)
LEFT JOIN fix x USING (provider, job_id)
WHERE f.occurrence > 1
