-- Version 11: what older and re-run GitHub Actions payloads carry. A re-run keeps the first
-- attempt's created_at, so the attempt's own start (run_started_at) is stored; runs recorded
-- before the API had `name` are named by their workflow file (`path`); a job names its
-- repository and run through its URLs, so a job whose run is not exported keeps both.
ALTER TABLE raw.github_workflow_runs ADD COLUMN display_title VARCHAR;
ALTER TABLE raw.github_workflow_runs ADD COLUMN workflow_path VARCHAR;
ALTER TABLE raw.github_workflow_runs ADD COLUMN run_started_at TIMESTAMPTZ;
ALTER TABLE raw.github_jobs ADD COLUMN repo VARCHAR;
ALTER TABLE raw.github_jobs ADD COLUMN run_url VARCHAR;
ALTER TABLE raw.github_jobs ADD COLUMN run_attempt INTEGER;
ALTER TABLE raw.github_jobs ALTER COLUMN name DROP NOT NULL;
ALTER TABLE core.ci_jobs ADD COLUMN run_attempt INTEGER;
ALTER TABLE core.ci_jobs ADD COLUMN run_started_at TIMESTAMPTZ;
