-- core.ci_jobs: every CI job, whatever the provider.
-- Rebuilt by key: ci_jobs.keys.sql lists the jobs whose rows may have changed.
-- A job whose run is not in the export still has its repository and run URL: the job's own
-- run_url / html_url name them (models/sources/github.py).
-- status/conclusion use GitHub's words for every provider: status 'completed', 'in_progress',
-- 'queued' or 'waiting'; conclusion 'success', 'failure', 'timed_out', 'cancelled', 'skipped'.
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

-- GitLab: a pipeline is the run; the stage stands in for the workflow (one .gitlab-ci.yml).
UNION ALL BY NAME
SELECT
    'gitlab'                                   AS provider,
    j.job_id,
    j.pipeline_id                              AS run_id,
    coalesce(j.project_path, p.project_path)   AS repo,
    j.stage                                    AS workflow,
    j.name                                     AS job_name,
    coalesce(j.ref, p.ref)                     AS branch,
    coalesce(j.sha, p.sha)                     AS sha,
    p.source                                   AS event,
    CASE
        WHEN j.status IN ('success', 'failed', 'canceled', 'skipped') THEN 'completed'
        WHEN j.status = 'running' THEN 'in_progress'
        WHEN j.status IN ('manual', 'scheduled') THEN 'waiting'
        WHEN j.status IS NOT NULL THEN 'queued'
    END                                        AS status,
    CASE j.status
        WHEN 'success' THEN 'success'
        WHEN 'failed' THEN CASE WHEN j.failure_reason IN
            ('stuck_or_timeout_failure', 'job_execution_timeout') THEN 'timed_out'
            ELSE 'failure' END
        WHEN 'canceled' THEN 'cancelled'
        WHEN 'skipped' THEN 'skipped'
    END                                        AS conclusion,
    j.started_at,
    j.finished_at                              AS completed_at,
    coalesce(j.duration_s, epoch(j.finished_at) - epoch(j.started_at)) AS duration_s,
    j.web_url                                  AS url,
    p.web_url                                  AS run_url,
    NULL::VARCHAR                              AS failed_step,
    l.job_id IS NOT NULL                       AS has_log
FROM raw.gitlab_jobs j
LEFT JOIN raw.gitlab_pipelines p USING (pipeline_id)
LEFT JOIN raw.ci_logs l ON l.provider = 'gitlab' AND l.job_id = j.job_id

-- Buildkite: a build is the run, the pipeline both repo and workflow; ids are the 63-bit forms
-- of the UUIDs (raw.buildkite_jobs.job_uuid keeps the UUID).
UNION ALL BY NAME
SELECT
    'buildkite'                                AS provider,
    j.job_id,
    j.run_id,
    j.pipeline_slug                            AS repo,
    coalesce(b.pipeline_name, j.pipeline_slug) AS workflow,
    coalesce(j.name, j.step_key, j.command)    AS job_name,
    b.branch,
    b.sha,
    b.source                                   AS event,
    CASE
        WHEN j.state IN ('passed', 'failed', 'timed_out', 'canceled', 'skipped', 'broken',
                         'expired') THEN 'completed'
        WHEN j.state IN ('running', 'canceling', 'timing_out') THEN 'in_progress'
        WHEN j.state IN ('blocked', 'waiting', 'waiting_failed', 'blocked_failed') THEN 'waiting'
        WHEN j.state IS NOT NULL THEN 'queued'
    END                                        AS status,
    CASE j.state
        WHEN 'passed' THEN 'success'
        WHEN 'failed' THEN 'failure'
        WHEN 'timed_out' THEN 'timed_out'
        WHEN 'canceled' THEN 'cancelled'
        WHEN 'expired' THEN 'cancelled'
        WHEN 'skipped' THEN 'skipped'
        WHEN 'broken' THEN 'skipped'
    END                                        AS conclusion,
    j.started_at,
    j.finished_at                              AS completed_at,
    epoch(j.finished_at) - epoch(j.started_at) AS duration_s,
    j.web_url                                  AS url,
    b.web_url                                  AS run_url,
    NULL::VARCHAR                              AS failed_step,
    l.job_id IS NOT NULL                       AS has_log
FROM raw.buildkite_jobs j
LEFT JOIN raw.buildkite_builds b USING (build_uuid)
LEFT JOIN raw.ci_logs l ON l.provider = 'buildkite' AND l.job_id = j.job_id
