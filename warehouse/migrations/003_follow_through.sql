-- Version 3: follow-through analytics (docs/follow-through.md describes every column).

-- How a fuzzy link was found, in words ("title 91/100, assignee = owner, 2.1 days after").
ALTER TABLE models.action_item_tickets ADD COLUMN evidence VARCHAR;

-- The settings every follow-through table was computed with: one row, written before them.
CREATE TABLE models.follow_through_settings (
    as_of                      TIMESTAMPTZ NOT NULL,  -- the "now" of staleness and windows
    as_of_source               VARCHAR NOT NULL,      -- 'setting' or 'latest event in the data'
    benchmark_days             DOUBLE NOT NULL,       -- time-to-ticket benchmark (vendor-reported)
    benchmark_source           VARCHAR NOT NULL,
    slo_priority_weeks         DOUBLE NOT NULL,       -- completion SLO for P1/P2 items
    slo_other_weeks            DOUBLE NOT NULL,       -- completion SLO for every other item
    slo_source                 VARCHAR NOT NULL,
    done_within_days           INTEGER NOT NULL,
    p1_within_days             INTEGER NOT NULL,
    ticket_grace_hours         DOUBLE NOT NULL,
    inactivity_days            INTEGER NOT NULL,
    verification_days          INTEGER NOT NULL,
    verification_window_days   INTEGER NOT NULL,      -- when a criterion names no window
    min_ci_runs                INTEGER NOT NULL,
    justification_hours        DOUBLE NOT NULL,       -- comment this close to a reschedule justifies it
    fuzzy_window_days          INTEGER NOT NULL,
    fuzzy_threshold            DOUBLE NOT NULL
);

-- Fuzzy ticket candidates for action items, scored in Python (rapidfuzz); only those at or
-- above the threshold. models.action_item_tickets picks among them one-to-one.
CREATE TABLE models.action_item_ticket_candidates (
    action_item_id  VARCHAR NOT NULL,
    ticket_key      VARCHAR NOT NULL,
    title_score     DOUBLE NOT NULL,    -- rapidfuzz token_set_ratio / 100
    assignee_match  BOOLEAN NOT NULL,   -- ticket assignee is the item's owner
    days_after      DOUBLE NOT NULL,    -- ticket created this many days after identification
    confidence      DOUBLE NOT NULL,
    evidence        VARCHAR NOT NULL
);

-- One row per action item: its ticket, commitment, progress, reschedules and SLO.
CREATE TABLE models.action_item_status (
    action_item_id              VARCHAR PRIMARY KEY,
    postmortem_id               VARCHAR NOT NULL,
    team                        VARCHAR,
    service                     VARCHAR,
    action_text                 VARCHAR,
    owner                       VARCHAR,
    ticket_assignee             VARCHAR,
    has_owner                   BOOLEAN NOT NULL,
    priority                    VARCHAR,
    identified_at               TIMESTAMPTZ,
    ticket_key                  VARCHAR,
    link_kind                   VARCHAR,
    link_confidence             DOUBLE,
    ticket_created_at           TIMESTAMPTZ,
    hours_to_ticket             DOUBLE,
    ticket_status               VARCHAR,
    status_category             VARCHAR,   -- ticket's, else 'untracked'
    sprint                      VARCHAR,
    sprint_end                  TIMESTAMPTZ,
    due_date                    DATE,
    target_end                  TIMESTAMPTZ,  -- sprint end, else the end of the due date
    has_target                  BOOLEAN NOT NULL,
    is_open                     BOOLEAN NOT NULL,
    done                        BOOLEAN NOT NULL,
    canceled                    BOOLEAN NOT NULL,
    closed_at                   TIMESTAMPTZ,
    days_to_done                DOUBLE,
    last_activity_at            TIMESTAMPTZ,
    reschedules                 INTEGER NOT NULL,
    justified_reschedules       INTEGER NOT NULL,
    first_justified_at          TIMESTAMPTZ,
    justification               VARCHAR,
    verification                VARCHAR,
    has_verification            BOOLEAN NOT NULL,
    slo_weeks                   DOUBLE,
    slo_due_at                  TIMESTAMPTZ,
    slo_status                  VARCHAR,   -- met, missed, open_within, open_breached
    as_of                       TIMESTAMPTZ NOT NULL
);

CREATE TABLE marts.verification_checks (
    postmortem_id     VARCHAR NOT NULL,
    criterion_index   INTEGER NOT NULL,   -- 0-based position in the document's criteria
    action_item_id    VARCHAR,            -- the item whose verification this criterion is
    team              VARCHAR,
    service           VARCHAR,
    criterion_text    VARCHAR,
    checkable         BOOLEAN,
    metric            VARCHAR,
    scope             VARCHAR,
    comparator        VARCHAR,
    threshold         DOUBLE,
    window_days       DOUBLE,
    window_basis      VARCHAR,            -- item_closed, items_closed, identified
    window_start      TIMESTAMPTZ,
    window_end        TIMESTAMPTZ,
    matched_jobs      INTEGER,            -- distinct repo/workflow/job names the scope matched
    runs              BIGINT,
    observed_value    DOUBLE,
    result            VARCHAR NOT NULL,   -- holds, fails, not_enough_data, not_checkable
    detail            VARCHAR NOT NULL,
    as_of             TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (postmortem_id, criterion_index)
);

CREATE TABLE marts.follow_through (
    team                          VARCHAR,
    month                         DATE,
    items                         INTEGER NOT NULL,
    ticketed                      INTEGER NOT NULL,
    done                          INTEGER NOT NULL,
    canceled                      INTEGER NOT NULL,
    matured                       INTEGER NOT NULL,  -- identified at least done_within_days ago
    done_within                   INTEGER NOT NULL,
    share_done_within             DOUBLE,
    p1_items                      INTEGER NOT NULL,
    p1_matured                    INTEGER NOT NULL,
    p1_resolved_within            INTEGER NOT NULL,
    p1_rescheduled_justified      INTEGER NOT NULL,
    share_p1_handled              DOUBLE,
    slo_matured                   INTEGER NOT NULL,  -- items whose SLO deadline has passed or were met
    slo_met                       INTEGER NOT NULL,
    share_slo_met                 DOUBLE,
    done_within_days              INTEGER NOT NULL,
    p1_within_days                INTEGER NOT NULL,
    as_of                         TIMESTAMPTZ NOT NULL
);

CREATE TABLE marts.stale_action_items (
    action_item_id  VARCHAR NOT NULL,
    reason          VARCHAR NOT NULL,
    postmortem_id   VARCHAR NOT NULL,
    team            VARCHAR,
    service         VARCHAR,
    owner           VARCHAR,
    priority        VARCHAR,
    action_text     VARCHAR,
    ticket_key      VARCHAR,
    ticket_url      VARCHAR,
    since           TIMESTAMPTZ,        -- when the condition began (NULL when not datable)
    days_stale      DOUBLE,
    detail          VARCHAR NOT NULL,
    as_of           TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (action_item_id, reason)
);

CREATE TABLE marts.checklist_compliance (
    postmortem_id  VARCHAR NOT NULL,
    team           VARCHAR,
    service        VARCHAR,
    incident_id    VARCHAR,
    phase          VARCHAR NOT NULL,   -- during_incident, within_24h, during_meeting, within_30_days
    check_id       VARCHAR NOT NULL,
    result         VARCHAR NOT NULL,   -- passed, failed, unknown, pending, not_applicable
    detail         VARCHAR NOT NULL,
    as_of          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (postmortem_id, check_id)
);

CREATE TABLE marts.checklist_compliance_team (
    team            VARCHAR,
    phase           VARCHAR NOT NULL,
    check_id        VARCHAR NOT NULL,
    postmortems     INTEGER NOT NULL,
    passed          INTEGER NOT NULL,
    failed          INTEGER NOT NULL,
    unknown         INTEGER NOT NULL,
    pending         INTEGER NOT NULL,
    not_applicable  INTEGER NOT NULL,
    pass_rate       DOUBLE,            -- passed / (passed + failed); unknown never counts as passed
    as_of           TIMESTAMPTZ NOT NULL
);

CREATE TABLE marts.repeat_incidents (
    incident_id                VARCHAR PRIMARY KEY,
    incident_number            BIGINT,
    title                      VARCHAR,
    service                    VARCHAR,
    team                       VARCHAR,
    created_at                 TIMESTAMPTZ,
    cluster_key                VARCHAR NOT NULL,
    cluster_source             VARCHAR NOT NULL,   -- 'service_title' (heuristic) for now
    previous_incident_id       VARCHAR NOT NULL,
    previous_postmortem_id     VARCHAR NOT NULL,
    postmortem_identified_at   TIMESTAMPTZ,
    days_since_postmortem      DOUBLE,
    prior_items                INTEGER NOT NULL,
    prior_items_done           INTEGER NOT NULL,   -- of those, done before this incident
    fix_did_not_hold           BOOLEAN NOT NULL
);

CREATE TABLE marts.time_to_ticket_distribution (
    grouping_set            VARCHAR NOT NULL,  -- org, team, service, month, team_month, service_month
    team                    VARCHAR,
    service                 VARCHAR,
    month                   DATE,
    items                   BIGINT NOT NULL,
    ticketed                BIGINT NOT NULL,
    never_ticketed          BIGINT NOT NULL,
    km_median_hours         DOUBLE,
    km_p75_hours            DOUBLE,
    km_p90_hours            DOUBLE,
    share_within_24h        DOUBLE,
    share_beyond_benchmark  DOUBLE,
    benchmark_days          DOUBLE NOT NULL,
    km_median_days_to_done  DOUBLE,
    share_done_within_slo   DOUBLE
);

CREATE TABLE marts.time_to_ticket_curves (
    grouping_set VARCHAR NOT NULL,   -- org, team, service, month
    team       VARCHAR,
    service    VARCHAR,
    month      DATE,
    hours      DOUBLE NOT NULL,
    at_risk    BIGINT NOT NULL,
    ticketed   BIGINT NOT NULL,
    censored   BIGINT NOT NULL,
    survival   DOUBLE NOT NULL     -- estimated share still without a ticket after `hours`
);
