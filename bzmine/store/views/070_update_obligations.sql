-- update_obligations: "Next update" dates (METRICS.md §5, P4). Grain: one obligation.
-- An obligation opens when the parsed Next-update date of the whiteboard changes to a date D at set_at (an edit
-- that keeps the date starts nothing). end_of_d = D 23:59:59 UTC. In the window (set_at, end_of_d]:
--   met        - the first ca comment in the window comes first (stays met whatever follows);
--   superseded - the date changes or is removed first;
--   closed     - the bug closes first;
--   waived     - (not met, superseded or closed) end_of_d falls in a closure-summary waiver (view duty_waivers, D6);
-- otherwise: pending while end_of_d > as_of; missed once end_of_d passed with the bug open.
-- A closing is a status change to a closed status, or (history partial) the bug's closed_at from metric_bugs.
-- Ties at one second go to the CA (met). days_late (missed only) = (first ca comment after end_of_d, or the
-- closure, or as_of, whichever comes first) - end_of_d, in days; answered_late_at is that ca comment.
CREATE OR REPLACE VIEW update_obligations AS
WITH wb AS (
    SELECT w.bug_id, w.changed_at, w.next_update,
           lag(w.next_update) OVER (PARTITION BY w.bug_id ORDER BY w.changed_at) AS prev_date,
           row_number() OVER (PARTITION BY w.bug_id ORDER BY w.changed_at) AS n
    FROM whiteboard_changes w JOIN metric_bugs b USING (bug_id) CROSS JOIN metric_params p
    WHERE w.changed_at <= p.as_of
), starts AS (
    SELECT bug_id, changed_at AS set_at, next_update AS due,
           CAST(next_update AS TIMESTAMP) + INTERVAL 86399 SECOND AS end_of_d
    FROM wb WHERE next_update IS NOT NULL AND (n = 1 OR prev_date IS NULL OR prev_date <> next_update)
), changes AS (
    SELECT bug_id, changed_at FROM wb
    WHERE n > 1 AND (prev_date IS DISTINCT FROM next_update)
), ev AS (
    SELECT s.*, p.as_of,
        (SELECT min(c.created_at) FROM metric_comments c WHERE c.bug_id = s.bug_id AND c.role = 'ca'
            AND c.created_at > s.set_at AND c.created_at <= s.end_of_d) AS met_at,
        (SELECT min(x.changed_at) FROM changes x WHERE x.bug_id = s.bug_id
            AND x.changed_at > s.set_at AND x.changed_at <= s.end_of_d) AS superseded_at,
        coalesce((SELECT min(cl.changed_at) FROM metric_status_changes cl WHERE cl.bug_id = s.bug_id AND cl.is_closing
            AND cl.changed_at > s.set_at AND cl.changed_at <= s.end_of_d),
            CASE WHEN bb.closed_at > s.set_at AND bb.closed_at <= s.end_of_d THEN bb.closed_at END) AS closed_at,
        (SELECT min(c.created_at) FROM metric_comments c WHERE c.bug_id = s.bug_id AND c.role = 'ca'
            AND c.created_at > s.end_of_d) AS late_answer_at,
        coalesce((SELECT min(cl.changed_at) FROM metric_status_changes cl WHERE cl.bug_id = s.bug_id AND cl.is_closing
            AND cl.changed_at > s.end_of_d), CASE WHEN bb.closed_at > s.end_of_d THEN bb.closed_at END) AS later_closing_at
    FROM starts s CROSS JOIN metric_params p JOIN metric_bugs bb ON bb.bug_id = s.bug_id
), st AS (
    SELECT *,
        CASE
            WHEN met_at IS NOT NULL AND (superseded_at IS NULL OR met_at <= superseded_at)
                 AND (closed_at IS NULL OR met_at <= closed_at) THEN 'met'
            WHEN superseded_at IS NOT NULL AND (closed_at IS NULL OR superseded_at <= closed_at) THEN 'superseded'
            WHEN closed_at IS NOT NULL THEN 'closed'
            WHEN EXISTS (SELECT 1 FROM duty_waivers w JOIN config_duty_rules k ON k.kind = 'next_update' AND k.waived_by_closure
                         AND k.version = w.version
                         WHERE w.bug_id = ev.bug_id AND ev.end_of_d > w.summary_at
                           AND (w.resumed_at IS NULL OR ev.end_of_d < w.resumed_at)) THEN 'waived'
            WHEN end_of_d > as_of THEN 'pending'
            ELSE 'missed'
        END AS state
    FROM ev
)
SELECT
    st.bug_id, b.ca, st.set_at, st.due, st.end_of_d, st.state,
    CASE WHEN st.state = 'met' THEN st.met_at END AS met_at,
    CASE WHEN st.state = 'missed' THEN st.late_answer_at END AS answered_late_at,
    CASE WHEN st.state = 'missed' THEN
        date_diff('second', st.end_of_d, least(coalesce(st.late_answer_at, st.as_of), coalesce(st.later_closing_at, st.as_of), st.as_of)) / 86400.0
    END AS days_late
FROM st JOIN metric_bugs b USING (bug_id);

-- next_update_overdue: open bugs at as_of whose current obligation is missed and still unanswered.
CREATE OR REPLACE VIEW next_update_overdue AS
SELECT o.* EXCLUDE (latest)
FROM (SELECT *, max(set_at) OVER (PARTITION BY bug_id) AS latest FROM update_obligations) o
JOIN metric_bugs b USING (bug_id)
WHERE b.is_open AND o.state = 'missed' AND o.answered_late_at IS NULL AND o.set_at = o.latest;
