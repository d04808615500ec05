-- marts.incidents_monthly: incidents per month of creation (UTC) and service ('(no service)' when none), and per month over every service (grouping_set 'all').
WITH i AS (
    SELECT CAST(date_trunc('month', timezone('UTC', created_at)) AS DATE) AS month,
        coalesce(service, '(no service)') AS service
    FROM core.incidents WHERE created_at IS NOT NULL
)
SELECT
    CASE WHEN GROUPING(service) = 1 THEN 'all' ELSE 'service' END AS grouping_set,
    month, service, count(*) AS incidents
FROM i
GROUP BY GROUPING SETS ((month), (month, service))
ORDER BY grouping_set, month, service
