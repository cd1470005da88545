-- due: what waits on a CA at as_of, one row per thing a reviewer can chase (issue: the triage list).
-- Grain: (bug, what, item). Only open, visible bugs whose subject is a CA (metric_bugs.ca not null).
--   pending question / pending needinfo: a request still unanswered; due = asked_at + 7 days.
--   next update due / next update missed: the bug's latest next-update date, pending within
--       getvariable('bzmine_due_days') days (default 7) of as_of, or missed and still unanswered; due = that date.
--   close-on date passed: the whiteboard's [close on DATE] at as_of is before as_of and the bug is still open.
--   full report missing: opened on or after 2023-02-15, no full report yet, more than 14 days old; due = opened + 14 d.
--   overdue action item: an item of the CA's latest table past its due date and not complete or canceled.
--   stale (only when getvariable('bzmine_stale_days') is set): no next-update date at as_of and no comment by the CA
--       for that many days; due = last CA comment (else opening) + N days.
-- days_overdue = as_of - due, in days (negative: not yet due). Sorted most overdue first.
CREATE OR REPLACE VIEW due AS
WITH p AS (
    SELECT as_of, CAST(as_of AS DATE) AS today,
           coalesce(CAST(getvariable('bzmine_due_days') AS INTEGER), 7) AS days,
           CAST(getvariable('bzmine_stale_days') AS INTEGER) AS stale_days
    FROM metric_params
), open_ca AS (
    SELECT b.* FROM metric_bugs b WHERE b.is_open AND b.ca IS NOT NULL
), wb_now AS (
    SELECT w.bug_id, arg_max(w.next_update, w.changed_at) AS next_update, arg_max(w.close_on, w.changed_at) AS close_on
    FROM whiteboard_changes w, p WHERE w.changed_at <= p.as_of GROUP BY w.bug_id
), last_ca AS (
    SELECT bug_id, max(created_at) AS last_ca_at FROM metric_comments WHERE role = 'ca' GROUP BY bug_id
), items AS (
    SELECT r.bug_id, 'pending ' || r.kind AS what, r.asked_at + INTERVAL 7 DAY AS due_at,
           r.kind || ' from ' || r.asked_by || ' (' || r.asker_role || ') on ' || strftime(r.asked_at, '%Y-%m-%d') AS detail
    FROM response_events r WHERE r.state = 'pending'
    UNION ALL
    SELECT o.bug_id, CASE WHEN o.state = 'missed' THEN 'next update missed' ELSE 'next update due' END,
           CAST(o.due AS TIMESTAMP), 'whiteboard next update ' || strftime(o.due, '%Y-%m-%d') || ', set ' || strftime(o.set_at, '%Y-%m-%d')
    FROM (SELECT *, max(set_at) OVER (PARTITION BY bug_id) AS latest FROM update_obligations) o, p
    WHERE o.set_at = o.latest
      AND ((o.state = 'pending' AND o.due <= p.today + p.days) OR (o.state = 'missed' AND o.answered_late_at IS NULL))
    UNION ALL
    SELECT w.bug_id, 'close-on date passed', CAST(w.close_on AS TIMESTAMP), 'whiteboard [close on ' || strftime(w.close_on, '%Y-%m-%d') || ']'
    FROM wb_now w, p WHERE w.close_on < p.today
    UNION ALL
    SELECT m.bug_id, 'full report missing', m.opened_at + INTERVAL 14 DAY, 'no full incident report 14 days after opening'
    FROM bug_metrics m WHERE m.late_full_report AND m.full_report_at IS NULL AND m.is_open
    UNION ALL
    SELECT a.bug_id, 'overdue action item', CAST(a.due_date AS TIMESTAMP),
           coalesce(a.action, '') || ' (' || coalesce(a.status_raw, a.status) || ')'
    FROM action_item_status a WHERE a.is_overdue AND a.bug_is_open
    UNION ALL
    SELECT b.bug_id, 'stale', coalesce(l.last_ca_at, b.opened_at) + to_days(p.stale_days),
           'no next-update date and no CA comment since ' || strftime(coalesce(l.last_ca_at, b.opened_at), '%Y-%m-%d')
    FROM open_ca b CROSS JOIN p LEFT JOIN wb_now w USING (bug_id) LEFT JOIN last_ca l USING (bug_id)
    WHERE p.stale_days IS NOT NULL AND w.next_update IS NULL
      AND coalesce(l.last_ca_at, b.opened_at) + to_days(p.stale_days) <= p.as_of
)
SELECT b.bug_id, b.ca, b.summary, b.status_at AS status, i.what, CAST(i.due_at AS DATE) AS due,
       round(date_diff('second', i.due_at, p.as_of) / 86400.0, 1) AS days_overdue, i.detail
FROM items i JOIN open_ca b USING (bug_id) CROSS JOIN p
ORDER BY days_overdue DESC, b.bug_id, i.what;
