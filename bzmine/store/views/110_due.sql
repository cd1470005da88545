-- due: what waits on a CA at as_of, one row per thing a reviewer can chase (issue: the triage list).
-- Grain: (bug, what, item). Only open, visible bugs whose subject is a CA (metric_bugs.ca not null).
--   <duty> due / <duty> missed: every duty of view `duties` owed by the CA (D1-D5 and Next-update dates) that is
--       pending and falls due within getvariable('bzmine_due_days') days (default 7) of as_of, or missed and still
--       unanswered (no late fulfilment); waived, met and closed duties never. Of Next-update dates only the bug's
--       latest counts (an older missed date is answered by the same comment as the current one).
--   pending question / pending needinfo: a request still unanswered; due = asked_at + 7 days.
--   close-on date passed: the whiteboard's [close on DATE] at as_of is before as_of and the bug is still open.
--   overdue action item: an item of the CA's latest table past its due date and not complete or canceled.
--   stale (only when getvariable('bzmine_stale_days') is set): no next-update date at as_of and no comment by the CA
--       for that many days; due = last CA comment (else opening) + N days. A user threshold, not a guideline rule.
-- kind, version and rule (document, section and deadline) name the rule each row comes from (null for the rows
-- that no guideline states: close-on dates, overdue items, stale).
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
), duty AS (
    SELECT d.*, max(CASE WHEN d.kind = 'next_update' THEN d.arises_at END) OVER (PARTITION BY d.bug_id) AS latest_nu
    FROM duties d WHERE d.owed_by = 'ca' AND d.state IN ('pending', 'missed')
), items AS (
    SELECT d.bug_id, d.label || CASE WHEN d.state = 'missed' THEN ' missed' ELSE ' due' END AS what,
           CASE WHEN d.kind = 'next_update' THEN CAST(CAST(d.due_at AS DATE) AS TIMESTAMP) ELSE d.due_at END AS due_at,
           d.detail, d.kind, d.version, d.source || ', ' || CASE WHEN d.hours IS NULL THEN 'next-update date' WHEN d.hours % 24 = 0 THEN CAST(d.hours // 24 AS VARCHAR) || ' days' ELSE CAST(d.hours AS VARCHAR) || ' hours' END AS rule
    FROM duty d, p
    WHERE (d.kind <> 'next_update' OR d.arises_at = d.latest_nu)
      AND ((d.state = 'pending' AND CAST(d.due_at AS DATE) <= p.today + p.days)
           OR (d.state = 'missed' AND d.answered_late_at IS NULL))
    UNION ALL
    SELECT r.bug_id, 'pending ' || r.kind AS what, r.asked_at + INTERVAL 7 DAY AS due_at,
           r.kind || ' from ' || r.asked_by || ' (' || r.asker_role || ') on ' || strftime(r.asked_at, '%Y-%m-%d') AS detail,
           k.kind, k.version, k.source || ', ' || CASE WHEN k.hours IS NULL THEN 'next-update date' WHEN k.hours % 24 = 0 THEN CAST(k.hours // 24 AS VARCHAR) || ' days' ELSE CAST(k.hours AS VARCHAR) || ' hours' END
    FROM response_events r
    LEFT JOIN config_duty_rules k ON k.kind = 'response'
        AND (k.valid_from IS NULL OR k.valid_from <= r.asked_at) AND (k.valid_until IS NULL OR r.asked_at < k.valid_until)
    WHERE r.state = 'pending'
    UNION ALL
    SELECT w.bug_id, 'close-on date passed', CAST(w.close_on AS TIMESTAMP), 'whiteboard [close on ' || strftime(w.close_on, '%Y-%m-%d') || ']',
           NULL, NULL, NULL
    FROM wb_now w, p WHERE w.close_on < p.today
    UNION ALL
    SELECT a.bug_id, 'overdue action item', CAST(a.due_date AS TIMESTAMP),
           coalesce(a.action, '') || ' (' || coalesce(a.status_raw, a.status) || ')', NULL, NULL, NULL
    FROM metric_current_items a WHERE a.is_overdue AND a.bug_is_open
    UNION ALL
    SELECT b.bug_id, 'stale', coalesce(l.last_ca_at, b.opened_at) + to_days(p.stale_days),
           'no next-update date and no CA comment since ' || strftime(coalesce(l.last_ca_at, b.opened_at), '%Y-%m-%d'),
           NULL, NULL, NULL
    FROM open_ca b CROSS JOIN p LEFT JOIN wb_now w USING (bug_id) LEFT JOIN last_ca l USING (bug_id)
    WHERE p.stale_days IS NOT NULL AND w.next_update IS NULL
      AND coalesce(l.last_ca_at, b.opened_at) + to_days(p.stale_days) <= p.as_of
)
SELECT b.bug_id, b.ca, b.summary, b.status_at AS status, i.what, CAST(i.due_at AS DATE) AS due,
       round(date_diff('second', i.due_at, p.as_of) / 86400.0, 1) AS days_overdue, i.detail, i.kind, i.version, i.rule
FROM items i JOIN open_ca b USING (bug_id) CROSS JOIN p
ORDER BY days_overdue DESC, b.bug_id, i.what, i.detail, i.kind, i.version, i.rule;  -- every column: ties never reorder between runs

-- due_program: what waits on the root program at as_of (METRICS.md §10 D7): open bugs whose CA requested closure
-- (closure summary, or from v3.1 a needinfo to incident-reporting@ccadb.org) and that are not closed yet.
-- Grain: bug (its current request). days_waiting = as_of - since, in days; oldest first.
CREATE OR REPLACE VIEW due_program AS
SELECT b.bug_id, b.ca, b.summary, b.status_at AS status, d.label AS what, CAST(d.arises_at AS DATE) AS since,
       round(date_diff('second', d.arises_at, p.as_of) / 86400.0, 1) AS days_waiting, d.detail, d.kind, d.version,
       d.source AS rule
FROM duties d JOIN metric_bugs b USING (bug_id) CROSS JOIN metric_params p
WHERE d.kind = 'closure_requested' AND d.state = 'pending' AND b.is_open
ORDER BY days_waiting DESC, b.bug_id, d.detail, d.kind, d.version;
