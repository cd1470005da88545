-- action_item_status: each bug's current action-item list (METRICS.md §6, P2, P3). Grain: action item.
-- The current list is the latest table (at or before as_of) posted by a ca account: every row of that comment.
-- status: complete | ongoing | delayed | canceled | unknown (no Status column, or an unrecognised word).
-- is_open = status ongoing or delayed (unknown is never open); is_overdue = open and due_date < date(as_of).
-- due_date_slips: over the earlier tables of the bug (posted by ca accounts), rows whose action text matches
-- this one (case-folded, Jaro-Winkler similarity >= 0.9), in posting order: how often the due date moved later.
-- Cost: every current item is compared with every item of its bug. Texts are case-folded once per row (not once per
-- pair), and the similarity gets 0.9 as its score_cutoff, so DuckDB stops early on pairs that cannot reach it (it
-- returns 0 below the cutoff and the similarity itself at or above it, so `>= 0.9` keeps the same pairs;
-- tests/test_action_items.py compares this view with the plain all-pairs join).
CREATE OR REPLACE VIEW metric_ca_items AS
SELECT a.*
FROM action_items a
JOIN roles r ON r.bug_id = a.bug_id AND r.account = lower(a.author) AND r.role = 'ca'
CROSS JOIN metric_params p
WHERE a.posted_at <= p.as_of;

-- metric_current_items: action_item_status without due_date_slips (and with report_no): what the scorecard, duties and
-- due read. The slips compare every current item with every item of its bug, most of action_item_status' cost,
-- and none of those three reads them.
CREATE OR REPLACE VIEW metric_current_items AS
WITH latest AS (
    SELECT bug_id, arg_max(comment_id, (posted_at, comment_id)) AS comment_id FROM metric_ca_items GROUP BY bug_id
)
SELECT
    c.bug_id, b.ca, c.comment_id, c.posted_at, c.report_no, c.item_no, c.action, c.kind, c.due_raw, c.due_date,
    c.status_raw, c.status,
    c.status IN ('ongoing', 'delayed') AS is_open,
    c.status IN ('ongoing', 'delayed') AND c.due_date < CAST(p.as_of AS DATE) AS is_overdue,
    b.is_open AS bug_is_open
FROM metric_ca_items c
JOIN latest l USING (bug_id, comment_id)
JOIN metric_bugs b USING (bug_id)
CROSS JOIN metric_params p;

CREATE OR REPLACE VIEW action_item_status AS
WITH cur_text AS (
    SELECT bug_id, report_no, item_no, lower(coalesce(action, '')) AS t FROM metric_current_items
), item_text AS (
    SELECT bug_id, posted_at, comment_id, due_date, lower(coalesce(action, '')) AS t FROM metric_ca_items
), history_of AS (
    SELECT c.bug_id, c.report_no AS cur_report, c.item_no AS cur_item, h.posted_at, h.due_date,
           lag(h.due_date) OVER (PARTITION BY c.bug_id, c.report_no, c.item_no ORDER BY h.posted_at, h.comment_id) AS prev_due
    FROM cur_text c
    JOIN item_text h ON h.bug_id = c.bug_id AND jaro_winkler_similarity(h.t, c.t, 0.9) >= 0.9
), slips AS (
    SELECT bug_id, cur_report, cur_item, count(*) FILTER (WHERE due_date > prev_due) AS due_date_slips
    FROM history_of GROUP BY ALL
)
SELECT c.* EXCLUDE (report_no), coalesce(s.due_date_slips, 0) AS due_date_slips
FROM metric_current_items c
LEFT JOIN slips s ON s.bug_id = c.bug_id AND s.cur_report = c.report_no AND s.cur_item = c.item_no;
