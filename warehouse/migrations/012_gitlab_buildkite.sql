-- GitLab CI and Buildkite as CI sources: their pipelines/builds, jobs and deployments in raw.
-- Their job logs go to raw.ci_logs with provider 'gitlab' / 'buildkite'.

CREATE TABLE raw.gitlab_pipelines (
    pipeline_id    BIGINT PRIMARY KEY,
    iid            BIGINT,
    project_id     BIGINT,
    project_path   VARCHAR,
    name           VARCHAR,
    status         VARCHAR,
    source         VARCHAR,
    ref            VARCHAR,
    sha            VARCHAR,
    created_at     TIMESTAMPTZ,
    updated_at     TIMESTAMPTZ,
    started_at     TIMESTAMPTZ,
    finished_at    TIMESTAMPTZ,
    web_url        VARCHAR,
    payload        JSON,
    source_path    VARCHAR NOT NULL
);

CREATE TABLE raw.gitlab_jobs (
    job_id          BIGINT PRIMARY KEY,
    pipeline_id     BIGINT NOT NULL,
    project_id      BIGINT,
    project_path    VARCHAR,
    name            VARCHAR NOT NULL,
    stage           VARCHAR,
    ref             VARCHAR,
    sha             VARCHAR,
    status          VARCHAR,
    failure_reason  VARCHAR,
    allow_failure   BOOLEAN,
    tag             BOOLEAN,
    created_at      TIMESTAMPTZ,
    started_at      TIMESTAMPTZ,
    finished_at     TIMESTAMPTZ,
    duration_s      DOUBLE,
    queued_s        DOUBLE,
    web_url         VARCHAR,
    runner          VARCHAR,
    username        VARCHAR,
    payload         JSON,
    source_path     VARCHAR NOT NULL
);

CREATE TABLE raw.gitlab_deployments (
    deployment_id    BIGINT PRIMARY KEY,
    iid              BIGINT,
    project_path     VARCHAR,
    environment      VARCHAR,
    production       BOOLEAN,
    status           VARCHAR,
    ref              VARCHAR,
    sha              VARCHAR,
    creator          VARCHAR,
    created_at       TIMESTAMPTZ,
    updated_at       TIMESTAMPTZ,
    job_id           BIGINT,
    pipeline_id      BIGINT,
    job_url          VARCHAR,
    pipeline_url     VARCHAR,
    environment_url  VARCHAR,
    payload          JSON,
    source_path      VARCHAR NOT NULL
);

-- Buildkite ids are UUIDs; run_id / job_id are their stable 63-bit integer forms
-- (models/sources/buildkite.py: bigint_id).
CREATE TABLE raw.buildkite_builds (
    build_uuid     VARCHAR PRIMARY KEY,
    run_id         BIGINT NOT NULL,
    number         BIGINT,
    organization   VARCHAR,
    pipeline_slug  VARCHAR NOT NULL,
    pipeline_name  VARCHAR,
    state          VARCHAR,
    blocked        BOOLEAN,
    branch         VARCHAR,
    sha            VARCHAR,
    message        VARCHAR,
    source         VARCHAR,
    creator        VARCHAR,
    created_at     TIMESTAMPTZ,
    scheduled_at   TIMESTAMPTZ,
    started_at     TIMESTAMPTZ,
    finished_at    TIMESTAMPTZ,
    web_url        VARCHAR,
    url            VARCHAR,
    payload        JSON,
    source_path    VARCHAR NOT NULL
);

CREATE TABLE raw.buildkite_jobs (
    job_id               BIGINT PRIMARY KEY,
    job_uuid             VARCHAR NOT NULL,
    build_uuid           VARCHAR NOT NULL,
    run_id               BIGINT NOT NULL,
    pipeline_slug        VARCHAR NOT NULL,
    type                 VARCHAR,
    name                 VARCHAR,
    step_key             VARCHAR,
    command              VARCHAR,
    state                VARCHAR,
    exit_status          BIGINT,
    soft_failed          BOOLEAN,
    retried              BOOLEAN,
    retried_in_job_uuid  VARCHAR,
    agent                VARCHAR,
    created_at           TIMESTAMPTZ,
    started_at           TIMESTAMPTZ,
    finished_at          TIMESTAMPTZ,
    web_url              VARCHAR,
    raw_log_url          VARCHAR,
    source_path          VARCHAR NOT NULL
);
