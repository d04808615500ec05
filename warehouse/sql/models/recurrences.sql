-- models.recurrences: every CI failure whose cluster failed before, with what was known by
-- then: earlier tickets and postmortems about the failure, and a fix that did not hold (a
-- ticket that cites the failure, already resolved). A ticket or postmortem found through a
-- cited failure applies to failures of the same cluster in the same repository, and to the
-- same fingerprint elsewhere unless that fingerprint is org-wide noise: seen in more than a
-- quarter of the repositories that fail (registry timeouts, a shared smoke test). A link found
-- only through failed deployments speaks for those deployments: rollout timeouts and smoke
-- tests fail the same way for unrelated causes, so it is not offered for later ones. A linked
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
applicable AS (
    SELECT f.provider, f.job_id, f.failed_at, l.link_type, l.target_id, l.linked_at
    FROM f
    JOIN spread s USING (fingerprint)
    JOIN models.cluster_links l ON l.cluster_id = f.cluster_id
    WHERE NOT coalesce(l.deploy_only, false)
      AND (l.repos IS NULL OR list_contains(l.repos, f.repo)
           OR (list_contains(l.fingerprints, f.fingerprint)
               AND s.repos <= (SELECT specific_max FROM org)))
),
fix AS (
    SELECT a.provider, a.job_id,
           arg_max(t.ticket_key, t.resolved_at) AS fix_ticket_key,
           max(t.resolved_at) AS fix_resolved_at
    FROM applicable a
    JOIN core.tickets t ON a.link_type = 'ticket' AND t.ticket_key = a.target_id
    WHERE t.status_category = 'done' AND t.resolved_at < a.failed_at
    GROUP BY ALL
),
prior AS (
    SELECT a.provider, a.job_id,
           list(DISTINCT a.target_id ORDER BY a.target_id)
               FILTER (WHERE a.link_type = 'ticket') AS prior_ticket_keys,
           list(DISTINCT a.target_id ORDER BY a.target_id)
               FILTER (WHERE a.link_type = 'postmortem') AS prior_postmortem_ids
    FROM applicable a
    WHERE a.linked_at < a.failed_at
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
