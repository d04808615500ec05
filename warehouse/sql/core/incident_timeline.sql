-- core.incident_timeline: Slack messages tied to the PagerDuty incident they are about — every message of a channel whose name carries the incident's id or number (#inc-4321-checkout), of a channel whose messages link exactly one incident, and any message that links an incident (its PagerDuty URL).
WITH msgs AS (
    SELECT m.*, lower(coalesce(m.channel_name, '')) AS cname,
           m.thread_ts IS NOT NULL AND m.thread_ts <> m.ts AS is_reply
    FROM raw.slack_messages m
),
channels AS (
    SELECT channel_id, any_value(cname) AS cname, min(posted_at) AS first_at
    FROM msgs GROUP BY channel_id
),
by_id AS (
    -- the channel name carries the PagerDuty id (channel names are lower case)
    SELECT c.channel_id, i.incident_id, 'channel_id' AS link_kind, 1 AS rank
    FROM channels c JOIN core.incidents i
      ON length(i.incident_id) >= 5
     AND regexp_matches(c.cname, '(^|[^a-z0-9])' || lower(i.incident_id) || '([^a-z0-9]|$)')
),
by_number AS (
    -- the channel name carries the incident number as a word of its own, and the channel
    -- began within two days of the incident (a date in a channel name is not a number)
    SELECT c.channel_id, i.incident_id, 'channel_number' AS link_kind, 2 AS rank
    FROM channels c JOIN core.incidents i
      ON i.incident_number IS NOT NULL
     AND regexp_matches(c.cname, '(^|[^0-9])' || CAST(i.incident_number AS VARCHAR) || '([^0-9]|$)')
     AND abs(epoch(c.first_at) - epoch(i.created_at)) <= 2 * 86400
),
mentions AS (
    -- a PagerDuty incident URL in a message (Slack writes links as <url|label>)
    SELECT DISTINCT m.channel_id, m.ts, i.incident_id
    FROM msgs m
    CROSS JOIN LATERAL (
        SELECT unnest(regexp_extract_all(m.text, '/incidents/([A-Za-z0-9]+)', 1)) AS ref
    ) r
    JOIN core.incidents i ON i.incident_id = r.ref
    WHERE m.text IS NOT NULL AND contains(m.text, '/incidents/')
),
by_url AS (
    -- a channel whose messages link exactly one incident is that incident's channel
    SELECT channel_id, any_value(incident_id) AS incident_id, 'channel_url' AS link_kind,
           3 AS rank
    FROM mentions
    GROUP BY channel_id
    HAVING count(DISTINCT incident_id) = 1
),
channel_links AS (
    SELECT * FROM by_id
    UNION ALL SELECT * FROM by_number
    UNION ALL SELECT * FROM by_url
),
links AS (
    SELECT m.channel_id, m.ts, l.incident_id, l.link_kind, l.rank
    FROM msgs m JOIN channel_links l USING (channel_id)
    UNION ALL
    SELECT channel_id, ts, incident_id, 'message_url' AS link_kind, 4 AS rank FROM mentions
),
best AS (
    SELECT * FROM links
    QUALIFY row_number() OVER (PARTITION BY incident_id, channel_id, ts ORDER BY rank) = 1
)
SELECT
    b.incident_id,
    'slack'          AS source,
    m.channel_id,
    m.channel_name,
    m.ts,
    m.thread_ts,
    m.posted_at,
    m.user_id,
    m.subtype,
    m.is_reply,
    m.text,
    b.link_kind
FROM best b
JOIN msgs m USING (channel_id, ts)
