-- Version 2: a log of builds, so a rebuild with no new data can be skipped and reported.
CREATE TABLE IF NOT EXISTS meta.builds (
    built_at      TIMESTAMPTZ NOT NULL,
    exports       VARCHAR,
    files_loaded  INTEGER NOT NULL,
    rebuilt       BOOLEAN NOT NULL,
    seconds       DOUBLE
);
