-- marts.follow_through: per team and month of identification, the share of action items done within the window, P1 items resolved or rescheduled with a justification, and the completion SLO.
WITH s AS (SELECT * FROM models.follow_through_settings LIMIT 1),
i AS (
    SELECT a.*,
        a.identified_at + to_microseconds(CAST(s.done_within_days * 86400e6 AS BIGINT))
            AS done_deadline,
        a.identified_at + to_microseconds(CAST(s.p1_within_days * 86400e6 AS BIGINT))
            AS p1_deadline,
        a.priority IN ('P0', 'P1') AS is_p1,
        s.done_within_days, s.p1_within_days
    FROM models.action_item_status a, s
    WHERE a.identified_at IS NOT NULL
),
j AS (
    SELECT *,
        done_deadline <= as_of AS matured,
        done AND closed_at <= done_deadline AS done_within,
        is_p1 AND p1_deadline <= as_of AS p1_matured,
        is_p1 AND done AND closed_at <= p1_deadline AS p1_resolved,
        is_p1 AND NOT (done AND closed_at <= p1_deadline) AND first_justified_at <= p1_deadline
            AS p1_justified
    FROM i
)
SELECT
    coalesce(team, '(unassigned)') AS team,
    CAST(date_trunc('month', identified_at) AS DATE) AS month,
    count(*) AS items,
    count(ticket_key) AS ticketed,
    count(*) FILTER (WHERE done) AS done,
    count(*) FILTER (WHERE canceled) AS canceled,
    count(*) FILTER (WHERE matured) AS matured,
    count(*) FILTER (WHERE matured AND done_within) AS done_within,
    count(*) FILTER (WHERE matured AND done_within) / nullif(count(*) FILTER (WHERE matured), 0)
        AS share_done_within,
    count(*) FILTER (WHERE is_p1) AS p1_items,
    count(*) FILTER (WHERE p1_matured) AS p1_matured,
    count(*) FILTER (WHERE p1_matured AND p1_resolved) AS p1_resolved_within,
    count(*) FILTER (WHERE p1_matured AND p1_justified) AS p1_rescheduled_justified,
    count(*) FILTER (WHERE p1_matured AND (p1_resolved OR p1_justified))
        / nullif(count(*) FILTER (WHERE p1_matured), 0) AS share_p1_handled,
    count(*) FILTER (WHERE slo_status IN ('met', 'missed', 'open_breached')) AS slo_matured,
    count(*) FILTER (WHERE slo_status = 'met') AS slo_met,
    count(*) FILTER (WHERE slo_status = 'met')
        / nullif(count(*) FILTER (WHERE slo_status IN ('met', 'missed', 'open_breached')), 0)
        AS share_slo_met,
    any_value(done_within_days) AS done_within_days,
    any_value(p1_within_days) AS p1_within_days,
    any_value(as_of) AS as_of
FROM j
GROUP BY ALL
ORDER BY team, month
