-- models.action_item_status: one row per action item with its ticket, commitment, progress, reschedules (and whether a comment justified them) and completion SLO, as of the settings' as_of.
WITH s AS (SELECT * FROM models.follow_through_settings LIMIT 1),
changes AS (
    -- a commitment moved: due date or sprint changed at least an hour after the ticket existed
    SELECT e.ticket_key, e.occurred_at, e.field, e.from_value, e.to_value
    FROM core.ticket_events e
    JOIN core.tickets t USING (ticket_key)
    WHERE e.kind = 'change'
      AND lower(replace(e.field, ' ', '')) IN ('duedate', 'sprint', 'cycle')
      AND e.occurred_at >= t.created_at + INTERVAL 1 HOUR
),
reasons AS (
    -- a comment that gives a reason: matched words, not mere presence ("Any update?" is none)
    SELECT ticket_key, occurred_at, body
    FROM core.ticket_events
    WHERE kind = 'comment' AND body IS NOT NULL
      AND regexp_matches(lower(body),
          'because|blocked|block(ing|er)|depriorit|re-?schedul|postpon|moving|moved|push(ing|ed)|'
          || 'agreed|risk accepted|waiting (on|for)|depends on|dependenc|vendor|capacity|'
          || 'on[- ]call|deferr?|slipp|delay|instead|scope')
),
judged AS (
    SELECT c.ticket_key, c.occurred_at, c.field, r.body AS reason
    FROM changes c
    CROSS JOIN s
    LEFT JOIN reasons r
      ON r.ticket_key = c.ticket_key
     AND r.occurred_at BETWEEN c.occurred_at - to_microseconds(CAST(s.justification_hours * 3600e6 AS BIGINT))
                           AND c.occurred_at + to_microseconds(CAST(s.justification_hours * 3600e6 AS BIGINT))
    QUALIFY row_number() OVER (
        PARTITION BY c.ticket_key, c.occurred_at, c.field
        ORDER BY abs(epoch(r.occurred_at) - epoch(c.occurred_at)) NULLS LAST) = 1
),
moves AS (
    SELECT ticket_key,
           count(DISTINCT occurred_at) AS reschedules,
           count(DISTINCT occurred_at) FILTER (WHERE reason IS NOT NULL) AS justified_reschedules,
           min(occurred_at) FILTER (WHERE reason IS NOT NULL) AS first_justified_at,
           arg_min(reason, occurred_at) FILTER (WHERE reason IS NOT NULL) AS justification
    FROM judged GROUP BY ticket_key
),
calendar AS (
    -- a sprint named only in the document ends when the tickets in that sprint say it does;
    -- names are matched by their number ("Sprint 7", "PAY Sprint 7", "Cycle 7"), same project first
    SELECT project, TRY_CAST(regexp_extract(sprint, '([0-9]+)\s*$', 1) AS INTEGER) AS sprint_no,
           max(sprint_end) AS sprint_end
    FROM core.tickets WHERE sprint IS NOT NULL AND sprint_end IS NOT NULL GROUP BY ALL
),
calendar_any AS (
    SELECT sprint_no, max(sprint_end) AS sprint_end FROM calendar GROUP BY ALL
),
activity AS (
    SELECT ticket_key, max(occurred_at) AS last_event_at FROM core.ticket_events GROUP BY ticket_key
),
base AS (
    SELECT
        a.action_item_id, a.postmortem_id, a.team, a.service, a.text AS action_text,
        nullif(trim(a.owner), '') AS owner,
        t.assignee AS ticket_assignee,
        CASE
            WHEN regexp_matches(upper(coalesce(a.priority, '')), '^P[0-4]')
                THEN upper(left(a.priority, 2))
            WHEN lower(a.priority) IN ('critical', 'urgent', 'highest', 'blocker') THEN 'P1'
            WHEN lower(a.priority) IN ('high', 'major') THEN 'P2'
            WHEN lower(a.priority) IN ('medium', 'normal') THEN 'P3'
            WHEN lower(a.priority) IN ('low', 'lowest', 'minor', 'trivial') THEN 'P4'
            ELSE t.priority
        END AS priority,
        a.identified_at,
        l.ticket_key, l.link_kind, l.confidence AS link_confidence,
        t.created_at AS ticket_created_at,
        (epoch(t.created_at) - epoch(a.identified_at)) / 3600.0 AS hours_to_ticket,
        t.status AS ticket_status,
        CASE
            WHEN t.ticket_key IS NULL THEN 'untracked'
            WHEN t.status_category = 'canceled'
              OR regexp_matches(lower(coalesce(t.status, '')),
                                'won.?t|cancel|duplicate|obsolete|invalid|declined|rejected')
                THEN 'canceled'
            ELSE coalesce(t.status_category, 'todo')
        END AS status_category,
        coalesce(t.sprint, a.sprint) AS sprint,
        coalesce(t.sprint_end, cal.sprint_end, cal_any.sprint_end) AS sprint_end,
        coalesce(t.due_date, a.due_date) AS due_date,
        t.resolved_at, t.updated_at, t.created_at,
        lower(coalesce(a.status, '')) AS doc_status,
        nullif(trim(a.verification), '') AS verification,
        list_contains(coalesce(p.parts_present, []), 'verification') AS doc_has_verification,
        act.last_event_at,
        m.reschedules, m.justified_reschedules, m.first_justified_at, m.justification
    FROM core.action_items a
    LEFT JOIN core.postmortems p USING (postmortem_id)
    LEFT JOIN models.action_item_tickets l USING (action_item_id)
    LEFT JOIN core.tickets t ON t.ticket_key = l.ticket_key
    LEFT JOIN moves m ON m.ticket_key = l.ticket_key
    LEFT JOIN activity act ON act.ticket_key = l.ticket_key
    LEFT JOIN calendar cal
      ON cal.project = t.project
     AND cal.sprint_no = TRY_CAST(regexp_extract(coalesce(t.sprint, a.sprint), '([0-9]+)\s*$', 1)
                                  AS INTEGER)
    LEFT JOIN calendar_any cal_any
      ON t.ticket_key IS NULL
     AND cal_any.sprint_no = TRY_CAST(regexp_extract(a.sprint, '([0-9]+)\s*$', 1) AS INTEGER)
),
flags AS (
    SELECT b.*,
        b.status_category = 'done'
            OR (b.status_category = 'untracked' AND b.doc_status IN ('done', 'complete', 'completed'))
            AS done,
        b.status_category = 'canceled'
            OR (b.status_category = 'untracked' AND b.doc_status IN ('cancelled', 'canceled', 'wontfix', 'won''t do'))
            AS canceled,
        CASE WHEN b.status_category IN ('done', 'canceled')
             THEN coalesce(b.resolved_at, b.updated_at) END AS closed_at,
        coalesce(b.sprint_end, CAST(b.due_date AS TIMESTAMPTZ) + INTERVAL 1 DAY) AS target_end,
        CASE WHEN b.priority IN ('P0', 'P1', 'P2') THEN s.slo_priority_weeks
             ELSE s.slo_other_weeks END AS slo_weeks,
        s.as_of
    FROM base b, s
)
SELECT
    action_item_id, postmortem_id, team, service, action_text, owner, ticket_assignee,
    owner IS NOT NULL OR ticket_assignee IS NOT NULL AS has_owner,
    priority, identified_at, ticket_key, link_kind, link_confidence, ticket_created_at,
    hours_to_ticket, ticket_status, status_category, sprint, sprint_end, due_date, target_end,
    sprint IS NOT NULL OR due_date IS NOT NULL AS has_target,
    NOT done AND NOT canceled AS is_open,
    done, canceled, closed_at,
    CASE WHEN done THEN (epoch(closed_at) - epoch(identified_at)) / 86400.0 END AS days_to_done,
    greatest(created_at, updated_at, last_event_at) AS last_activity_at,
    coalesce(reschedules, 0) AS reschedules,
    coalesce(justified_reschedules, 0) AS justified_reschedules,
    first_justified_at, justification,
    verification, verification IS NOT NULL OR doc_has_verification AS has_verification,
    slo_weeks,
    identified_at + to_microseconds(CAST(slo_weeks * 7 * 86400e6 AS BIGINT)) AS slo_due_at,
    CASE
        WHEN canceled THEN 'canceled'
        WHEN identified_at IS NULL THEN 'unknown'
        WHEN done AND closed_at IS NULL THEN 'unknown'
        WHEN done AND closed_at <= identified_at + to_microseconds(CAST(slo_weeks * 7 * 86400e6 AS BIGINT)) THEN 'met'
        WHEN done THEN 'missed'
        WHEN as_of <= identified_at + to_microseconds(CAST(slo_weeks * 7 * 86400e6 AS BIGINT)) THEN 'open_within'
        ELSE 'open_breached'
    END AS slo_status,
    as_of
FROM flags
