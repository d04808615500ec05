-- Version 18: each cluster's signature (the first non-blank line of its masked representative,
-- stripped, at most 110 characters) stored with marts.failure_cluster_summary, so the
-- recurring-failures page reads one short line per cluster instead of every representative
-- text. NULL until the next build rebuilds the mart; the dashboard computes it meanwhile.
ALTER TABLE marts.failure_cluster_summary ADD COLUMN signature VARCHAR;
