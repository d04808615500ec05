-- core.tickets: Jira, Linear and GitHub issues in one shape; priority normalised to P1..P4.
SELECT
    key                        AS ticket_key,
    'jira'                     AS provider,
    issue_id                   AS ticket_id,
    project_key                AS project,
    url,
    summary                    AS title,
    description,
    issue_type,
    status,
    status_category,
    assignee,
    CASE
        WHEN regexp_matches(priority, '^[Pp][0-4]') THEN upper(left(priority, 2))
        WHEN lower(priority) IN ('highest', 'blocker', 'critical') THEN 'P1'
        WHEN lower(priority) IN ('high', 'major') THEN 'P2'
        WHEN lower(priority) IN ('medium', 'normal') THEN 'P3'
        WHEN lower(priority) IN ('low', 'lowest', 'minor', 'trivial') THEN 'P4'
    END                        AS priority,
    labels,
    created_at,
    updated_at,
    resolved_at,
    due_date,
    sprint,
    sprint_end
FROM raw.jira_issues
UNION ALL BY NAME
SELECT
    identifier                 AS ticket_key,
    'linear'                   AS provider,
    id                         AS ticket_id,
    team_key                   AS project,
    url,
    title,
    description,
    NULL                       AS issue_type,
    state_name                 AS status,
    CASE state_type
        WHEN 'completed' THEN 'done'
        WHEN 'canceled' THEN 'canceled'
        WHEN 'started' THEN 'in_progress'
        ELSE 'todo'
    END                        AS status_category,
    assignee,
    CASE priority WHEN 1 THEN 'P1' WHEN 2 THEN 'P2' WHEN 3 THEN 'P3' WHEN 4 THEN 'P4' END
                               AS priority,
    labels,
    created_at,
    updated_at,
    coalesce(completed_at, canceled_at) AS resolved_at,
    due_date,
    CASE WHEN cycle_number IS NOT NULL THEN 'Cycle ' || cycle_number END AS sprint,
    cycle_ends_at              AS sprint_end
FROM raw.linear_issues
UNION ALL BY NAME
-- GitHub: an open issue with an assignee is in progress; closed as not planned (or as a
-- duplicate) is canceled; the milestone is the sprint, its due date the due date.
SELECT
    ticket_key,
    'github'                   AS provider,
    CAST(issue_id AS VARCHAR)  AS ticket_id,
    repo                       AS project,
    url,
    title,
    body                       AS description,
    issue_type,
    state                      AS status,
    CASE
        WHEN state = 'closed' AND state_reason IN ('not_planned', 'duplicate') THEN 'canceled'
        WHEN state = 'closed' THEN 'done'
        WHEN assignee IS NOT NULL OR len(coalesce(assignees, [])) > 0 THEN 'in_progress'
        ELSE 'todo'
    END                        AS status_category,
    assignee,
    CASE
        WHEN regexp_matches(priority, '^[Pp][0-4]') THEN upper(left(priority, 2))
        WHEN lower(priority) IN ('highest', 'blocker', 'critical', 'urgent') THEN 'P1'
        WHEN lower(priority) IN ('high', 'major') THEN 'P2'
        WHEN lower(priority) IN ('medium', 'normal') THEN 'P3'
        WHEN lower(priority) IN ('low', 'lowest', 'minor', 'trivial') THEN 'P4'
    END                        AS priority,
    labels,
    created_at,
    updated_at,
    CASE WHEN state = 'closed' THEN closed_at END AS resolved_at,
    CAST(milestone_due_on AS DATE) AS due_date,
    milestone                  AS sprint,
    milestone_due_on           AS sprint_end
FROM raw.github_issues
