-- Version 19: what a file looked like when it was last read, so a build can skip a file whose
-- size and modification time are unchanged without reading and hashing it again. A file loaded
-- by an older version has neither (NULL): it is hashed once more, as before.
ALTER TABLE raw.files ADD COLUMN mtime_ns BIGINT;      -- st_mtime_ns when it was read
ALTER TABLE raw.files ADD COLUMN checked_at TIMESTAMPTZ; -- when its size, mtime and hash were taken
