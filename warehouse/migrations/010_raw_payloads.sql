-- Version 10: each raw record keeps the vendor's whole payload beside its mapped columns, so a
-- mapper fix re-maps history and any vendor field can be queried (`payload->>'$.head_commit.id'`)
-- without fetching again. Filled by the loader for records loaded from now on.
ALTER TABLE raw.github_workflow_runs ADD COLUMN payload JSON;
ALTER TABLE raw.github_jobs ADD COLUMN payload JSON;
ALTER TABLE raw.github_deployments ADD COLUMN payload JSON;
ALTER TABLE raw.github_deployment_statuses ADD COLUMN payload JSON;
ALTER TABLE raw.jira_issues ADD COLUMN payload JSON;
ALTER TABLE raw.linear_issues ADD COLUMN payload JSON;
ALTER TABLE raw.pagerduty_incidents ADD COLUMN payload JSON;
