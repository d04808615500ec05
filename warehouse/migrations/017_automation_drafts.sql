-- Version 17: the postmortem draft each incident ticket starts. The Markdown file people edit
-- lives in the drafts folder; this row links it to the ticket and keeps the auto-filled blocks
-- as last written, so a rerun finds the draft instead of writing a second one. Like the outbox,
-- the `automation` schema is never rebuilt by `followthrough build`.
CREATE SCHEMA IF NOT EXISTS automation;

CREATE TABLE automation.drafts (
    ticket_key     VARCHAR PRIMARY KEY,   -- automation.outbox.idempotency_key of the ticket
    path           VARCHAR NOT NULL,      -- the Markdown file
    incident_id    VARCHAR,               -- the PagerDuty incident, once one is linked
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,  -- the last time an auto-filled block changed
    checked_at     TIMESTAMPTZ NOT NULL,  -- the last run that looked
    timeline_rows  INTEGER NOT NULL,
    blocks         JSON NOT NULL,         -- auto-filled block name -> its text as last written
    status         VARCHAR NOT NULL,      -- 'following', 'settled', 'detached', 'missing'
    note           VARCHAR,               -- why a draft is detached or missing
    CHECK (status IN ('following', 'settled', 'detached', 'missing'))
);
