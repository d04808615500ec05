-- Version 15: PagerDuty incident log entries (trigger, acknowledge, escalate, notify, annotate,
-- resolve), the on-call half of an incident's timeline.
CREATE TABLE raw.pagerduty_log_entries (
    log_entry_id     VARCHAR PRIMARY KEY,
    incident_id      VARCHAR NOT NULL,
    type             VARCHAR,
    created_at       TIMESTAMPTZ,
    summary          VARCHAR,
    agent_type       VARCHAR,
    agent_summary    VARCHAR,
    channel_type     VARCHAR,
    channel_summary  VARCHAR,
    channel_details  JSON,
    service          VARCHAR,
    payload          JSON,
    source_path      VARCHAR NOT NULL
);
