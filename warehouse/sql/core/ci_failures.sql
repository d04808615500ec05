-- core.ci_failures: failed or timed-out CI jobs, with the log to read their excerpt from.
-- Rebuilt by key: ci_failures.keys.sql lists the jobs whose rows may have changed.
SELECT
    j.provider, j.job_id, j.run_id, j.repo, j.workflow, j.job_name, j.branch, j.sha,
    j.conclusion, j.failed_step,
    j.completed_at AS failed_at,
    j.url, j.run_url,
    l.path AS log_path
FROM core.ci_jobs j
LEFT JOIN raw.ci_logs l ON l.provider = j.provider AND l.job_id = j.job_id
WHERE j.conclusion IN ('failure', 'timed_out', 'startup_failure')
