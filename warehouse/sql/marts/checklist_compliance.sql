-- marts.checklist_compliance: each postmortem against the follow-through checklist (during the incident, within 24 h, during the meeting, within 30 days); what the data cannot show is 'unknown', never passed.
WITH s AS (SELECT * FROM models.follow_through_settings LIMIT 1),
p AS (
    SELECT p.postmortem_id, p.team, p.service, p.incident_id, p.meeting_at, p.identified_at,
           p.parts_present, p.contributing_count, p.timeline_entries, p.findings,
           d.ci_refs, i.created_at AS incident_at, i.resolved_at AS incident_resolved_at,
           i.url AS incident_url, s.as_of, s.p1_within_days
    FROM core.postmortems p
    CROSS JOIN s
    LEFT JOIN raw.postmortem_documents d USING (postmortem_id)
    LEFT JOIN core.incidents i ON i.incident_id = p.incident_id
),
-- The words and addresses of each ticket's title and description: an incident is cited by its
-- id as a whole word or by its address (equality joins; a longer id does not cite a shorter one).
ticket_words AS (
    SELECT ticket_key, created_at,
           unnest(list_distinct(string_split_regex(
               coalesce(description, '') || ' ' || coalesce(title, ''), '[^A-Za-z0-9_-]+'))) AS word
    FROM core.tickets
    UNION
    SELECT ticket_key, created_at,
           regexp_replace(
               rtrim(unnest(regexp_extract_all(description, 'https?://[^\s<>()\[\]"'']+')), '.,;:'),
               '[?#].*$', '')
    FROM core.tickets
),
inc_ticket AS (
    SELECT p.postmortem_id, t.ticket_key, t.created_at,
           t.created_at <= coalesce(p.incident_resolved_at, p.as_of) AS during
    FROM (SELECT *, unnest(list_filter([incident_id, incident_url], v -> v IS NOT NULL)) AS cites
          FROM p WHERE incident_id IS NOT NULL) p
    JOIN ticket_words t
      ON t.word = p.cites
     AND t.created_at >= p.incident_at - INTERVAL 1 HOUR
    QUALIFY row_number() OVER (PARTITION BY p.postmortem_id ORDER BY t.created_at, t.ticket_key) = 1
),
items AS (
    SELECT postmortem_id,
        count(*) FILTER (WHERE NOT canceled) AS n,
        count(*) FILTER (WHERE NOT canceled AND ticket_key IS NULL) AS no_ticket,
        count(*) FILTER (WHERE NOT canceled AND NOT has_owner) AS no_owner,
        count(*) FILTER (WHERE NOT canceled AND NOT has_target) AS no_target,
        count(*) FILTER (WHERE NOT canceled AND NOT has_verification) AS no_verification,
        count(*) FILTER (WHERE priority IN ('P0', 'P1') AND NOT canceled) AS p1,
        count(*) FILTER (WHERE priority IN ('P0', 'P1') AND NOT canceled
            AND ((done AND closed_at <= identified_at
                     + to_microseconds(CAST(s.p1_within_days * 86400e6 AS BIGINT)))
                 OR first_justified_at <= identified_at
                     + to_microseconds(CAST(s.p1_within_days * 86400e6 AS BIGINT))))
            AS p1_handled,
        count(*) FILTER (WHERE NOT canceled AND regexp_matches(lower(coalesce(action_text, '')),
            'run ?book|playbook|procedure|\bsop\b')) AS runbook_items,
        count(*) FILTER (WHERE NOT canceled AND regexp_matches(lower(coalesce(action_text, '')),
            'run ?book|playbook|procedure|\bsop\b') AND done AND closed_at <= identified_at
                + to_microseconds(CAST(s.p1_within_days * 86400e6 AS BIGINT)))
            AS runbook_done
    FROM models.action_item_status, s GROUP BY ALL
),
ver AS (
    SELECT postmortem_id, count(*) AS n,
        count(*) FILTER (WHERE result IN ('holds', 'fails')) AS checked,
        count(*) FILTER (WHERE result = 'not_enough_data' AND window_end > as_of) AS waiting,
        count(*) FILTER (WHERE result = 'not_checkable') AS not_checkable
    FROM marts.verification_checks GROUP BY ALL
),
cited_ci AS (
    SELECT DISTINCT postmortem_id, unnest(ci_refs) AS ref FROM p
),
ci AS (
    -- a cited address names a failed job by its address, by its run's address or one under
    -- it, or by the job or run number in it
    SELECT postmortem_id, count(DISTINCT job_id) AS failures FROM (
        SELECT c.postmortem_id, f.job_id FROM cited_ci c JOIN core.ci_failures f ON f.url = c.ref
        UNION
        SELECT c.postmortem_id, f.job_id FROM cited_ci c JOIN core.ci_failures f ON f.run_url = c.ref
        UNION
        SELECT c.postmortem_id, f.job_id
        FROM (SELECT postmortem_id, string_split(ref, '/') AS parts,
                     unnest(range(1, len(string_split(ref, '/')))) AS k
              FROM cited_ci) c
        JOIN core.ci_failures f ON f.run_url = array_to_string(c.parts[1:c.k], '/')
        UNION
        SELECT c.postmortem_id, f.job_id FROM cited_ci c JOIN core.ci_failures f
          ON f.job_id = TRY_CAST(regexp_extract(c.ref, '/job/([0-9]+)', 1) AS BIGINT)
        UNION
        SELECT c.postmortem_id, f.job_id FROM cited_ci c JOIN core.ci_failures f
          ON f.run_id = TRY_CAST(regexp_extract(c.ref, '/runs/([0-9]+)', 1) AS BIGINT)
    ) GROUP BY ALL
),
blame AS (
    SELECT postmortem_id,
           len(list_filter(json_extract_string(findings, '$[*].rule'),
                           r -> r = 'blame-language')) AS hits
    FROM p WHERE findings IS NOT NULL
),
x AS (
    SELECT p.*, it.ticket_key AS inc_ticket, it.created_at AS inc_ticket_at, it.during,
        coalesce(items.n, 0) AS n_items, items.no_ticket, items.no_owner, items.no_target,
        items.no_verification, coalesce(items.p1, 0) AS p1, items.p1_handled,
        coalesce(items.runbook_items, 0) AS runbook_items, items.runbook_done,
        coalesce(ver.n, 0) AS n_criteria, ver.checked, ver.waiting, ver.not_checkable,
        coalesce(ci.failures, 0) AS ci_failures, blame.hits AS blame_hits,
        p.identified_at + to_microseconds(CAST(p.p1_within_days * 86400e6 AS BIGINT))
            AS day30
    FROM p
    LEFT JOIN inc_ticket it USING (postmortem_id)
    LEFT JOIN items USING (postmortem_id)
    LEFT JOIN ver USING (postmortem_id)
    LEFT JOIN ci USING (postmortem_id)
    LEFT JOIN blame USING (postmortem_id)
),
checks AS (
    SELECT postmortem_id, 'during_incident' AS phase, 'ticket_auto_created' AS check_id,
        CASE WHEN incident_id IS NULL THEN 'unknown'
             WHEN inc_ticket IS NOT NULL AND during THEN 'passed'
             ELSE 'failed' END AS result,
        CASE WHEN incident_id IS NULL THEN 'no incident is linked to this postmortem'
             WHEN inc_ticket IS NOT NULL AND during
                 THEN inc_ticket || ' cites incident ' || incident_id || ', created '
                      || round((epoch(inc_ticket_at) - epoch(incident_at)) / 60) || ' min after it opened'
             WHEN inc_ticket IS NOT NULL
                 THEN 'first ticket citing ' || incident_id || ' (' || inc_ticket
                      || ') was created after the incident was resolved'
             ELSE 'no ticket cites incident ' || incident_id END AS detail
    FROM x
    UNION ALL
    SELECT postmortem_id, 'during_incident', 'em_notified', 'unknown',
        'no notification record in the warehouse: followthrough does not yet log who was notified'
    FROM x
    UNION ALL
    SELECT postmortem_id, 'during_incident', 'timeline_populating',
        CASE WHEN coalesce(timeline_entries, 0) = 0 THEN 'failed' ELSE 'unknown' END,
        CASE WHEN coalesce(timeline_entries, 0) = 0 THEN 'the document has no timeline entries'
             ELSE timeline_entries || ' timeline entries; when they were written is not recorded'
        END
    FROM x
    UNION ALL
    SELECT postmortem_id, 'within_24h', 'meeting_scheduled',
        CASE WHEN meeting_at IS NULL THEN 'failed'
             WHEN incident_at IS NOT NULL
              AND meeting_at <= coalesce(incident_resolved_at, incident_at) + INTERVAL 24 HOUR
                 THEN 'passed'
             ELSE 'unknown' END,
        CASE WHEN meeting_at IS NULL THEN 'no review meeting recorded in the document'
             WHEN incident_at IS NULL THEN 'meeting held ' || strftime(meeting_at, '%Y-%m-%d')
                 || '; no incident to measure from'
             WHEN meeting_at <= coalesce(incident_resolved_at, incident_at) + INTERVAL 24 HOUR
                 THEN 'meeting held within 24 h of resolution'
             ELSE 'meeting held ' || round((epoch(meeting_at)
                      - epoch(coalesce(incident_resolved_at, incident_at))) / 86400, 1)
                  || ' days after resolution; when it was scheduled is not recorded' END
    FROM x
    UNION ALL
    SELECT postmortem_id, 'within_24h', 'impact_drafted',
        CASE WHEN NOT list_contains(coalesce(parts_present, []), 'impact') THEN 'failed'
             ELSE 'unknown' END,
        CASE WHEN NOT list_contains(coalesce(parts_present, []), 'impact')
                 THEN 'the document has no impact section'
             ELSE 'impact section present; when it was drafted is not recorded' END
    FROM x
    UNION ALL
    SELECT postmortem_id, 'within_24h', 'conditions_3_to_7',
        CASE WHEN coalesce(contributing_count, 0) BETWEEN 3 AND 7 THEN 'passed' ELSE 'failed' END,
        coalesce(contributing_count, 0) || ' contributing condition(s); the checklist asks for 3 to 7'
    FROM x
    UNION ALL
    SELECT postmortem_id, 'during_meeting', 'items_ticketed_complete',
        CASE WHEN n_items = 0 THEN 'failed'
             WHEN no_ticket + no_owner + no_target + no_verification = 0 THEN 'passed'
             ELSE 'failed' END,
        CASE WHEN n_items = 0 THEN 'no action items'
             ELSE n_items || ' item(s): ' || no_ticket || ' without ticket, ' || no_owner
                  || ' without owner, ' || no_target || ' without sprint or due date, '
                  || no_verification || ' without verification' END
    FROM x
    UNION ALL
    SELECT postmortem_id, 'during_meeting', 'no_blame_language',
        CASE WHEN blame_hits IS NULL THEN 'unknown' WHEN blame_hits = 0 THEN 'passed'
             ELSE 'failed' END,
        CASE WHEN blame_hits IS NULL THEN 'the document was not linted'
             WHEN blame_hits = 0 THEN 'no blame-language finding'
             ELSE blame_hits || ' blame-language finding(s)' END
    FROM x
    UNION ALL
    SELECT postmortem_id, 'within_30_days', 'p1_resolved_or_rescheduled',
        CASE WHEN p1 = 0 THEN 'not_applicable'
             WHEN p1_handled = p1 THEN 'passed'
             WHEN day30 > as_of THEN 'pending'
             ELSE 'failed' END,
        CASE WHEN p1 = 0 THEN 'no P1 action items'
             ELSE p1_handled || ' of ' || p1 || ' P1 item(s) resolved or rescheduled with a reason within '
                  || printf('%g', p1_within_days) || ' days' END
    FROM x
    UNION ALL
    SELECT postmortem_id, 'within_30_days', 'verification_checked',
        CASE WHEN n_criteria = 0 THEN 'failed'
             WHEN checked = n_criteria THEN 'passed'
             WHEN checked + waiting = n_criteria OR day30 > as_of THEN 'pending'
             ELSE 'failed' END,
        CASE WHEN n_criteria = 0 THEN 'no verification criteria in the document'
             ELSE checked || ' of ' || n_criteria || ' criteria checked against CI history; '
                  || not_checkable || ' not checkable, ' || waiting || ' waiting for their window'
        END
    FROM x
    UNION ALL
    SELECT postmortem_id, 'within_30_days', 'linked_to_ci_failure',
        CASE WHEN coalesce(len(ci_refs), 0) = 0 THEN 'unknown'
             WHEN ci_failures > 0 THEN 'passed' ELSE 'failed' END,
        CASE WHEN coalesce(len(ci_refs), 0) = 0
                 THEN 'the document cites no CI run; whether the incident had a CI failure event is not recorded'
             WHEN ci_failures > 0 THEN 'cites ' || ci_failures || ' failed CI job(s)'
             ELSE 'cites ' || len(ci_refs) || ' CI link(s), none of them a failure in CI history' END
    FROM x
    UNION ALL
    SELECT postmortem_id, 'within_30_days', 'runbook_updated',
        CASE WHEN runbook_items = 0 THEN 'unknown'
             WHEN runbook_done = runbook_items THEN 'passed'
             WHEN day30 > as_of THEN 'pending'
             ELSE 'failed' END,
        CASE WHEN runbook_items = 0
                 THEN 'no action item mentions a runbook; whether a procedure was missing is not recorded'
             ELSE runbook_done || ' of ' || runbook_items || ' runbook item(s) done within '
                  || printf('%g', p1_within_days) || ' days' END
    FROM x
)
SELECT c.postmortem_id, x.team, x.service, x.incident_id, c.phase, c.check_id, c.result,
       c.detail, x.as_of
FROM checks c JOIN x USING (postmortem_id)
