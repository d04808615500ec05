-- marts.repeat_incidents: incidents whose cluster already had a postmortem (cluster = same service and normalised title until failure clusters exist); fix_did_not_hold when every earlier action item was done before the repeat.
WITH inc AS (
    SELECT i.*,
        -- cluster key: the heuristic a failure-cluster id will replace (cluster_source says which)
        coalesce(i.service, '?') || '|' || trim(regexp_replace(regexp_replace(regexp_replace(
            lower(coalesce(i.title, '')),
            '\b[0-9a-f]{7,}\b|\b[0-9]+(\.[0-9]+)*\b', '#', 'g'),
            '[^a-z0-9#]+', ' ', 'g'),
            '\s+', ' ', 'g')) AS cluster_key,
        'service_title' AS cluster_source
    FROM core.incidents i
),
reviewed AS (
    SELECT inc.incident_id, inc.cluster_key, inc.created_at,
           p.postmortem_id, p.identified_at
    FROM inc
    JOIN core.postmortems p ON p.incident_id = inc.incident_id
),
repeats AS (
    SELECT i.*, r.incident_id AS previous_incident_id, r.postmortem_id AS previous_postmortem_id,
           r.identified_at AS postmortem_identified_at
    FROM inc i
    JOIN reviewed r
      ON r.cluster_key = i.cluster_key
     AND r.incident_id <> i.incident_id
     AND r.created_at < i.created_at
     AND coalesce(r.identified_at, r.created_at) < i.created_at
    QUALIFY row_number() OVER (PARTITION BY i.incident_id
                               ORDER BY r.created_at DESC, r.postmortem_id) = 1
),
prior AS (
    SELECT r.incident_id,
           count(a.action_item_id) FILTER (WHERE NOT a.canceled) AS prior_items,
           count(a.action_item_id) FILTER (WHERE a.done AND a.closed_at < r.created_at)
               AS prior_items_done
    FROM repeats r
    LEFT JOIN models.action_item_status a ON a.postmortem_id = r.previous_postmortem_id
    GROUP BY ALL
)
SELECT r.incident_id, r.incident_number, r.title, r.service, r.team, r.created_at,
       r.cluster_key, r.cluster_source, r.previous_incident_id, r.previous_postmortem_id,
       r.postmortem_identified_at,
       (epoch(r.created_at) - epoch(r.postmortem_identified_at)) / 86400.0 AS days_since_postmortem,
       coalesce(p.prior_items, 0) AS prior_items,
       coalesce(p.prior_items_done, 0) AS prior_items_done,
       coalesce(p.prior_items, 0) > 0 AND p.prior_items_done >= p.prior_items AS fix_did_not_hold
FROM repeats r
LEFT JOIN prior p USING (incident_id)
