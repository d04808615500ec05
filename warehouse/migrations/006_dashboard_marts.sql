-- Version 6: the figures the dashboard shows, computed by the build instead of by the pages
-- (docs/follow-through.md and docs/dashboard.md describe every column).

-- Kaplan–Meier time-to-done curves, like marts.time_to_ticket_curves but in days.
CREATE TABLE marts.time_to_done_curves (
    grouping_set VARCHAR NOT NULL,   -- org, team, service, month
    team       VARCHAR,
    service    VARCHAR,
    month      DATE,
    days       DOUBLE NOT NULL,
    at_risk    BIGINT NOT NULL,
    done       BIGINT NOT NULL,
    censored   BIGINT NOT NULL,
    survival   DOUBLE NOT NULL     -- estimated share not done yet after `days`
);

-- Time to ticket over every action item per org, team and month identified.
CREATE TABLE marts.time_to_ticket_summary (
    grouping_set            VARCHAR NOT NULL,  -- org, team, month
    team                    VARCHAR,
    month                   DATE,
    items                   BIGINT NOT NULL,
    ticketed                BIGINT NOT NULL,
    timed                   BIGINT NOT NULL,   -- ticketed with a known hours_to_ticket
    never_ticketed          BIGINT NOT NULL,
    untimed                 BIGINT NOT NULL,   -- ticketed, but no identification time
    undated                 BIGINT NOT NULL,   -- no identification time (not in month rows)
    median_hours            DOUBLE,            -- over the timed items only
    km_median_hours         DOUBLE,            -- never-ticketed items censored at their age
    within_24h              BIGINT NOT NULL,
    ticketed_late           BIGINT NOT NULL,   -- ticketed after more than the benchmark
    beyond_benchmark        BIGINT NOT NULL,   -- ticketed late, or unticketed and older
    share_ticketed          DOUBLE,            -- every share is over all `items`
    share_never_ticketed    DOUBLE,
    share_within_24h        DOUBLE,
    share_beyond_benchmark  DOUBLE,
    benchmark_days          DOUBLE NOT NULL
);

-- Per action item: ticketed, hours waited so far, beyond the benchmark.
CREATE TABLE marts.time_to_ticket_ages (
    action_item_id    VARCHAR NOT NULL,
    ticketed          BOOLEAN NOT NULL,
    open_hours        DOUBLE,               -- unticketed items: hours since identified at as_of
    beyond_benchmark  BOOLEAN NOT NULL,
    benchmark_days    DOUBLE NOT NULL
);

-- Ticketed items per bin of hours to ticket.
CREATE TABLE marts.time_to_ticket_histogram (
    bin          BIGINT NOT NULL,
    label        VARCHAR NOT NULL,
    start_hours  DOUBLE NOT NULL,
    end_hours    DOUBLE NOT NULL,       -- 'inf' for the last bin
    items        BIGINT NOT NULL
);

-- marts.follow_through summed per org, team and team x month (every month in range).
CREATE TABLE marts.follow_through_summary (
    grouping_set              VARCHAR NOT NULL,  -- org, team, team_month
    team                      VARCHAR,
    month                     DATE,
    items                     BIGINT NOT NULL,
    done                      BIGINT NOT NULL,
    canceled                  BIGINT NOT NULL,
    matured                   BIGINT NOT NULL,
    done_within               BIGINT NOT NULL,
    p1_matured                BIGINT NOT NULL,
    p1_resolved_within        BIGINT NOT NULL,
    p1_rescheduled_justified  BIGINT NOT NULL,
    slo_matured               BIGINT NOT NULL,
    slo_met                   BIGINT NOT NULL,
    p1_handled                BIGINT NOT NULL,   -- resolved within + rescheduled justified
    too_new                   BIGINT NOT NULL,   -- items - matured: too new to judge
    share_done_within         DOUBLE,
    share_p1_handled          DOUBLE,
    share_slo_met             DOUBLE
);
