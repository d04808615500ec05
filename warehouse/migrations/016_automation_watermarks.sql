-- Version 16: where the repeat-failure automation starts. On its first evaluation the
-- repeat-failure alerts set a watermark (a look-back before the newest CI failure then in the
-- warehouse); only failures at or after it are alerted, so turning automation on does not replay
-- history. Like the outbox, the `automation` schema is never rebuilt.
CREATE TABLE automation.watermarks (
    name    VARCHAR PRIMARY KEY,       -- 'repeats'
    since   TIMESTAMPTZ NOT NULL,      -- failures at or after this are considered
    set_at  TIMESTAMPTZ NOT NULL,      -- when the watermark was set
    note    VARCHAR                    -- how it was chosen
);
