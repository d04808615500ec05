-- core.postmortems: parsed documents, tied to the incident they reference (id, number or URL).
WITH refs AS (
    SELECT d.postmortem_id, unnest(d.incident_refs) AS ref FROM raw.postmortem_documents d
),
matched AS (
    SELECT r.postmortem_id, i.incident_id, i.team, i.service
    FROM refs r
    JOIN core.incidents i
      ON r.ref = i.incident_id
      OR r.ref = i.url
      OR (i.url IS NOT NULL AND starts_with(r.ref, i.url || '/'))
      OR ltrim(r.ref, '#') = CAST(i.incident_number AS VARCHAR)
    QUALIFY row_number() OVER (PARTITION BY r.postmortem_id ORDER BY i.created_at) = 1
),
items AS (
    SELECT postmortem_id, count(*) AS n FROM raw.postmortem_action_items GROUP BY ALL
)
SELECT
    d.postmortem_id, d.path, d.format, d.title,
    m.incident_id, m.team, m.service,
    d.doc_date, d.meeting_at, d.identified_at, d.authors, d.parts_present,
    d.contributing_count, d.timeline_entries, d.impact_duration_min,
    coalesce(items.n, 0) AS action_item_count,
    d.lint_errors, d.lint_warnings, d.findings
FROM raw.postmortem_documents d
LEFT JOIN matched m USING (postmortem_id)
LEFT JOIN items USING (postmortem_id)
