-- bug_metrics: per-bug timeline metrics (METRICS.md §3, P7, P8). Grain: bug existing at as_of.
--   self_reported: the creator has role ca, or the earliest report with a "Source of incident disclosure"
--                  field (posted at or before as_of) says Self;
--   first_ca_response_hours: bugs not self-reported, opened_at -> first ca comment (null while none);
--   full_report_at: first ca comment holding a full report (7 questions with >= 4 answers, v2.0 with >= 3
--                   sections, v3 Full); hours_to_full_report from opened_at;
--   late_full_report: only for bugs opened on or after 2023-02-15: with a full report, late when > 336 h;
--                   open at as_of without one, late when as_of - opened_at > 336 h; closed without one: null;
--   days_to_close: closed_at - opened_at in days (closed at as_of only).
CREATE OR REPLACE VIEW bug_metrics AS
WITH first_ca AS (
    SELECT bug_id, min(created_at) AS first_ca_at FROM metric_comments WHERE role = 'ca' GROUP BY bug_id
), disclosure AS (
    SELECT r.bug_id, arg_min(r.disclosure_source_norm, (r.posted_at, r.comment_id, r.report_no)) AS source
    FROM reports r CROSS JOIN metric_params p
    WHERE r.disclosure_source_norm IS NOT NULL AND r.posted_at <= p.as_of GROUP BY r.bug_id
), full_report AS (
    SELECT r.bug_id, min(r.posted_at) AS full_report_at
    FROM reports r JOIN roles ro ON ro.bug_id = r.bug_id AND ro.account = lower(r.author) AND ro.role = 'ca'
    CROSS JOIN metric_params p
    WHERE r.is_full AND r.posted_at <= p.as_of GROUP BY r.bug_id
), creator AS (
    SELECT i.bug_id, coalesce(r.role, 'community') AS creator_role
    FROM incidents i LEFT JOIN roles r ON r.bug_id = i.bug_id AND r.account = i.creator
)
SELECT
    b.bug_id, b.ca, b.opened_at, b.closed_at, b.is_open, b.status_at,
    (c.creator_role = 'ca' OR coalesce(d.source = 'self', FALSE)) AS self_reported,
    c.creator_role,
    CASE WHEN NOT (c.creator_role = 'ca' OR coalesce(d.source = 'self', FALSE))
         THEN date_diff('second', b.opened_at, f.first_ca_at) / 3600.0 END AS first_ca_response_hours,
    f.first_ca_at,
    fr.full_report_at,
    date_diff('second', b.opened_at, fr.full_report_at) / 3600.0 AS hours_to_full_report,
    CASE
        WHEN b.opened_at < TIMESTAMP '2023-02-15' THEN NULL
        WHEN fr.full_report_at IS NOT NULL THEN date_diff('second', b.opened_at, fr.full_report_at) > 336 * 3600
        WHEN b.is_open THEN date_diff('second', b.opened_at, p.as_of) > 336 * 3600
        ELSE NULL
    END AS late_full_report,
    date_diff('second', b.opened_at, b.closed_at) / 86400.0 AS days_to_close
FROM metric_bugs b
CROSS JOIN metric_params p
LEFT JOIN creator c USING (bug_id)
LEFT JOIN disclosure d USING (bug_id)
LEFT JOIN first_ca f USING (bug_id)
LEFT JOIN full_report fr USING (bug_id);
