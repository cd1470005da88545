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
       coalesce(b.owner_status, '(' || b.subject_kind || ')') AS owner_status, b.subject_kind,
       coalesce(b.subject_status, '(' || b.subject_kind || ')') AS subject_status
FROM metric_bugs b JOIN metric_tags_at t USING (bug_id);

CREATE OR REPLACE VIEW trend_counts AS
WITH tagged AS (SELECT y, q, unnest(tags) AS tag FROM trend_bugs)
SELECT 'year' AS period_type, y AS period, 'tag' AS dimension, tag AS key, count(*) AS bugs FROM tagged GROUP BY ALL
UNION ALL SELECT 'quarter', q, 'tag', tag, count(*) FROM tagged GROUP BY ALL
UNION ALL SELECT 'year', y, 'ca', ca_key, count(*) FROM trend_bugs GROUP BY ALL
UNION ALL SELECT 'quarter', q, 'ca', ca_key, count(*) FROM trend_bugs GROUP BY ALL
UNION ALL SELECT 'year', y, 'all', 'all', count(*) FROM trend_bugs GROUP BY ALL
UNION ALL SELECT 'quarter', q, 'all', 'all', count(*) FROM trend_bugs GROUP BY ALL;

-- trend_medians: per year of opening, for all bugs in scope (all_cas) and for each CA: bugs, closed and still open at
-- as_of (closed whatever its closing time is known or not), median days to close (bugs with a known closing time),
-- requests, median response hours (answered requests), share answered within 7 days. Grain: (all_cas, ca, year).
-- Scope: the bugs of the CAs listed in the variable bzmine_cas (a VARCHAR[]), or every bug when it is not set.
-- Read directly (never materialised per as_of): metrics.yearly() and yearly_by_ca() set the variable first.
CREATE OR REPLACE VIEW trend_medians AS
WITH scope AS (
    SELECT m.*, year(m.opened_at) AS year FROM bug_metrics m
    WHERE getvariable('bzmine_cas') IS NULL OR list_contains(CAST(getvariable('bzmine_cas') AS VARCHAR[]), m.ca)
), c AS (
    SELECT GROUPING(ca) = 1 AS all_cas, ca, year, count(*) AS bugs, count(*) FILTER (WHERE NOT is_open) AS bugs_closed,
           count(*) FILTER (WHERE is_open) AS still_open, median(days_to_close) AS median_days_to_close
    FROM scope GROUP BY GROUPING SETS ((year), (ca, year))
), r AS (
    SELECT GROUPING(s.ca) = 1 AS all_cas, s.ca, s.year, count(*) AS requests,
           median(e.response_hours) AS median_response_hours, avg(CAST(NOT e.breach_7d AS DOUBLE)) AS share_within_7d
    FROM response_events e JOIN scope s USING (bug_id) GROUP BY GROUPING SETS ((s.year), (s.ca, s.year))
)
SELECT c.all_cas, c.ca, c.year, c.bugs, c.bugs_closed, c.still_open, c.median_days_to_close,
       coalesce(r.requests, 0) AS requests, r.median_response_hours, r.share_within_7d
FROM c LEFT JOIN r ON r.all_cas = c.all_cas AND r.ca IS NOT DISTINCT FROM c.ca AND r.year = c.year
ORDER BY c.all_cas DESC, c.ca, c.year;
