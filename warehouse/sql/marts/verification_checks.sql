-- marts.verification_checks: each parsed verification criterion evaluated against CI (and incident) history over its window: holds, fails, not_enough_data or not_checkable.
WITH s AS (SELECT * FROM models.follow_through_settings LIMIT 1),
docs AS (
    SELECT d.postmortem_id, d.verification_criteria AS vc, p.identified_at, p.team, p.service,
           p.incident_id
    FROM raw.postmortem_documents d
    JOIN core.postmortems p USING (postmortem_id)
    WHERE d.verification_criteria IS NOT NULL AND json_array_length(d.verification_criteria) > 0
),
crit AS (
    SELECT postmortem_id, identified_at, team, service, incident_id, i AS criterion_index,
           json_extract(vc, '$[' || i || ']') AS c
    FROM (SELECT *, unnest(range(CAST(json_array_length(vc) AS BIGINT))) AS i FROM docs)
),
parsed AS (
    SELECT postmortem_id, criterion_index, identified_at, team, service, incident_id,
           c ->> 'text' AS criterion_text,
           coalesce(TRY_CAST(c ->> 'checkable' AS BOOLEAN), false) AS checkable,
           c ->> 'metric' AS metric,
           nullif(trim(c ->> 'scope'), '') AS scope,
           c ->> 'comparator' AS comparator,
           TRY_CAST(c ->> 'threshold' AS DOUBLE) AS threshold,
           TRY_CAST(c ->> 'window_days' AS DOUBLE) AS window_days,
           regexp_replace(lower(coalesce(c ->> 'text', '')), '[^a-z0-9]+', ' ', 'g') AS norm_text
    FROM crit
),
items AS (
    SELECT a.*, regexp_replace(lower(a.verification), '[^a-z0-9]+', ' ', 'g') AS norm_ver
    FROM models.action_item_status a
    WHERE a.verification IS NOT NULL
),
tied AS (
    -- the action item whose verification text this criterion is (first by position)
    SELECT p.postmortem_id, p.criterion_index, i.action_item_id, i.done, i.closed_at
    FROM parsed p
    JOIN items i
      ON i.postmortem_id = p.postmortem_id
     AND length(trim(p.norm_text)) > 0
     AND (trim(i.norm_ver) = trim(p.norm_text) OR contains(i.norm_ver, trim(p.norm_text))
          OR contains(p.norm_text, trim(i.norm_ver)))
    QUALIFY row_number() OVER (PARTITION BY p.postmortem_id, p.criterion_index
                               ORDER BY i.action_item_id) = 1
),
pm_items AS (
    SELECT postmortem_id,
           count(*) FILTER (WHERE NOT canceled) AS live_items,
           count(*) FILTER (WHERE done AND closed_at IS NOT NULL) AS closed_items,
           max(closed_at) FILTER (WHERE done) AS last_closed_at
    FROM models.action_item_status GROUP BY postmortem_id
),
windows AS (
    SELECT p.*, t.action_item_id,
        CASE WHEN t.done AND t.closed_at IS NOT NULL THEN 'item_closed'
             WHEN pi.live_items > 0 AND pi.closed_items = pi.live_items THEN 'items_closed'
             ELSE 'identified' END AS window_basis,
        CASE WHEN t.done AND t.closed_at IS NOT NULL THEN t.closed_at
             WHEN pi.live_items > 0 AND pi.closed_items = pi.live_items THEN pi.last_closed_at
             ELSE p.identified_at END AS window_start,
        coalesce(p.window_days, s.verification_window_days) AS eff_window_days
    FROM parsed p
    CROSS JOIN s
    LEFT JOIN tied t USING (postmortem_id, criterion_index)
    LEFT JOIN pm_items pi USING (postmortem_id)
),
w AS (
    SELECT *,
        window_start + to_microseconds(CAST(eff_window_days * 86400e6 AS BIGINT)) AS window_end,
        -- scope words a CI job's repo/workflow/name must all contain (plurals folded)
        list_transform(
            list_filter(
                regexp_split_to_array(lower(coalesce(scope, service, '')), '[^a-z0-9]+'),
                x -> length(x) >= 2 AND x NOT IN ('the', 'an', 'on', 'for', 'of', 'in', 'at',
                                                  'to', 'and', 'suite', 'suites', 'our', 'all')),
            x -> CASE WHEN length(x) >= 4 AND right(x, 1) = 's' THEN left(x, length(x) - 1) ELSE x END
        ) AS tokens
    FROM windows
),
combos AS (
    SELECT repo, workflow, job_name,
           lower(concat_ws(' ', repo, workflow, job_name)) AS job_text
    FROM core.ci_jobs GROUP BY ALL
),
ci_crit AS (
    SELECT * FROM w
    WHERE checkable AND metric IN ('ci_pass_rate', 'ci_failure_rate', 'flaky_rate',
                                   'duration_minutes')
),
matched AS (
    SELECT c.postmortem_id, c.criterion_index, m.repo, m.workflow, m.job_name
    FROM ci_crit c
    JOIN combos m
      ON len(c.tokens) > 0
     AND len(list_filter(c.tokens, x -> NOT contains(m.job_text, x))) = 0
),
runs AS (
    SELECT c.postmortem_id, c.criterion_index, j.repo, j.workflow, j.job_name, j.sha,
           j.conclusion, j.duration_s
    FROM ci_crit c
    JOIN matched m USING (postmortem_id, criterion_index)
    JOIN core.ci_jobs j
      ON j.repo IS NOT DISTINCT FROM m.repo AND j.workflow IS NOT DISTINCT FROM m.workflow
     AND j.job_name IS NOT DISTINCT FROM m.job_name
     AND j.completed_at >= c.window_start AND j.completed_at < c.window_end
     AND j.conclusion IN ('success', 'failure', 'timed_out')
),
flaky AS (
    -- a failure is flaky when the same job on the same commit also succeeded in the window
    SELECT postmortem_id, criterion_index,
           sum(fails) FILTER (WHERE passes > 0) AS flaky_failures
    FROM (SELECT postmortem_id, criterion_index, repo, workflow, job_name, sha,
                 count(*) FILTER (WHERE conclusion <> 'success') AS fails,
                 count(*) FILTER (WHERE conclusion = 'success') AS passes
          FROM runs WHERE sha IS NOT NULL GROUP BY ALL)
    GROUP BY ALL
),
ci_stats AS (
    SELECT r.postmortem_id, r.criterion_index,
           count(*) AS runs,
           count(*) FILTER (WHERE conclusion = 'success') / count(*) AS pass_rate,
           median(duration_s) FILTER (WHERE conclusion = 'success') / 60.0 AS median_minutes
    FROM runs r GROUP BY ALL
),
match_counts AS (
    SELECT postmortem_id, criterion_index, count(*) AS matched_jobs FROM matched GROUP BY ALL
),
incident_stats AS (
    SELECT c.postmortem_id, c.criterion_index, count(i.incident_id) AS n
    FROM w c
    LEFT JOIN core.incidents i
      ON i.service = c.service
     AND i.incident_id IS DISTINCT FROM c.incident_id
     AND i.created_at >= c.window_start AND i.created_at < c.window_end
    WHERE c.checkable AND c.metric = 'incident_count'
    GROUP BY ALL
),
valued AS (
    SELECT w.*, s.as_of, s.min_ci_runs,
        coalesce(mc.matched_jobs, 0) AS matched_jobs,
        CASE WHEN w.metric = 'incident_count' THEN NULL ELSE coalesce(cs.runs, 0) END AS runs,
        CASE w.metric
            WHEN 'ci_pass_rate' THEN cs.pass_rate
            WHEN 'ci_failure_rate' THEN 1 - cs.pass_rate
            WHEN 'flaky_rate' THEN coalesce(f.flaky_failures, 0) / nullif(cs.runs, 0)
            WHEN 'duration_minutes' THEN cs.median_minutes
            WHEN 'incident_count' THEN ist.n
        END AS observed_value
    FROM w
    CROSS JOIN s
    LEFT JOIN match_counts mc USING (postmortem_id, criterion_index)
    LEFT JOIN ci_stats cs USING (postmortem_id, criterion_index)
    LEFT JOIN flaky f USING (postmortem_id, criterion_index)
    LEFT JOIN incident_stats ist USING (postmortem_id, criterion_index)
),
judged AS (
    SELECT *,
        CASE
            WHEN NOT checkable OR metric IS NULL OR comparator IS NULL OR threshold IS NULL
                THEN 'not_checkable'
            WHEN metric NOT IN ('ci_pass_rate', 'ci_failure_rate', 'flaky_rate',
                                'duration_minutes', 'incident_count')
                THEN 'not_checkable'
            WHEN window_start IS NULL OR window_end > as_of THEN 'not_enough_data'
            WHEN metric <> 'incident_count' AND (matched_jobs = 0 OR runs < min_ci_runs)
                THEN 'not_enough_data'
            WHEN observed_value IS NULL THEN 'not_enough_data'
            WHEN CASE comparator
                    WHEN '>=' THEN observed_value >= threshold - 1e-9
                    WHEN '>' THEN observed_value > threshold
                    WHEN '<=' THEN observed_value <= threshold + 1e-9
                    WHEN '<' THEN observed_value < threshold
                    WHEN '=' THEN abs(observed_value - threshold) <= 1e-9
                 END THEN 'holds'
            ELSE 'fails'
        END AS result
    FROM valued
)
SELECT
    postmortem_id, criterion_index, action_item_id, team, service, criterion_text, checkable,
    metric, scope, comparator, threshold, window_days, window_basis, window_start, window_end,
    matched_jobs, runs, observed_value, result,
    CASE
        WHEN result = 'not_checkable' AND (NOT checkable OR metric IS NULL)
            THEN 'no measurable metric, comparator and threshold in the text'
        WHEN result = 'not_checkable' AND (comparator IS NULL OR threshold IS NULL)
            THEN 'no comparator or threshold in the text'
        WHEN result = 'not_checkable'
            THEN 'metric ' || metric || ' has no source in the warehouse (CI and incident history only)'
        WHEN window_start IS NULL THEN 'the postmortem has no identification time'
        WHEN window_end > as_of
            THEN 'window ' || strftime(window_start, '%Y-%m-%d') || ' to '
                 || strftime(window_end, '%Y-%m-%d') || ' has not ended by '
                 || strftime(as_of, '%Y-%m-%d')
        WHEN metric <> 'incident_count' AND matched_jobs = 0
            THEN 'no CI job matches scope "' || coalesce(scope, service, '') || '"'
        WHEN metric <> 'incident_count' AND runs < min_ci_runs
            THEN runs || ' run(s) of ' || matched_jobs || ' matching job(s) in the window; at least '
                 || min_ci_runs || ' needed'
        WHEN observed_value IS NULL THEN 'no value could be computed'
        ELSE metric || ' = ' || round(observed_value, 4)
             || CASE WHEN runs IS NOT NULL THEN ' over ' || runs || ' run(s) of ' || matched_jobs
                     || ' job(s)' ELSE '' END
             || ' from ' || strftime(window_start, '%Y-%m-%d') || ' to '
             || strftime(window_end, '%Y-%m-%d') || '; criterion ' || comparator || ' '
             || threshold
    END AS detail,
    as_of
FROM judged
