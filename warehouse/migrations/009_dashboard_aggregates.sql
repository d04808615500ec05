-- Version 9: the counts, medians and shares the stale, quality, recurring-failure and incident
-- pages show, computed by the build instead of by the pages (docs/dashboard.md describes them).
-- A grouping_set column says which filter a row answers: 'all' rows count everything, the
-- others one team, reason, repository or service.

-- Stale items for all teams / one team, all reasons / one reason, every item / P0/P1 only.
CREATE TABLE marts.stale_summary (
    grouping_set       VARCHAR NOT NULL,  -- all, team, reason, team_reason
    p1_only            BOOLEAN NOT NULL,  -- true: only P0/P1 items counted
    team               VARCHAR,
    reason             VARCHAR,
    items              BIGINT NOT NULL,   -- distinct action items
    p1_items           BIGINT NOT NULL,
    without_owner      BIGINT NOT NULL,   -- items that also have the reason no_owner
    item_reasons       BIGINT NOT NULL,   -- rows of marts.stale_action_items counted
    median_days_stale  DOUBLE             -- per item, its longest-running counted reason
);

-- One row per stale action item, reasons folded, in the order to act on them.
CREATE TABLE marts.stale_items (
    act_order      BIGINT NOT NULL,
    action_item_id VARCHAR NOT NULL,
    postmortem_id  VARCHAR,
    team           VARCHAR NOT NULL,
    service        VARCHAR,
    owner          VARCHAR,
    priority       VARCHAR,
    action_text    VARCHAR,
    ticket_key     VARCHAR,
    ticket_url     VARCHAR,
    reasons        VARCHAR[] NOT NULL,  -- reason ids, longest-running first
    reason_count   BIGINT NOT NULL,
    days_stale     DOUBLE,              -- the longest-running reason
    details        VARCHAR,             -- the reasons' details, same order, ' | '-joined
    as_of          TIMESTAMPTZ
);

-- Per postmortem: lint counts, missing parts, blame findings, checklist outcomes.
CREATE TABLE marts.postmortem_quality (
    postmortem_id   VARCHAR NOT NULL,
    title           VARCHAR,
    team            VARCHAR NOT NULL,
    service         VARCHAR,
    incident_id     VARCHAR,
    identified_at   TIMESTAMPTZ,
    lint_errors     INTEGER,
    lint_warnings   INTEGER,
    missing_parts   VARCHAR[] NOT NULL,
    blame_findings  BIGINT NOT NULL,
    findings        BIGINT NOT NULL,
    checks_passed   BIGINT,             -- NULL: no checklist row for the postmortem
    checks_failed   BIGINT,
    checks_unknown  BIGINT
);

-- Postmortem quality headline figures for all postmortems and per team.
CREATE TABLE marts.postmortem_quality_summary (
    grouping_set       VARCHAR NOT NULL,  -- all, team
    team               VARCHAR,
    postmortems        BIGINT NOT NULL,
    lint_errors        BIGINT NOT NULL,
    lint_warnings      BIGINT NOT NULL,
    with_errors        BIGINT NOT NULL,
    missing_any        BIGINT NOT NULL,
    blame_findings     BIGINT NOT NULL,
    blame_postmortems  BIGINT NOT NULL,
    share_with_errors  DOUBLE,
    share_missing_any  DOUBLE
);

-- Postmortems lacking each of the five parts, for all postmortems and per team.
CREATE TABLE marts.postmortem_missing_parts (
    grouping_set  VARCHAR NOT NULL,  -- all, team
    team          VARCHAR,
    part          VARCHAR NOT NULL,
    part_order    INTEGER NOT NULL,
    missing       BIGINT NOT NULL
);

-- Lint findings per rule and severity, for all postmortems and per team.
CREATE TABLE marts.lint_rule_counts (
    grouping_set  VARCHAR NOT NULL,  -- all, team
    team          VARCHAR,
    rule          VARCHAR NOT NULL,
    severity      VARCHAR NOT NULL,
    findings      BIGINT NOT NULL,
    postmortems   BIGINT NOT NULL
);

-- Checklist outcomes per item, for all postmortems and per team.
CREATE TABLE marts.checklist_compliance_summary (
    grouping_set    VARCHAR NOT NULL,  -- all, team
    team            VARCHAR,
    phase           VARCHAR NOT NULL,
    phase_order     INTEGER NOT NULL,
    check_id        VARCHAR NOT NULL,
    postmortems     BIGINT NOT NULL,
    passed          BIGINT NOT NULL,
    failed          BIGINT NOT NULL,
    unknown         BIGINT NOT NULL,
    pending         BIGINT NOT NULL,
    not_applicable  BIGINT NOT NULL,
    judged          BIGINT NOT NULL,   -- passed + failed
    pass_rate       DOUBLE             -- passed / judged; NULL when nothing was judged
);

-- Verification criteria per result, for all criteria and per team.
CREATE TABLE marts.verification_summary (
    grouping_set    VARCHAR NOT NULL,  -- all, team
    team            VARCHAR,
    result          VARCHAR NOT NULL,
    result_order    INTEGER NOT NULL,
    criteria        BIGINT NOT NULL,
    total_criteria  BIGINT NOT NULL,
    share           DOUBLE
);

-- Per CI failure cluster, over all repositories and per repository.
CREATE TABLE marts.failure_cluster_summary (
    grouping_set        VARCHAR NOT NULL,  -- all, repo
    repo                VARCHAR,           -- the repository the row counts (repo rows)
    cluster_id          VARCHAR NOT NULL,
    failure_rank        BIGINT NOT NULL,   -- 1 = most failures, then latest seen
    failures            BIGINT NOT NULL,
    repos               BIGINT NOT NULL,
    repo_list           VARCHAR,
    jobs                BIGINT NOT NULL,
    first_seen          TIMESTAMPTZ,
    last_seen           TIMESTAMPTZ,
    tickets             VARCHAR NOT NULL,  -- linked ids, ', '-joined; '' when none
    postmortems         VARCHAR NOT NULL,
    incidents           VARCHAR NOT NULL,
    linked              BOOLEAN NOT NULL,
    failures_after_fix  BIGINT NOT NULL,
    representative      VARCHAR
);

-- Clusters with at least min_failures failures, for every cluster size that occurs.
CREATE TABLE marts.failure_cluster_sizes (
    grouping_set       VARCHAR NOT NULL,  -- all, repo
    repo               VARCHAR,
    min_failures       BIGINT NOT NULL,
    clusters           BIGINT NOT NULL,
    failures           BIGINT NOT NULL,
    linked_clusters    BIGINT NOT NULL,
    share_of_failures  DOUBLE,
    all_failures       BIGINT NOT NULL,
    all_clusters       BIGINT NOT NULL
);

-- Failures after a fix ticket was resolved, per cluster and fix ticket.
CREATE TABLE marts.fixes_not_held (
    grouping_set        VARCHAR NOT NULL,  -- all, repo
    repo                VARCHAR,
    cluster_id          VARCHAR NOT NULL,
    fix_ticket_key      VARCHAR,
    ticket_url          VARCHAR,
    ticket_title        VARCHAR,
    fix_resolved_at     TIMESTAMPTZ,
    failures_after_fix  BIGINT NOT NULL,
    first_after_fix     TIMESTAMPTZ,
    last_after_fix      TIMESTAMPTZ,
    repos               VARCHAR,
    representative      VARCHAR
);

-- Clustered CI failures and fixes that did not hold, over all repositories and per repository.
CREATE TABLE marts.recurring_failure_summary (
    grouping_set        VARCHAR NOT NULL,  -- all, repo
    repo                VARCHAR,
    failures            BIGINT NOT NULL,
    clusters            BIGINT NOT NULL,
    fix_clusters        BIGINT NOT NULL,
    failures_after_fix  BIGINT NOT NULL
);

-- Failures of each cluster per week (Monday, UTC).
CREATE TABLE marts.failure_cluster_weekly (
    grouping_set  VARCHAR NOT NULL,  -- all, repo
    repo          VARCHAR,
    cluster_id    VARCHAR NOT NULL,
    week          DATE NOT NULL,
    failures      BIGINT NOT NULL,
    repos         VARCHAR
);

-- Incident headline figures for all incidents and per service.
CREATE TABLE marts.incident_summary (
    grouping_set             VARCHAR NOT NULL,  -- all, service
    service                  VARCHAR,           -- '(no service)' for incidents without one
    incidents                BIGINT NOT NULL,
    services                 BIGINT NOT NULL,   -- distinct named services
    median_hours_to_resolve  DOUBLE,            -- resolved incidents only
    with_postmortem          BIGINT NOT NULL,
    share_with_postmortem    DOUBLE
);

-- Incidents per month of creation (UTC) and service, and per month over all services.
CREATE TABLE marts.incidents_monthly (
    grouping_set  VARCHAR NOT NULL,  -- all, service
    month         DATE NOT NULL,
    service       VARCHAR,
    incidents     BIGINT NOT NULL
);
