-- Version 19: what a file looked like when it was last read, so a build can skip a file whose
-- size and modification time are unchanged without reading and hashing it again. A file loaded
-- by an older version has neither (NULL): it is hashed once more, as before.
ALTER TABLE raw.files ADD COLUMN mtime_ns BIGINT;      -- st_mtime_ns when it was read
ALTER TABLE raw.files ADD COLUMN checked_at TIMESTAMPTZ; -- when its size, mtime and hash were taken

-- Files loaded again after their contents changed: rows a reload dropped can be in no list of
-- changed rows, so a table rebuilt by key (warehouse/transform.py) is rebuilt whole after one.
CREATE TABLE meta.reloaded_files (
    path         VARCHAR PRIMARY KEY,
    reloaded_at  TIMESTAMPTZ NOT NULL
);

-- Per table rebuilt by key: the SQL it was last built with and the newest raw.files.loaded_at
-- it had seen, so the next rebuild redoes only the keys of files loaded after that.
CREATE TABLE meta.table_builds (
    table_name   VARCHAR PRIMARY KEY,
    sql_sha256   VARCHAR NOT NULL,
    files_upto   TIMESTAMPTZ,
    built_at     TIMESTAMPTZ NOT NULL
);
