-- models.ci_failure_clusters: each excerpted CI failure with its cluster.
SELECT
    f.provider, f.job_id, c.cluster_id, e.fingerprint, f.repo, f.job_name, f.failed_at,
    f.run_url, f.url, f.sha
FROM core.ci_failures f
JOIN models.failure_excerpts e USING (provider, job_id)
JOIN models.fingerprint_clusters c USING (fingerprint)
