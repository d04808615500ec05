-- marts.incident_summary: for all incidents and per service: incidents, services named, the median hours to resolve (resolved incidents only) and how many a postmortem references.
WITH i AS (
    SELECT i.incident_id, i.service, coalesce(i.service, '(no service)') AS service_label,
        epoch(i.resolved_at - i.created_at) / 3600.0 AS hours_to_resolve,
        i.incident_id IN (SELECT incident_id FROM core.postmortems WHERE incident_id IS NOT NULL)
            AS with_postmortem
    FROM core.incidents i
)
SELECT
    CASE WHEN GROUPING(service_label) = 1 THEN 'all' ELSE 'service' END AS grouping_set,
    service_label AS service,
    count(*) AS incidents,
    count(DISTINCT service) AS services,
    median(hours_to_resolve) AS median_hours_to_resolve,
    count(*) FILTER (WHERE with_postmortem) AS with_postmortem,
    count(*) FILTER (WHERE with_postmortem) / count(*) AS share_with_postmortem
FROM i
GROUP BY GROUPING SETS ((), (service_label))
ORDER BY grouping_set, service
