-- models.cluster_links: failure clusters tied to tickets, postmortems and incidents by explicit
-- references (a CI run or job URL or a commit SHA quoted in a ticket, postmortem or incident;
-- a linked ticket's key in a postmortem) and by time: an incident opened within two hours after
-- a failure on the service whose name is the failing repository's. A link found through a
-- cited failure records that failure's repositories and fingerprints (`repos`, `fingerprints`:
-- models.recurrences decides how far it applies); a postmortem found through a linked ticket's
-- key inherits nothing narrower (both NULL). A run URL or commit names every job of the run;
-- when a ticket cites a run with failures in several clusters, only the clusters whose text
-- shares most words with the ticket's description are linked. A cited URL's query and fragment
-- (`?check_suite_focus=true`, `#step:4:12`) are not part of the address, and an address must be
-- cited whole (run 55 does not cite run 5): incidents' details are read for references the way
-- tickets' descriptions are, and joined on equality. `deploy_only` marks
-- links found only through failed deployment jobs (the failure a deployment status points at).
WITH deploy_jobs AS (
    SELECT DISTINCT target_url AS url FROM core.deployments WHERE target_url IS NOT NULL
),
cited AS (
    SELECT c.*, c.url IN (SELECT url FROM deploy_jobs) AS is_deploy
    FROM models.ci_failure_clusters c
),
failure_refs AS (
    SELECT cluster_id, repo, fingerprint, is_deploy, run_url AS ref, 'run_url' AS evidence FROM cited
    WHERE run_url IS NOT NULL
    UNION
    SELECT cluster_id, repo, fingerprint, is_deploy, url, 'job_url' FROM cited WHERE url IS NOT NULL
    UNION
    -- the job's address in today's form, whatever form the export stored (older jobs carry
    -- `.../actions/runs/RUN/jobs/N`, where N is not the job id)
    SELECT cluster_id, repo, fingerprint, is_deploy, run_url || '/job/' || job_id, 'job_url'
    FROM cited WHERE run_url IS NOT NULL
    UNION
    SELECT cluster_id, repo, fingerprint, is_deploy, lower(sha), 'commit_sha' FROM cited
    WHERE sha IS NOT NULL AND length(sha) = 40
),
cited_texts AS (
    SELECT 'ticket' AS kind, ticket_key AS id, created_at, description AS body FROM core.tickets
    UNION ALL
    SELECT 'incident', incident_id, created_at, details FROM core.incidents
),
text_refs AS (
    SELECT kind, id, created_at,
           regexp_replace(
               rtrim(unnest(regexp_extract_all(body, 'https?://[^\s<>()\[\]"'']+')), '.,;:'),
               '[?#].*$', '') AS ref
    FROM cited_texts
    UNION
    SELECT kind, id, created_at,
           lower(unnest(regexp_extract_all(body, '\b[0-9a-fA-F]{40}\b'))) AS ref
    FROM cited_texts
),
ticket_refs AS (
    SELECT id AS ticket_key, created_at, ref FROM text_refs WHERE kind = 'ticket'
),
ticket_matches AS (
    SELECT f.cluster_id, f.repo, f.fingerprint, f.is_deploy, f.evidence, f.ref, t.ticket_key,
           t.created_at
    FROM failure_refs f JOIN ticket_refs t ON t.ref = f.ref
),
scored_matches AS (
    SELECT m.*,
           len(list_intersect(
               list_distinct(string_split_regex(lower(tk.description), '[^a-z0-9_]+')),
               list_distinct(string_split_regex(lower(c.representative), '[^a-z0-9_]+'))
           )) AS overlap
    FROM ticket_matches m
    JOIN core.tickets tk USING (ticket_key)
    JOIN models.failure_clusters c USING (cluster_id)
),
kept_matches AS (
    SELECT * FROM scored_matches
    QUALIFY evidence = 'job_url' OR overlap = max(overlap) OVER (PARTITION BY ticket_key, ref)
),
ticket_links AS (
    SELECT cluster_id, 'ticket' AS link_type, ticket_key AS target_id,
           min(evidence) AS evidence, min(created_at) AS linked_at,
           list(DISTINCT repo ORDER BY repo) AS repos,
           list(DISTINCT fingerprint ORDER BY fingerprint) AS fingerprints,
           bool_and(is_deploy) AS deploy_only
    FROM kept_matches
    GROUP BY ALL
),
postmortem_refs AS (
    SELECT postmortem_id, identified_at,
           lower(regexp_replace(rtrim(unnest(ci_refs), '.,;:'), '[?#].*$', '')) AS ref
    FROM raw.postmortem_documents
),
postmortem_direct AS (
    SELECT f.cluster_id, 'postmortem' AS link_type, p.postmortem_id AS target_id,
           min(f.evidence) AS evidence, min(p.identified_at) AS linked_at,
           list(DISTINCT f.repo ORDER BY f.repo) AS repos,
           list(DISTINCT f.fingerprint ORDER BY f.fingerprint) AS fingerprints,
           bool_and(f.is_deploy) AS deploy_only
    FROM failure_refs f JOIN postmortem_refs p ON p.ref = lower(f.ref)
    GROUP BY ALL
),
postmortem_via_ticket AS (
    SELECT l.cluster_id, 'postmortem' AS link_type, d.postmortem_id AS target_id,
           'ticket_key' AS evidence, min(d.identified_at) AS linked_at,
           NULL::VARCHAR[] AS repos, NULL::VARCHAR[] AS fingerprints,
           bool_and(l.deploy_only) AS deploy_only
    FROM ticket_links l
    JOIN raw.postmortem_documents d ON list_contains(d.ticket_refs, l.target_id)
    GROUP BY ALL
),
incident_direct AS (
    SELECT f.cluster_id, 'incident' AS link_type, i.id AS target_id,
           min(f.evidence) AS evidence, min(i.created_at) AS linked_at,
           list(DISTINCT f.repo ORDER BY f.repo) AS repos,
           list(DISTINCT f.fingerprint ORDER BY f.fingerprint) AS fingerprints,
           bool_and(f.is_deploy) AS deploy_only
    FROM failure_refs f
    JOIN text_refs i ON i.kind = 'incident' AND i.ref = f.ref
    GROUP BY ALL
),
incident_window AS (
    SELECT c.cluster_id, 'incident' AS link_type, i.incident_id AS target_id,
           'time_window' AS evidence, min(i.created_at) AS linked_at,
           list(DISTINCT c.repo ORDER BY c.repo) AS repos,
           list(DISTINCT c.fingerprint ORDER BY c.fingerprint) AS fingerprints,
           bool_and(c.is_deploy) AS deploy_only
    FROM cited c
    JOIN core.incidents i
      ON lower(i.service) = lower(split_part(c.repo, '/', 2))
     AND i.created_at BETWEEN c.failed_at AND c.failed_at + INTERVAL 2 HOUR
    GROUP BY ALL
),
incident_links AS (
    SELECT * FROM incident_direct
    UNION ALL
    SELECT * FROM incident_window w
    WHERE NOT EXISTS (SELECT 1 FROM incident_direct d
                      WHERE d.cluster_id = w.cluster_id AND d.target_id = w.target_id)
),
postmortem_links AS (
    SELECT * FROM postmortem_direct
    UNION ALL
    SELECT * FROM postmortem_via_ticket v
    WHERE NOT EXISTS (SELECT 1 FROM postmortem_direct d
                      WHERE d.cluster_id = v.cluster_id AND d.target_id = v.target_id)
)
SELECT * FROM ticket_links
UNION ALL SELECT * FROM postmortem_links
UNION ALL SELECT * FROM incident_links
