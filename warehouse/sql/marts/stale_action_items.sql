-- marts.stale_action_items: one row per action item and reason it is dying (no ticket, no owner, no target, past its sprint, inactive, P1 unjustified, verification missing or unchecked), with a readable detail.
WITH s AS (SELECT * FROM models.follow_through_settings LIMIT 1),
checks AS (
    SELECT action_item_id, count(*) AS n FROM marts.verification_checks
    WHERE action_item_id IS NOT NULL AND result IN ('holds', 'fails') GROUP BY ALL
),
a AS (
    SELECT a.*, t.url AS ticket_url,
        coalesce(a.ticket_status, a.status_category) AS shown_status,
        coalesce(c.n, 0) AS checked,
        s.ticket_grace_hours, s.inactivity_days, s.p1_within_days, s.verification_days
    FROM models.action_item_status a
    CROSS JOIN s
    LEFT JOIN core.tickets t ON t.ticket_key = a.ticket_key
    LEFT JOIN checks c ON c.action_item_id = a.action_item_id
    WHERE NOT a.canceled
),
reasons AS (
    SELECT action_item_id, 'no_ticket_24h' AS reason,
           identified_at + to_microseconds(CAST(ticket_grace_hours * 3600e6 AS BIGINT)) AS since,
           CASE WHEN ticket_key IS NULL
                THEN 'no ticket ' || CAST(round(ticket_grace_hours) AS BIGINT) || ' h after the review meeting of '
                     || strftime(identified_at, '%Y-%m-%d')
                ELSE ticket_key || ' was created ' || round(hours_to_ticket / 24, 1)
                     || ' days after the review meeting (more than '
                     || CAST(round(ticket_grace_hours) AS BIGINT) || ' h)' END AS detail
    FROM a
    WHERE is_open AND identified_at IS NOT NULL
      AND ((ticket_key IS NULL AND as_of > identified_at
                + to_microseconds(CAST(ticket_grace_hours * 3600e6 AS BIGINT)))
           OR hours_to_ticket > ticket_grace_hours)
    UNION ALL
    SELECT action_item_id, 'no_owner', identified_at,
           'no owner in the document' || CASE WHEN ticket_key IS NOT NULL
               THEN ' and ' || ticket_key || ' is unassigned' ELSE '' END
    FROM a WHERE is_open AND NOT has_owner
    UNION ALL
    SELECT action_item_id, 'no_target_sprint', identified_at,
           'no target sprint or due date' || CASE WHEN ticket_key IS NOT NULL
               THEN ' (neither in the document nor on ' || ticket_key || ')' ELSE '' END
    FROM a WHERE is_open AND NOT has_target
    UNION ALL
    SELECT action_item_id, 'open_past_sprint', target_end,
           ticket_key || ' is still ' || coalesce(shown_status, 'open') || '; '
               || CASE WHEN sprint_end IS NOT NULL
                       THEN 'sprint ' || coalesce(sprint, '?') || ' ended '
                       ELSE 'due date passed ' END
               || strftime(target_end, '%Y-%m-%d') || ' ('
               || CAST(floor((epoch(as_of) - epoch(target_end)) / 86400) AS BIGINT)
               || ' days ago)'
    FROM a WHERE is_open AND ticket_key IS NOT NULL AND target_end < as_of
    UNION ALL
    SELECT action_item_id, 'no_activity', last_activity_at,
           'no activity on ' || ticket_key || ' for '
               || CAST(floor((epoch(as_of) - epoch(last_activity_at)) / 86400) AS BIGINT)
               || ' days (last ' || strftime(last_activity_at, '%Y-%m-%d') || ')'
    FROM a
    WHERE is_open AND ticket_key IS NOT NULL
      AND last_activity_at < as_of - to_microseconds(CAST(inactivity_days * 86400e6 AS BIGINT))
    UNION ALL
    SELECT action_item_id, 'p1_unjustified',
           identified_at + to_microseconds(CAST(p1_within_days * 86400e6 AS BIGINT)),
           priority || ' open ' || CAST(floor((epoch(as_of) - epoch(identified_at)) / 86400) AS BIGINT)
               || ' days after identification with no justified reschedule'
               || CASE WHEN reschedules > 0
                       THEN ' (' || reschedules || ' reschedule(s), none with a reason)'
                       ELSE '' END
    FROM a
    WHERE is_open AND priority IN ('P0', 'P1') AND first_justified_at IS NULL
      AND identified_at + to_microseconds(CAST(p1_within_days * 86400e6 AS BIGINT)) < as_of
    UNION ALL
    SELECT action_item_id, 'verification_missing', identified_at,
           'no verification criterion, neither on the item nor in the document: '
               || 'nobody will know whether the fix worked'
    FROM a WHERE is_open AND NOT has_verification
    UNION ALL
    SELECT action_item_id, 'verification_unchecked',
           closed_at + to_microseconds(CAST(verification_days * 86400e6 AS BIGINT)),
           'closed ' || strftime(closed_at, '%Y-%m-%d') || ' and its verification ('
               || coalesce('"' || left(verification, 80) || '"', 'the document''s section')
               || ') has not been checked against CI history ' || printf('%g', verification_days)
               || ' days later'
    FROM a
    WHERE done AND has_verification AND checked = 0 AND closed_at IS NOT NULL
      AND closed_at + to_microseconds(CAST(verification_days * 86400e6 AS BIGINT)) < as_of
)
SELECT
    r.action_item_id, r.reason, a.postmortem_id, a.team, a.service, a.owner, a.priority,
    a.action_text, a.ticket_key, a.ticket_url, r.since,
    CASE WHEN r.since IS NOT NULL THEN (epoch(a.as_of) - epoch(r.since)) / 86400.0 END
        AS days_stale,
    r.detail, a.as_of
FROM reasons r
JOIN a USING (action_item_id)
