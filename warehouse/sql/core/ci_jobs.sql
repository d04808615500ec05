-- core.ci_jobs: every CI job, whatever the provider.
-- A job whose run is not in the export still has its repository and run URL: the job's own
-- run_url / html_url name them (models/sources/github.py).
SELECT
    'github'                                   AS provider,
    j.job_id,
    j.run_id,
    coalesce(r.repo, j.repo)                   AS repo,
    coalesce(j.workflow_name, r.workflow_name) AS workflow,
    j.name                                     AS job_name,
    coalesce(j.head_branch, r.head_branch)     AS branch,
    coalesce(j.head_sha, r.head_sha)           AS sha,
    r.event,
    j.status,
    j.conclusion,
    j.started_at,
    j.completed_at,
    epoch(j.completed_at) - epoch(j.started_at) AS duration_s,
    j.html_url                                 AS url,
    coalesce(r.html_url, j.run_url)            AS run_url,
    j.failed_step,
    l.job_id IS NOT NULL                       AS has_log,
    coalesce(j.run_attempt, r.run_attempt)     AS run_attempt,
    r.run_started_at
FROM raw.github_jobs j
LEFT JOIN raw.github_workflow_runs r USING (run_id)
LEFT JOIN raw.ci_logs l ON l.provider = 'github' AND l.job_id = j.job_id
