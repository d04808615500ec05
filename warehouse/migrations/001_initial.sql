-- followthrough warehouse, schema version 1.
-- Layers: raw (vendor records as loaded) -> core (providers unified) -> models -> marts.
CREATE SCHEMA IF NOT EXISTS meta;
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS models;
CREATE SCHEMA IF NOT EXISTS marts;

CREATE TABLE IF NOT EXISTS meta.schema_version (
    version     INTEGER PRIMARY KEY,
    name        VARCHAR NOT NULL,
    applied_at  TIMESTAMPTZ NOT NULL
);

-- One row per export file loaded; an unchanged file (same sha256) is not read again.
CREATE TABLE raw.files (
    path        VARCHAR PRIMARY KEY,
    source      VARCHAR NOT NULL,
    sha256      VARCHAR NOT NULL,
    bytes       BIGINT NOT NULL,
    records     INTEGER NOT NULL,
    quarantined INTEGER NOT NULL,
    loaded_at   TIMESTAMPTZ NOT NULL
);

-- Records (or whole files) that could not be loaded, with the reason.
CREATE TABLE raw.quarantine (
    path           VARCHAR NOT NULL,
    record_index   INTEGER NOT NULL,   -- 0-based position in the file; -1 for the whole file
    source         VARCHAR NOT NULL,
    record_key     VARCHAR,
    reason         VARCHAR NOT NULL,
    snippet        VARCHAR,
    quarantined_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (path, record_index)
);

CREATE TABLE raw.github_workflow_runs (
    run_id         BIGINT PRIMARY KEY,
    repo           VARCHAR NOT NULL,
    workflow_id    BIGINT,
    workflow_name  VARCHAR,
    run_number     BIGINT,
    run_attempt    INTEGER,
    event          VARCHAR,
    head_branch    VARCHAR,
    head_sha       VARCHAR,
    status         VARCHAR,
    conclusion     VARCHAR,
    actor          VARCHAR,
    created_at     TIMESTAMPTZ,
    updated_at     TIMESTAMPTZ,
    html_url       VARCHAR,
    source_path    VARCHAR NOT NULL
);

CREATE TABLE raw.github_jobs (
    job_id         BIGINT PRIMARY KEY,
    run_id         BIGINT NOT NULL,
    workflow_name  VARCHAR,
    name           VARCHAR NOT NULL,
    head_branch    VARCHAR,
    head_sha       VARCHAR,
    status         VARCHAR,
    conclusion     VARCHAR,
    started_at     TIMESTAMPTZ,
    completed_at   TIMESTAMPTZ,
    html_url       VARCHAR,
    runner_name    VARCHAR,
    failed_step    VARCHAR,
    step_count     INTEGER,
    source_path    VARCHAR NOT NULL
);

-- Log files are referenced, not copied: excerpts are stored only after secret redaction.
CREATE TABLE raw.ci_logs (
    provider     VARCHAR NOT NULL,
    job_id       BIGINT NOT NULL,
    path         VARCHAR NOT NULL,
    bytes        BIGINT NOT NULL,
    source_path  VARCHAR NOT NULL,
    PRIMARY KEY (provider, job_id)
);

CREATE TABLE raw.github_deployments (
    deployment_id  BIGINT PRIMARY KEY,
    repo           VARCHAR,
    environment    VARCHAR,
    sha            VARCHAR,
    ref            VARCHAR,
    task           VARCHAR,
    description    VARCHAR,
    creator        VARCHAR,
    production     BOOLEAN,
    created_at     TIMESTAMPTZ,
    updated_at     TIMESTAMPTZ,
    url            VARCHAR,
    source_path    VARCHAR NOT NULL
);

CREATE TABLE raw.github_deployment_statuses (
    status_id      BIGINT PRIMARY KEY,
    deployment_id  BIGINT NOT NULL,
    state          VARCHAR NOT NULL,
    description    VARCHAR,
    environment    VARCHAR,
    target_url     VARCHAR,
    log_url        VARCHAR,
    creator        VARCHAR,
    created_at     TIMESTAMPTZ,
    source_path    VARCHAR NOT NULL
);

CREATE TABLE raw.jira_issues (
    key              VARCHAR PRIMARY KEY,
    issue_id         VARCHAR,
    project_key      VARCHAR,
    summary          VARCHAR,
    description      VARCHAR,
    issue_type       VARCHAR,
    status           VARCHAR,
    status_category  VARCHAR,
    assignee         VARCHAR,
    assignee_email   VARCHAR,
    priority         VARCHAR,
    labels           VARCHAR[],
    created_at       TIMESTAMPTZ,
    updated_at       TIMESTAMPTZ,
    resolved_at      TIMESTAMPTZ,
    due_date         DATE,
    sprint           VARCHAR,
    sprint_start     TIMESTAMPTZ,
    sprint_end       TIMESTAMPTZ,
    url              VARCHAR,
    source_path      VARCHAR NOT NULL
);

-- One row per changed field of a Jira changelog history entry, and one per comment.
CREATE TABLE raw.jira_events (
    key          VARCHAR NOT NULL,
    event_id     VARCHAR NOT NULL,
    seq          INTEGER NOT NULL,
    occurred_at  TIMESTAMPTZ,
    author       VARCHAR,
    kind         VARCHAR NOT NULL,   -- 'change' or 'comment'
    field        VARCHAR,
    from_value   VARCHAR,
    to_value     VARCHAR,
    body         VARCHAR,
    source_path  VARCHAR NOT NULL,
    PRIMARY KEY (key, event_id, seq)
);

CREATE TABLE raw.linear_issues (
    id               VARCHAR PRIMARY KEY,
    identifier       VARCHAR NOT NULL,
    team_key         VARCHAR,
    title            VARCHAR,
    description      VARCHAR,
    url              VARCHAR,
    state_name       VARCHAR,
    state_type       VARCHAR,
    assignee         VARCHAR,
    assignee_email   VARCHAR,
    priority         INTEGER,
    labels           VARCHAR[],
    created_at       TIMESTAMPTZ,
    updated_at       TIMESTAMPTZ,
    completed_at     TIMESTAMPTZ,
    canceled_at      TIMESTAMPTZ,
    due_date         DATE,
    cycle_number     INTEGER,
    cycle_starts_at  TIMESTAMPTZ,
    cycle_ends_at    TIMESTAMPTZ,
    source_path      VARCHAR NOT NULL
);

CREATE TABLE raw.linear_events (
    identifier   VARCHAR NOT NULL,
    seq          INTEGER NOT NULL,
    occurred_at  TIMESTAMPTZ,
    field        VARCHAR NOT NULL,
    from_value   VARCHAR,
    to_value     VARCHAR,
    source_path  VARCHAR NOT NULL,
    PRIMARY KEY (identifier, seq, field)
);

CREATE TABLE raw.pagerduty_incidents (
    incident_id      VARCHAR PRIMARY KEY,
    incident_number  BIGINT,
    title            VARCHAR,
    status           VARCHAR,
    urgency          VARCHAR,
    priority         VARCHAR,
    service          VARCHAR,
    teams            VARCHAR[],
    created_at       TIMESTAMPTZ,
    resolved_at      TIMESTAMPTZ,
    url              VARCHAR,
    details          VARCHAR,
    source_path      VARCHAR NOT NULL
);

CREATE TABLE raw.postmortem_documents (
    postmortem_id          VARCHAR PRIMARY KEY,
    path                   VARCHAR NOT NULL,
    format                 VARCHAR,
    title                  VARCHAR,
    doc_date               DATE,
    meeting_at             TIMESTAMPTZ,
    identified_at          TIMESTAMPTZ,
    authors                VARCHAR[],
    status                 VARCHAR,
    incident_refs          VARCHAR[],
    ticket_refs            VARCHAR[],
    ci_refs                VARCHAR[],
    parts_present          VARCHAR[],
    contributing_count     INTEGER,
    timeline_entries       INTEGER,
    impact_duration_min    DOUBLE,
    affected_users         BIGINT,
    severity               VARCHAR,
    lint_errors            INTEGER,
    lint_warnings          INTEGER,
    findings               JSON,
    verification_criteria  JSON,
    source_path            VARCHAR NOT NULL
);

CREATE TABLE raw.postmortem_action_items (
    postmortem_id  VARCHAR NOT NULL,
    ordinal        INTEGER NOT NULL,
    text           VARCHAR NOT NULL,
    owner          VARCHAR,
    ticket         VARCHAR,
    status         VARCHAR,
    priority       VARCHAR,
    due_date       DATE,
    sprint         VARCHAR,
    verification   VARCHAR,
    line           INTEGER,
    source_path    VARCHAR NOT NULL,
    PRIMARY KEY (postmortem_id, ordinal)
);

-- core: one shape per concept, whatever the provider. All timestamps are UTC.
CREATE TABLE core.ci_jobs (
    provider       VARCHAR NOT NULL,
    job_id         BIGINT NOT NULL,
    run_id         BIGINT,
    repo           VARCHAR,
    workflow       VARCHAR,
    job_name       VARCHAR,
    branch         VARCHAR,
    sha            VARCHAR,
    event          VARCHAR,
    status         VARCHAR,
    conclusion     VARCHAR,
    started_at     TIMESTAMPTZ,
    completed_at   TIMESTAMPTZ,
    duration_s     DOUBLE,
    url            VARCHAR,
    run_url        VARCHAR,
    failed_step    VARCHAR,
    has_log        BOOLEAN,
    PRIMARY KEY (provider, job_id)
);

CREATE TABLE core.ci_failures (
    provider       VARCHAR NOT NULL,
    job_id         BIGINT NOT NULL,
    run_id         BIGINT,
    repo           VARCHAR,
    workflow       VARCHAR,
    job_name       VARCHAR,
    branch         VARCHAR,
    sha            VARCHAR,
    conclusion     VARCHAR,
    failed_step    VARCHAR,
    failed_at      TIMESTAMPTZ,
    url            VARCHAR,
    run_url        VARCHAR,
    log_path       VARCHAR,
    PRIMARY KEY (provider, job_id)
);

CREATE TABLE core.deployments (
    provider       VARCHAR NOT NULL,
    deployment_id  BIGINT NOT NULL,
    repo           VARCHAR,
    environment    VARCHAR,
    production     BOOLEAN,
    sha            VARCHAR,
    ref            VARCHAR,
    creator        VARCHAR,
    created_at     TIMESTAMPTZ,
    final_state    VARCHAR,
    finished_at    TIMESTAMPTZ,
    failed         BOOLEAN,
    target_url     VARCHAR,
    url            VARCHAR,
    PRIMARY KEY (provider, deployment_id)
);

CREATE TABLE core.tickets (
    ticket_key       VARCHAR PRIMARY KEY,
    provider         VARCHAR NOT NULL,
    ticket_id        VARCHAR,
    project          VARCHAR,
    url              VARCHAR,
    title            VARCHAR,
    description      VARCHAR,
    issue_type       VARCHAR,
    status           VARCHAR,
    status_category  VARCHAR,   -- 'todo', 'in_progress', 'done', 'canceled'
    assignee         VARCHAR,
    priority         VARCHAR,   -- normalised P0..P4 where the provider allows
    labels           VARCHAR[],
    created_at       TIMESTAMPTZ,
    updated_at       TIMESTAMPTZ,
    resolved_at      TIMESTAMPTZ,
    due_date         DATE,
    sprint           VARCHAR,
    sprint_end       TIMESTAMPTZ
);

CREATE TABLE core.ticket_events (
    ticket_key   VARCHAR NOT NULL,
    provider     VARCHAR NOT NULL,
    event_id     VARCHAR NOT NULL,
    occurred_at  TIMESTAMPTZ,
    author       VARCHAR,
    kind         VARCHAR NOT NULL,
    field        VARCHAR,
    from_value   VARCHAR,
    to_value     VARCHAR,
    body         VARCHAR
);

CREATE TABLE core.incidents (
    incident_id      VARCHAR PRIMARY KEY,
    provider         VARCHAR NOT NULL,
    incident_number  BIGINT,
    title            VARCHAR,
    service          VARCHAR,
    team             VARCHAR,
    priority         VARCHAR,
    urgency          VARCHAR,
    status           VARCHAR,
    created_at       TIMESTAMPTZ,
    resolved_at      TIMESTAMPTZ,
    duration_min     DOUBLE,
    url              VARCHAR,
    details          VARCHAR
);

CREATE TABLE core.postmortems (
    postmortem_id        VARCHAR PRIMARY KEY,
    path                 VARCHAR NOT NULL,
    format               VARCHAR,
    title                VARCHAR,
    incident_id          VARCHAR,
    team                 VARCHAR,
    service              VARCHAR,
    doc_date             DATE,
    meeting_at           TIMESTAMPTZ,
    identified_at        TIMESTAMPTZ,
    authors              VARCHAR[],
    parts_present        VARCHAR[],
    contributing_count   INTEGER,
    timeline_entries     INTEGER,
    impact_duration_min  DOUBLE,
    action_item_count    INTEGER,
    lint_errors          INTEGER,
    lint_warnings        INTEGER,
    findings             JSON
);

CREATE TABLE core.action_items (
    action_item_id  VARCHAR PRIMARY KEY,
    postmortem_id   VARCHAR NOT NULL,
    ordinal         INTEGER NOT NULL,
    text            VARCHAR NOT NULL,
    owner           VARCHAR,
    ticket_ref      VARCHAR,   -- as written in the document
    status          VARCHAR,
    priority        VARCHAR,
    due_date        DATE,
    sprint          VARCHAR,
    verification    VARCHAR,
    identified_at   TIMESTAMPTZ,
    team            VARCHAR,
    service         VARCHAR,
    line            INTEGER
);

-- models: derived facts that marts build on.
CREATE TABLE models.action_item_tickets (
    action_item_id  VARCHAR PRIMARY KEY,
    ticket_key      VARCHAR NOT NULL,
    link_kind       VARCHAR NOT NULL,   -- 'doc_key' or 'ticket_mentions_postmortem'
    confidence      DOUBLE NOT NULL     -- 1.0 for an explicit key; title similarity otherwise
);

CREATE TABLE marts.time_to_ticket (
    action_item_id     VARCHAR PRIMARY KEY,
    postmortem_id      VARCHAR NOT NULL,
    postmortem_title   VARCHAR,
    team               VARCHAR,
    service            VARCHAR,
    action_text        VARCHAR,
    owner              VARCHAR,
    priority           VARCHAR,
    identified_at      TIMESTAMPTZ,
    ticket_key         VARCHAR,
    ticket_provider    VARCHAR,
    ticket_url         VARCHAR,
    ticket_created_at  TIMESTAMPTZ,
    hours_to_ticket    DOUBLE,
    link_kind          VARCHAR
);
