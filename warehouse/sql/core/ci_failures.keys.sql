-- The CI jobs whose core.ci_failures row may have changed since it was last rebuilt (its rows
-- follow core.ci_jobs and raw.ci_logs, key by key): jobs, runs
-- (pipelines, builds) and logs loaded from a file since then (`changed_files`). A job of an
-- older file whose run was loaded again (a re-run attempt) is among them through its run.
WITH f AS (SELECT path FROM changed_files)
SELECT 'github' AS provider, job_id FROM raw.github_jobs WHERE source_path IN (SELECT path FROM f)
UNION
SELECT 'github', job_id FROM raw.github_jobs
WHERE run_id IN (SELECT run_id FROM raw.github_workflow_runs WHERE source_path IN (SELECT path FROM f))
UNION
SELECT 'gitlab', job_id FROM raw.gitlab_jobs WHERE source_path IN (SELECT path FROM f)
UNION
SELECT 'gitlab', job_id FROM raw.gitlab_jobs
WHERE pipeline_id IN (SELECT pipeline_id FROM raw.gitlab_pipelines WHERE source_path IN (SELECT path FROM f))
UNION
SELECT 'buildkite', job_id FROM raw.buildkite_jobs WHERE source_path IN (SELECT path FROM f)
UNION
SELECT 'buildkite', job_id FROM raw.buildkite_jobs
WHERE build_uuid IN (SELECT build_uuid FROM raw.buildkite_builds WHERE source_path IN (SELECT path FROM f))
UNION
SELECT provider, job_id FROM raw.ci_logs WHERE source_path IN (SELECT path FROM f)
