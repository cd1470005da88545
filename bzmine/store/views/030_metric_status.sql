-- metric_status_changes: every status change of a bug at or before as_of, in order, with whether it
-- opens or closes the bug (METRICS.md P6). Grain: one row per status change. Closing = from an open status
-- to RESOLVED/VERIFIED/CLOSED; moves between closed statuses are not closings.
CREATE OR REPLACE VIEW metric_status_changes AS
SELECT
    h.bug_id, h.changed_at, h.seq, h.change_no, h.removed, h.added,
    h.removed NOT IN ('RESOLVED', 'VERIFIED', 'CLOSED') AND h.added IN ('RESOLVED', 'VERIFIED', 'CLOSED') AS is_closing,
    h.removed IN ('RESOLVED', 'VERIFIED', 'CLOSED') AND h.added NOT IN ('RESOLVED', 'VERIFIED', 'CLOSED') AS is_reopening
FROM history_changes h, metric_params p
WHERE h.field_name = 'status' AND h.changed_at <= p.as_of;

-- metric_bugs: bugs that exist at as_of (created at or before it), with their state at as_of.
-- Grain: bug. closed_at = the latest closing at or before as_of if the bug is closed at as_of, else null.
-- Status at as_of = the last change's added value, or the status before the first change (history), or the
-- current status when history has no status change.
CREATE OR REPLACE VIEW metric_bugs AS
WITH last_change AS (
    SELECT bug_id, arg_max(added, (changed_at, seq, change_no)) AS status_at
    FROM metric_status_changes GROUP BY bug_id
), first_change AS (
    SELECT h.bug_id, arg_min(h.removed, (h.changed_at, h.seq, h.change_no)) AS initial_status
    FROM history_changes h WHERE h.field_name = 'status' GROUP BY h.bug_id
), closings AS (
    SELECT bug_id, max(changed_at) AS last_closing FROM metric_status_changes WHERE is_closing GROUP BY bug_id
)
SELECT
    i.bug_id, i.ca, i.ca_raw, i.tags, i.opened_at, i.summary,
    coalesce(lc.status_at, fc.initial_status, i.status) AS status_at,
    coalesce(lc.status_at, fc.initial_status, i.status) NOT IN ('RESOLVED', 'VERIFIED', 'CLOSED') AS is_open,
    CASE WHEN coalesce(lc.status_at, fc.initial_status, i.status) IN ('RESOLVED', 'VERIFIED', 'CLOSED')
         THEN cl.last_closing END AS closed_at
FROM incidents i
CROSS JOIN metric_params p
LEFT JOIN last_change lc USING (bug_id)
LEFT JOIN first_change fc USING (bug_id)
LEFT JOIN closings cl USING (bug_id)
WHERE i.opened_at <= p.as_of AND i.is_visible;
