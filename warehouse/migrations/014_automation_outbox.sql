-- Version 14: the automation outbox. Every message followthrough sends (a ticket, an alert) is
-- first a row here, keyed by an idempotency key, so a rerun or a crash never sends twice and a
-- failed send is retried. The `automation` schema is not rebuilt by `followthrough build`.
CREATE SCHEMA IF NOT EXISTS automation;

CREATE TABLE automation.outbox (
    idempotency_key  VARCHAR PRIMARY KEY,     -- e.g. 'github:2100000241' (provider:deployment_id)
    kind             VARCHAR NOT NULL,        -- 'ticket', 'alert'
    target           VARCHAR NOT NULL,        -- 'jira', 'linear', 'github', 'slack'
    status           VARCHAR NOT NULL,        -- 'pending', 'sent', 'failed', 'dry_run'
    payload          JSON NOT NULL,           -- exactly what is (or would be) sent
    rule             VARCHAR,                 -- the severity rule that fired
    severity         VARCHAR,
    event_at         TIMESTAMPTZ,             -- when the failure became visible
    created_at       TIMESTAMPTZ NOT NULL,
    sent_at          TIMESTAMPTZ,
    external_key     VARCHAR,                 -- the tracker's key (ENG-12, #42) or Slack ts
    external_url     VARCHAR,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       VARCHAR,
    next_attempt_at  TIMESTAMPTZ,             -- a failed send is retried from then on
    CHECK (status IN ('pending', 'sent', 'failed', 'dry_run'))
);
