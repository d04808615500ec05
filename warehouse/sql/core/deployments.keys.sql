-- The deployments whose core.deployments row may have changed since it was last rebuilt: those
-- of deployment and status rows loaded from a file since then (`changed_files`).
WITH f AS (SELECT path FROM changed_files)
SELECT 'github' AS provider, deployment_id FROM raw.github_deployments
WHERE source_path IN (SELECT path FROM f)
UNION
SELECT 'github', deployment_id FROM raw.github_deployment_statuses
WHERE source_path IN (SELECT path FROM f)
UNION
SELECT 'gitlab', deployment_id FROM raw.gitlab_deployments WHERE source_path IN (SELECT path FROM f)
