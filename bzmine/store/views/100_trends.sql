-- trend_counts: bugs opened per year and per quarter, by whiteboard tag and by CA (METRICS.md §8).
-- Grain: (period_type, period, dimension, key). Tags are those in the whiteboard at as_of (whiteboard history),
-- and first_tagged_at tells when each tag was first added.
CREATE OR REPLACE VIEW metric_tags_at AS
WITH last_wb AS (
    SELECT w.bug_id, arg_max(w.tags, w.changed_at) AS tags
    FROM whiteboard_changes w CROSS JOIN metric_params p WHERE w.changed_at <= p.as_of GROUP BY w.bug_id
)
SELECT b.bug_id, coalesce(l.tags, CAST([] AS VARCHAR[])) AS tags FROM metric_bugs b LEFT JOIN last_wb l USING (bug_id);

CREATE OR REPLACE VIEW tag_first_added AS
SELECT w.bug_id, t.tag, min(w.changed_at) AS first_tagged_at
FROM whiteboard_changes w, unnest(w.tags) AS t(tag) CROSS JOIN metric_params p
WHERE w.changed_at <= p.as_of GROUP BY ALL;

-- trend_bugs: one row per bug existing at as_of with what trends group by: period of opening, its tags at as_of
-- (a bug counts once under each of its tags; '(none)' without tags), per-CA key (null for bugs whose subject
-- is not a CA: then '(auditor)', '(program)', '(meta)', '(unknown)'), owner status at as_of, subject kind.
CREATE OR REPLACE VIEW trend_bugs AS
SELECT b.bug_id, b.ca, CAST(year(b.opened_at) AS VARCHAR) AS y, year(b.opened_at) || '-Q' || quarter(b.opened_at) AS q,
       CASE WHEN len(t.tags) = 0 THEN ['(none)'] ELSE t.tags END AS tags,
       coalesce(b.ca, '(' || b.subject_kind || ')') AS ca_key,
       coalesce(b.owner_status, '(' || b.subject_kind || ')') AS owner_status, b.subject_kind
FROM metric_bugs b JOIN metric_tags_at t USING (bug_id);

CREATE OR REPLACE VIEW trend_counts AS
WITH tagged AS (SELECT y, q, unnest(tags) AS tag FROM trend_bugs)
SELECT 'year' AS period_type, y AS period, 'tag' AS dimension, tag AS key, count(*) AS bugs FROM tagged GROUP BY ALL
UNION ALL SELECT 'quarter', q, 'tag', tag, count(*) FROM tagged GROUP BY ALL
UNION ALL SELECT 'year', y, 'ca', ca_key, count(*) FROM trend_bugs GROUP BY ALL
UNION ALL SELECT 'quarter', q, 'ca', ca_key, count(*) FROM trend_bugs GROUP BY ALL
UNION ALL SELECT 'year', y, 'all', 'all', count(*) FROM trend_bugs GROUP BY ALL
UNION ALL SELECT 'quarter', q, 'all', 'all', count(*) FROM trend_bugs GROUP BY ALL;

-- trend_medians: per year of opening, median response hours (answered requests), share answered within 7
-- days, median days to close (bugs closed at as_of). Grain: year.
CREATE OR REPLACE VIEW trend_medians AS
WITH r AS (
    SELECT year(b.opened_at) AS year, median(e.response_hours) AS median_response_hours,
           avg(CAST(NOT e.breach_7d AS DOUBLE)) AS share_within_7d, count(*) AS requests
    FROM response_events e JOIN metric_bugs b USING (bug_id) GROUP BY 1
), c AS (
    SELECT year(opened_at) AS year, count(*) AS bugs, median(days_to_close) AS median_days_to_close,
           count(days_to_close) AS bugs_closed
    FROM bug_metrics GROUP BY 1
)
SELECT c.year, c.bugs, c.bugs_closed, c.median_days_to_close, r.requests, r.median_response_hours, r.share_within_7d
FROM c LEFT JOIN r USING (year) ORDER BY c.year;
