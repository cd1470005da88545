-- Paper tables (bzmine/research.py, `bzmine paper-tables`, notebooks/04_paper_tables): tidy, long-form tables a
-- paper can cite as they are. Every paper_* table has the columns
--   period (text: '2024' or '2024-Q1'), period_kind ('year' | 'quarter'), dimension (what the rows are broken down
--   by), value (the dimension's value), measure (what the figure is), figure (the number; null where undefined,
--   e.g. a median over no bugs)
-- with one row per period x value x measure, and a row for every period from the year (quarter) of the first bug
-- of the bug set to the one holding as_of, so that empty periods are explicit zeros, never missing rows (the same
-- periods whatever the exclusions).
-- Scope: metric_bugs (visible, existing at as_of, after the exclusions; resolutions at as_of).

-- paper_periods: every year and quarter from the first visible bug opened to as_of. Grain: period.
CREATE OR REPLACE VIEW paper_periods AS
WITH span AS (
    SELECT min(i.opened_at) AS lo, any_value(p.as_of) AS hi
    FROM incidents i CROSS JOIN metric_params p WHERE i.is_visible AND i.opened_at <= p.as_of
)
SELECT 'year' AS period_kind, CAST(y AS VARCHAR) AS period, make_date(CAST(y AS INTEGER), 1, 1) AS period_start
FROM span, range(coalesce(year(span.lo), 0), coalesce(year(span.hi) + 1, 0)) AS r(y)
WHERE span.lo IS NOT NULL AND span.lo <= span.hi
UNION ALL
SELECT 'quarter', year(d) || '-Q' || quarter(d), CAST(d AS DATE)
FROM span, range(coalesce(date_trunc('quarter', span.lo), TIMESTAMP '2000-01-01'),
                 coalesce(date_trunc('quarter', span.hi) + INTERVAL 1 DAY, TIMESTAMP '2000-01-01'),
                 INTERVAL 3 MONTH) AS g(d)
WHERE span.lo IS NOT NULL AND span.lo <= span.hi;

-- paper_subject_status: the standing at as_of of the CA a bug was filed about (lineage: metric_bugs.subject_status,
-- e.g. Symantec distrusted though DigiCert owns it), beside owner_status (the owner today). Grain: bug. A bug not
-- about a CA carries the same 'not a CA: ...' label as owner_status.
CREATE OR REPLACE VIEW paper_subject_status AS
SELECT b.bug_id,
       coalesce(b.subject_status, CASE b.subject_kind WHEN 'unknown' THEN 'not a CA: none named'
                                                      ELSE 'not a CA: ' || b.subject_kind END) AS subject_status
FROM metric_bugs b;

-- paper_bugs: the bugs the paper tables count, with the labels they group by. Grain: bug.
--   owner: the per-CA key (the CCADB owner today, or the name as filed with group 'filed'); for a bug whose subject
--          is not a CA: 'not a CA: auditor' | 'not a CA: program' | 'not a CA: meta' | 'not a CA: none named';
--   owner_status: the owner's standing at as_of: included | distrusted | unknown (the owner table records none);
--          for a bug not about a CA the same 'not a CA: ...' label, so 'unknown' only ever means an owner status;
--   subject_kind: ca | auditor | program | meta | unknown (no CA named); tags: whiteboard tags at as_of.
CREATE OR REPLACE VIEW paper_bugs AS
SELECT b.bug_id, b.opened_at,
       CAST(year(b.opened_at) AS VARCHAR) AS year,
       year(b.opened_at) || '-Q' || quarter(b.opened_at) AS quarter,
       coalesce(b.ca, CASE b.subject_kind WHEN 'unknown' THEN 'not a CA: none named'
                                          ELSE 'not a CA: ' || b.subject_kind END) AS owner,
       coalesce(b.owner_status, CASE b.subject_kind WHEN 'unknown' THEN 'not a CA: none named'
                                                    ELSE 'not a CA: ' || b.subject_kind END) AS owner_status,
       b.subject_kind, ss.subject_status, t.tags, b.is_open, b.closed_at, b.resolution
FROM metric_bugs b
JOIN metric_tags_at t USING (bug_id)
LEFT JOIN paper_subject_status ss USING (bug_id);

-- paper_incident_counts: bugs opened per year by owner_status, subject and tag (a bug counts once under each of
-- its tags at as_of; 'no tag' without any), and in all ('all'). Measure: bugs. Every listed owner status and
-- subject kind has a row in every year, zero or not.
CREATE OR REPLACE VIEW paper_incident_counts AS
WITH obs AS (
    SELECT year AS period, 'owner_status' AS dimension, owner_status AS value FROM paper_bugs
    UNION ALL SELECT year, 'subject', subject_kind FROM paper_bugs
    UNION ALL SELECT year, 'tag', unnest(CASE WHEN len(tags) = 0 THEN ['no tag'] ELSE tags END) FROM paper_bugs
    UNION ALL SELECT year, 'all', 'all' FROM paper_bugs
), vals AS (
    SELECT DISTINCT dimension, value FROM obs
    UNION SELECT 'owner_status', unnest(['included', 'distrusted', 'unknown'])
    UNION SELECT 'subject', unnest(['ca', 'auditor', 'program', 'meta', 'unknown'])
    UNION SELECT 'all', 'all'
), counts AS (
    SELECT period, dimension, value, count(*) AS n FROM obs GROUP BY ALL
)
SELECT p.period, p.period_kind, v.dimension, v.value, 'bugs' AS measure, CAST(coalesce(c.n, 0) AS DOUBLE) AS figure
FROM paper_periods p
CROSS JOIN vals v
LEFT JOIN counts c ON c.period = p.period AND c.dimension = v.dimension AND c.value = v.value
WHERE p.period_kind = 'year';

-- paper_incidents_by_owner: bugs opened per year per owner, with the owner's status at as_of and the bug's subject
-- status (lineage). Grain: year x (owner, owner_status, subject_status); every such
-- combination seen in any year has a row in every year. Measure: bugs.
CREATE OR REPLACE VIEW paper_incidents_by_owner AS
WITH keys AS (
    SELECT DISTINCT owner, owner_status, subject_status FROM paper_bugs
), counts AS (
    SELECT year AS period, owner, owner_status, subject_status, count(*) AS n FROM paper_bugs GROUP BY ALL
)
SELECT p.period, p.period_kind, 'owner' AS dimension, k.owner AS value, k.owner_status, k.subject_status,
       'bugs' AS measure, CAST(coalesce(c.n, 0) AS DOUBLE) AS figure
FROM paper_periods p
CROSS JOIN keys k
LEFT JOIN counts c ON c.period = p.period AND c.owner = k.owner
    AND c.owner_status IS NOT DISTINCT FROM k.owner_status AND c.subject_status IS NOT DISTINCT FROM k.subject_status
WHERE p.period_kind = 'year';

-- paper_revocation_delay_bugs: bugs that carried a '*revocation-delay*' whiteboard tag at any time up to as_of,
-- dated by when such a tag was first added (tag_first_added). Grain: bug.
--   days_tagged: tag first added -> bug closed (0 when tagged after closing), or -> as_of while open; null for a
--   bug closed at as_of whose closing time is unknown.
--   identified_at, noncompliance_end_at: the non-compliance identified and end dates of the latest report (posted by
--   as_of) that gives each (v3 reports); for a revocation delay the end is when the last certificate was revoked.
--   days_identified_to_end: from one to the other, in days (null unless both are given). Promised revocation dates
--   are not parsed from reports yet.
CREATE OR REPLACE VIEW paper_revocation_delay_bugs AS
WITH first_tag AS (
    SELECT bug_id, min(first_tagged_at) AS tagged_at FROM tag_first_added
    WHERE tag LIKE '%revocation-delay%' GROUP BY bug_id
), dated AS (
    SELECT r.bug_id, (r.posted_at, r.comment_id, r.report_no) AS pos,
           TRY_CAST(replace(r.fields->'noncompliance_identified'->>'at', 'Z', '') AS TIMESTAMP) AS identified_at,
           TRY_CAST(replace(r.fields->'noncompliance_end'->>'at', 'Z', '') AS TIMESTAMP) AS end_at
    FROM reports r CROSS JOIN metric_params p WHERE r.posted_at <= p.as_of
), ends AS (
    SELECT bug_id, arg_max(identified_at, pos) FILTER (WHERE identified_at IS NOT NULL) AS identified_at,
           arg_max(end_at, pos) FILTER (WHERE end_at IS NOT NULL) AS noncompliance_end_at
    FROM dated GROUP BY bug_id
)
SELECT b.bug_id, b.owner, f.tagged_at, year(f.tagged_at) || '-Q' || quarter(f.tagged_at) AS quarter,
       b.is_open, b.closed_at,
       CASE WHEN b.is_open THEN date_diff('second', f.tagged_at, p.as_of) / 86400.0
            WHEN b.closed_at IS NOT NULL THEN greatest(date_diff('second', f.tagged_at, b.closed_at), 0) / 86400.0
       END AS days_tagged,
       e.identified_at, e.noncompliance_end_at,
       date_diff('second', e.identified_at, e.noncompliance_end_at) / 86400.0 AS days_identified_to_end
FROM first_tag f
JOIN paper_bugs b USING (bug_id)
CROSS JOIN metric_params p
LEFT JOIN ends e USING (bug_id);

-- paper_revocation_delay: per quarter of the first revocation-delay tag: bugs, still_open and closed at as_of,
-- median_days_tagged (tag -> closed, or -> as_of while open), median_days_tagged_to_close (closed bugs only),
-- bugs_with_end_date (a report gives both the identified and the end date) and median_days_identified_to_end.
CREATE OR REPLACE VIEW paper_revocation_delay AS
WITH agg AS (
    SELECT quarter AS period, count(*) AS bugs, count(*) FILTER (WHERE is_open) AS still_open,
           count(*) FILTER (WHERE NOT is_open) AS closed, median(days_tagged) AS median_days_tagged,
           median(days_tagged) FILTER (WHERE NOT is_open) AS median_days_tagged_to_close,
           count(days_identified_to_end) AS bugs_with_end_date,
           median(days_identified_to_end) AS median_days_identified_to_end
    FROM paper_revocation_delay_bugs GROUP BY 1
), grid AS (
    SELECT p.period, p.period_kind,
           CAST(coalesce(a.bugs, 0) AS DOUBLE) AS bugs, CAST(coalesce(a.still_open, 0) AS DOUBLE) AS still_open,
           CAST(coalesce(a.closed, 0) AS DOUBLE) AS closed, CAST(a.median_days_tagged AS DOUBLE) AS median_days_tagged,
           CAST(a.median_days_tagged_to_close AS DOUBLE) AS median_days_tagged_to_close,
           CAST(coalesce(a.bugs_with_end_date, 0) AS DOUBLE) AS bugs_with_end_date,
           CAST(a.median_days_identified_to_end AS DOUBLE) AS median_days_identified_to_end
    FROM paper_periods p LEFT JOIN agg a USING (period) WHERE p.period_kind = 'quarter'
)
SELECT period, period_kind, 'tag' AS dimension, '*revocation-delay*' AS value, measure, figure
FROM grid UNPIVOT INCLUDE NULLS (figure FOR measure IN (bugs, still_open, closed, median_days_tagged,
    median_days_tagged_to_close, bugs_with_end_date, median_days_identified_to_end));

-- paper_self_reported: per year of opening: bugs, self_reported (bug_metrics.self_reported: the creator speaks
-- for the CA, or the earliest report's disclosure source says Self) and its share; bugs_with_source (bugs with a
-- report stating a disclosure source by as_of) and source_self_share (the earliest stated source is Self).
CREATE OR REPLACE VIEW paper_self_reported AS
WITH src AS (
    SELECT r.bug_id, arg_min(r.disclosure_source_norm, (r.posted_at, r.comment_id, r.report_no)) AS src
    FROM reports r CROSS JOIN metric_params p
    WHERE r.disclosure_source_norm IS NOT NULL AND r.posted_at <= p.as_of GROUP BY r.bug_id
), agg AS (
    SELECT b.year AS period, count(*) AS bugs, count(*) FILTER (WHERE m.self_reported) AS self_reported,
           avg(CAST(m.self_reported AS DOUBLE)) AS self_reported_share, count(s.src) AS bugs_with_source,
           avg(CAST(s.src = 'self' AS DOUBLE)) AS source_self_share
    FROM paper_bugs b JOIN bug_metrics m USING (bug_id) LEFT JOIN src s USING (bug_id) GROUP BY 1
), grid AS (
    SELECT p.period, p.period_kind, CAST(coalesce(a.bugs, 0) AS DOUBLE) AS bugs,
           CAST(coalesce(a.self_reported, 0) AS DOUBLE) AS self_reported, a.self_reported_share,
           CAST(coalesce(a.bugs_with_source, 0) AS DOUBLE) AS bugs_with_source, a.source_self_share
    FROM paper_periods p LEFT JOIN agg a USING (period) WHERE p.period_kind = 'year'
)
SELECT period, period_kind, 'all' AS dimension, 'all' AS value, measure, figure
FROM grid UNPIVOT INCLUDE NULLS (figure FOR measure IN (bugs, self_reported, self_reported_share, bugs_with_source, source_self_share));

-- paper_days_to_close: per year of opening: bugs, bugs_closed and still_open at as_of, median_days_to_close
-- (bug_metrics.days_to_close: bugs closed at as_of with a known closing time).
CREATE OR REPLACE VIEW paper_days_to_close AS
WITH agg AS (
    SELECT b.year AS period, count(*) AS bugs, count(*) FILTER (WHERE NOT m.is_open) AS bugs_closed,
           count(*) FILTER (WHERE m.is_open) AS still_open, median(m.days_to_close) AS median_days_to_close
    FROM paper_bugs b JOIN bug_metrics m USING (bug_id) GROUP BY 1
), grid AS (
    SELECT p.period, p.period_kind, CAST(coalesce(a.bugs, 0) AS DOUBLE) AS bugs,
           CAST(coalesce(a.bugs_closed, 0) AS DOUBLE) AS bugs_closed,
           CAST(coalesce(a.still_open, 0) AS DOUBLE) AS still_open, CAST(a.median_days_to_close AS DOUBLE) AS median_days_to_close
    FROM paper_periods p LEFT JOIN agg a USING (period) WHERE p.period_kind = 'year'
)
SELECT period, period_kind, 'all' AS dimension, 'all' AS value, measure, figure
FROM grid UNPIVOT INCLUDE NULLS (figure FOR measure IN (bugs, bugs_closed, still_open, median_days_to_close));

-- paper_response_breaches: per year of the bug's opening: requests waiting for a CA (response_events),
-- breaches_7d (answered or still waiting after 7 days) and breach_share (breaches_7d / requests).
CREATE OR REPLACE VIEW paper_response_breaches AS
WITH agg AS (
    SELECT b.year AS period, count(*) AS requests, count(*) FILTER (WHERE e.breach_7d) AS breaches_7d,
           avg(CAST(e.breach_7d AS DOUBLE)) AS breach_share
    FROM response_events e JOIN paper_bugs b USING (bug_id) GROUP BY 1
), grid AS (
    SELECT p.period, p.period_kind, CAST(coalesce(a.requests, 0) AS DOUBLE) AS requests,
           CAST(coalesce(a.breaches_7d, 0) AS DOUBLE) AS breaches_7d, a.breach_share
    FROM paper_periods p LEFT JOIN agg a USING (period) WHERE p.period_kind = 'year'
)
SELECT period, period_kind, 'all' AS dimension, 'all' AS value, measure, figure
FROM grid UNPIVOT INCLUDE NULLS (figure FOR measure IN (requests, breaches_7d, breach_share));

-- paper_full_report_on_time: per year of opening: full_reports_evaluated (bugs with bug_metrics.late_full_report
-- known: opened on or after 2023-02-15, and either holding a full report or open at as_of), on_time (a full report
-- within 14 days, or open and not yet 14 days old) and on_time_share. Years before 2023 have no evaluated bugs.
CREATE OR REPLACE VIEW paper_full_report_on_time AS
WITH agg AS (
    SELECT b.year AS period, count(m.late_full_report) AS full_reports_evaluated,
           count(*) FILTER (WHERE NOT m.late_full_report) AS on_time,
           avg(CAST(NOT m.late_full_report AS DOUBLE)) AS on_time_share
    FROM paper_bugs b JOIN bug_metrics m USING (bug_id) GROUP BY 1
), grid AS (
    SELECT p.period, p.period_kind, CAST(coalesce(a.full_reports_evaluated, 0) AS DOUBLE) AS full_reports_evaluated,
           CAST(coalesce(a.on_time, 0) AS DOUBLE) AS on_time, a.on_time_share
    FROM paper_periods p LEFT JOIN agg a USING (period) WHERE p.period_kind = 'year'
)
SELECT period, period_kind, 'all' AS dimension, 'all' AS value, measure, figure
FROM grid UNPIVOT INCLUDE NULLS (figure FOR measure IN (full_reports_evaluated, on_time, on_time_share));

-- paper_action_items: the items of each bug's current action-item list (action_item_status) with a due date, and
-- when a CA table first said the item (the same bug, action text with Jaro-Winkler >= 0.9, as action_item_status
-- matches rows) was complete. Grain: action item. first_complete_at is the posting time of that table: the item
-- was complete by then (an upper bound on when it was done).
CREATE OR REPLACE VIEW paper_action_items AS
SELECT c.bug_id, c.comment_id, c.item_no, c.action, c.due_date, c.status,
       min(h.posted_at) FILTER (WHERE h.status = 'complete') AS first_complete_at
FROM action_item_status c
LEFT JOIN metric_ca_items h ON h.bug_id = c.bug_id
    AND jaro_winkler_similarity(lower(coalesce(h.action, '')), lower(coalesce(c.action, '')), 0.9) >= 0.9
WHERE c.due_date IS NOT NULL
GROUP BY ALL;

-- paper_action_item_completion: per year of the due date, items due by as_of (not canceled): items_due,
-- complete_by_due (a CA table said complete on or before the due date) and its share, complete_at_as_of (complete
-- in the current list at as_of) and its share.
CREATE OR REPLACE VIEW paper_action_item_completion AS
WITH due AS (
    SELECT a.*, CAST(year(a.due_date) AS VARCHAR) AS period,
           a.first_complete_at < a.due_date + INTERVAL 1 DAY AS by_due
    FROM paper_action_items a CROSS JOIN metric_params p
    WHERE a.status <> 'canceled' AND a.due_date < CAST(p.as_of AS DATE)
), agg AS (
    SELECT period, count(*) AS items_due, count(*) FILTER (WHERE by_due) AS complete_by_due,
           avg(CAST(coalesce(by_due, FALSE) AS DOUBLE)) AS complete_by_due_share,
           count(*) FILTER (WHERE status = 'complete') AS complete_at_as_of,
           avg(CAST(status = 'complete' AS DOUBLE)) AS complete_at_as_of_share
    FROM due GROUP BY 1
), grid AS (
    SELECT p.period, p.period_kind, CAST(coalesce(a.items_due, 0) AS DOUBLE) AS items_due,
           CAST(coalesce(a.complete_by_due, 0) AS DOUBLE) AS complete_by_due, a.complete_by_due_share,
           CAST(coalesce(a.complete_at_as_of, 0) AS DOUBLE) AS complete_at_as_of, a.complete_at_as_of_share
    FROM paper_periods p LEFT JOIN agg a USING (period) WHERE p.period_kind = 'year'
)
SELECT period, period_kind, 'all' AS dimension, 'all' AS value, measure, figure
FROM grid UNPIVOT INCLUDE NULLS (figure FOR measure IN (items_due, complete_by_due, complete_by_due_share, complete_at_as_of, complete_at_as_of_share));

-- paper_disclosure_delay_bugs: bugs opened by a CA account whose first report (by as_of) with a "Non-compliance
-- identified" date gives one: disclosure_delay_hours = opened_at - that date (METRICS.md D1). Grain: bug.
-- The same formula as the duties view's D1 (083_duties.sql), counted here for every year a report gives the date,
-- not only where guideline 3.0+ makes it a duty.
CREATE OR REPLACE VIEW paper_disclosure_delay_bugs AS
WITH ident AS (
    SELECT r.bug_id,
           arg_min(TRY_CAST(replace(r.fields->'noncompliance_identified'->>'at', 'Z', '') AS TIMESTAMP),
                   (r.posted_at, r.comment_id, r.report_no)) AS identified_at
    FROM reports r CROSS JOIN metric_params p
    WHERE r.posted_at <= p.as_of
      AND TRY_CAST(replace(r.fields->'noncompliance_identified'->>'at', 'Z', '') AS TIMESTAMP) IS NOT NULL
    GROUP BY r.bug_id
)
SELECT b.bug_id, b.year, b.opened_at, i.identified_at,
       date_diff('second', i.identified_at, b.opened_at) / 3600.0 AS disclosure_delay_hours
FROM paper_bugs b JOIN bug_metrics m USING (bug_id) JOIN ident i USING (bug_id)
WHERE m.creator_role = 'ca';

-- paper_disclosure_delay: per year of opening: bugs_with_identified_date, median_disclosure_delay_hours,
-- over_72h (disclosed more than 72 hours after identification) and over_72h_share.
CREATE OR REPLACE VIEW paper_disclosure_delay AS
WITH agg AS (
    SELECT year AS period, count(*) AS bugs_with_identified_date,
           median(disclosure_delay_hours) AS median_disclosure_delay_hours,
           count(*) FILTER (WHERE disclosure_delay_hours > 72) AS over_72h,
           avg(CAST(disclosure_delay_hours > 72 AS DOUBLE)) AS over_72h_share
    FROM paper_disclosure_delay_bugs GROUP BY 1
), grid AS (
    SELECT p.period, p.period_kind, CAST(coalesce(a.bugs_with_identified_date, 0) AS DOUBLE) AS bugs_with_identified_date,
           CAST(a.median_disclosure_delay_hours AS DOUBLE) AS median_disclosure_delay_hours,
           CAST(coalesce(a.over_72h, 0) AS DOUBLE) AS over_72h, a.over_72h_share
    FROM paper_periods p LEFT JOIN agg a USING (period) WHERE p.period_kind = 'year'
)
SELECT period, period_kind, 'all' AS dimension, 'all' AS value, measure, figure
FROM grid UNPIVOT INCLUDE NULLS (figure FOR measure IN (bugs_with_identified_date, median_disclosure_delay_hours, over_72h, over_72h_share));
