-- Version 13: GitHub Issues as a ticket tracker, and Slack incident channels as timeline events.

CREATE TABLE raw.github_issues (
    issue_id          BIGINT PRIMARY KEY,
    repo              VARCHAR NOT NULL,
    number            INTEGER NOT NULL,
    ticket_key        VARCHAR NOT NULL,   -- owner/repo#number
    title             VARCHAR,
    body              VARCHAR,
    state             VARCHAR,            -- 'open' or 'closed'
    state_reason      VARCHAR,            -- completed, not_planned, duplicate, reopened
    url               VARCHAR,
    author            VARCHAR,
    assignee          VARCHAR,
    assignees         VARCHAR[],
    labels            VARCHAR[],
    priority          VARCHAR,            -- as a label states it ("P1", "high")
    issue_type        VARCHAR,
    milestone         VARCHAR,
    milestone_due_on  TIMESTAMPTZ,
    comments          INTEGER,
    created_at        TIMESTAMPTZ,
    updated_at        TIMESTAMPTZ,
    closed_at         TIMESTAMPTZ,
    payload           JSON,
    source_path       VARCHAR NOT NULL
);

-- One row per kept timeline item: state changes, labels, assignments, milestones, renames
-- (kind 'change') and comments (kind 'comment').
CREATE TABLE raw.github_issue_events (
    ticket_key   VARCHAR NOT NULL,
    event_id     VARCHAR NOT NULL,       -- 'event:<id>' or 'comment:<id>'
    occurred_at  TIMESTAMPTZ,
    author       VARCHAR,
    event        VARCHAR NOT NULL,       -- GitHub's timeline event name
    kind         VARCHAR NOT NULL,
    field        VARCHAR,
    from_value   VARCHAR,
    to_value     VARCHAR,
    body         VARCHAR,
    payload      JSON,
    source_path  VARCHAR NOT NULL,
    PRIMARY KEY (ticket_key, event_id)
);

CREATE TABLE raw.slack_messages (
    channel_id    VARCHAR NOT NULL,
    channel_name  VARCHAR,
    ts            VARCHAR NOT NULL,      -- Slack's message id and time, "1512085950.000216"
    thread_ts     VARCHAR,
    user_id       VARCHAR,
    subtype       VARCHAR,
    text          VARCHAR,               -- redacted
    reply_count   INTEGER,
    posted_at     TIMESTAMPTZ NOT NULL,  -- from ts, to the microsecond
    payload       JSON,
    source_path   VARCHAR NOT NULL,
    PRIMARY KEY (channel_id, ts)
);

-- Slack messages tied to the PagerDuty incident they are about.
CREATE TABLE core.incident_timeline (
    incident_id   VARCHAR NOT NULL,
    source        VARCHAR NOT NULL,      -- 'slack'
    channel_id    VARCHAR NOT NULL,
    channel_name  VARCHAR,
    ts            VARCHAR NOT NULL,
    thread_ts     VARCHAR,
    posted_at     TIMESTAMPTZ NOT NULL,
    user_id       VARCHAR,
    subtype       VARCHAR,
    is_reply      BOOLEAN NOT NULL,
    text          VARCHAR,
    link_kind     VARCHAR NOT NULL,      -- channel_id, channel_number, message_url, channel_url
    PRIMARY KEY (incident_id, channel_id, ts)
);
