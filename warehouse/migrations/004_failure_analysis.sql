-- Version 4: failure excerpts, fingerprints, clusters and recurrence links.

-- One row per failed CI job whose log was read. Excerpt lines are stored redacted.
CREATE TABLE models.failure_excerpts (
    provider             VARCHAR NOT NULL,
    job_id               BIGINT NOT NULL,
    log_path             VARCHAR,
    log_bytes            BIGINT,
    passing_job_id       BIGINT,          -- the last passing log of the same job, diffed against
    fingerprint          VARCHAR,         -- NULL when the log gave no excerpt (binary, empty)
    fingerprint_version  VARCHAR NOT NULL,
    excerpt              JSON,            -- [{"n": line number, "text": ...}]
    total_lines          BIGINT,
    notes                VARCHAR[],
    PRIMARY KEY (provider, job_id)
);

-- A cluster merges fingerprints whose excerpts are near-identical; ids never change.
CREATE TABLE models.failure_clusters (
    cluster_id      VARCHAR PRIMARY KEY,
    representative  VARCHAR NOT NULL,     -- masked excerpt text of the founding failure
    founded_by      VARCHAR NOT NULL      -- fingerprint of the founding failure
);

CREATE TABLE models.fingerprint_clusters (
    fingerprint  VARCHAR PRIMARY KEY,
    cluster_id   VARCHAR NOT NULL,
    similarity   DOUBLE NOT NULL
);

CREATE TABLE models.ci_failure_clusters (
    provider     VARCHAR NOT NULL,
    job_id       BIGINT NOT NULL,
    cluster_id   VARCHAR NOT NULL,
    fingerprint  VARCHAR NOT NULL,
    repo         VARCHAR,
    job_name     VARCHAR,
    failed_at    TIMESTAMPTZ,
    run_url      VARCHAR,
    url          VARCHAR,
    sha          VARCHAR,
    PRIMARY KEY (provider, job_id)
);

CREATE TABLE models.cluster_links (
    cluster_id    VARCHAR NOT NULL,
    link_type     VARCHAR NOT NULL,      -- 'ticket', 'postmortem', 'incident'
    target_id     VARCHAR NOT NULL,      -- ticket key, postmortem id, incident id
    evidence      VARCHAR NOT NULL,      -- 'run_url', 'job_url', 'commit_sha', 'ticket_key', 'time_window'
    linked_at     TIMESTAMPTZ,           -- when the target came to exist (ticket/incident created, postmortem identified)
    repos         VARCHAR[],             -- repositories of the cited failures; NULL: the whole cluster
    fingerprints  VARCHAR[],             -- fingerprints of the cited failures; NULL: the whole cluster
    deploy_only   BOOLEAN,               -- every cited failure was a deployment job
    PRIMARY KEY (cluster_id, link_type, target_id)
);

CREATE TABLE models.recurrences (
    provider              VARCHAR NOT NULL,
    job_id                BIGINT NOT NULL,
    cluster_id            VARCHAR NOT NULL,
    repo                  VARCHAR,
    job_name              VARCHAR,
    failed_at             TIMESTAMPTZ,
    occurrence            INTEGER NOT NULL,  -- 1 for the first failure of the cluster
    prior_failures        INTEGER NOT NULL,
    first_seen            TIMESTAMPTZ,
    prior_ticket_keys     VARCHAR[],
    prior_postmortem_ids  VARCHAR[],
    fix_ticket_key        VARCHAR,           -- a linked ticket resolved before this failure
    fix_resolved_at       TIMESTAMPTZ,
    fix_did_not_hold      BOOLEAN NOT NULL,
    message               VARCHAR,
    PRIMARY KEY (provider, job_id)
);
