-- core.deployments: each deployment with its latest status.
-- Rebuilt by key: deployments.keys.sql lists the deployments whose rows may have changed.
WITH latest AS (
    SELECT *
    FROM raw.github_deployment_statuses
    QUALIFY row_number() OVER (
        PARTITION BY deployment_id ORDER BY created_at DESC, status_id DESC) = 1
)
SELECT
    'github'                                       AS provider,
    d.deployment_id,
    d.repo,
    d.environment,
    coalesce(d.production, false)                  AS production,
    d.sha,
    d.ref,
    d.creator,
    d.created_at,
    s.state                                        AS final_state,
    CASE WHEN s.state IN ('success', 'failure', 'error', 'inactive')
         THEN s.created_at END                     AS finished_at,
    coalesce(s.state IN ('failure', 'error'), false) AS failed,
    coalesce(s.log_url, s.target_url)              AS target_url,
    d.url
FROM raw.github_deployments d
LEFT JOIN latest s USING (deployment_id)

-- GitLab: a deployment carries its own status; its pipeline is the CI run behind it.
UNION ALL BY NAME
SELECT
    'gitlab'                                       AS provider,
    d.deployment_id,
    d.project_path                                 AS repo,
    d.environment,
    coalesce(d.production, false)                  AS production,
    d.sha,
    d.ref,
    d.creator,
    d.created_at,
    d.status                                       AS final_state,
    CASE WHEN d.status IN ('success', 'failed', 'canceled')
         THEN d.updated_at END                     AS finished_at,
    coalesce(d.status = 'failed', false)           AS failed,
    coalesce(d.job_url, d.pipeline_url)            AS target_url,
    NULL::VARCHAR                                  AS url
FROM raw.gitlab_deployments d
