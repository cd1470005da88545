-- metric_status_timeline: per bug, the status in force from each instant on (all changes stamped at one
-- second applied together, P0) and the open-period number (closings + reopenings so far). Without any status
-- change in history, a bug closed now with a cf_last_resolved is open until then and closed from then on.
CREATE OR REPLACE VIEW metric_status_timeline AS
-- A change's order as one integer ((changed_at,) seq, change_no: small non-negative integers), the order of the struct
-- and cheaper to compare.
WITH per_second AS (
    SELECT bug_id, changed_at AS valid_from, arg_max(added, (CAST(seq AS BIGINT) << 32) + change_no) AS status,
           sum(CAST(is_closing OR is_reopening AS INTEGER)) AS transitions
    FROM metric_status_changes GROUP BY bug_id, changed_at
), first_status AS (
    SELECT bug_id, arg_min(removed, (epoch_us(changed_at)::HUGEINT << 64) + (seq::HUGEINT << 32) + change_no) AS status
    FROM history_changes WHERE field_name = 'status' GROUP BY bug_id
), initial AS (
    -- no status history but a cf_last_resolved: open from the start, closed at cf_last_resolved (partial history)
    SELECT b.bug_id, TIMESTAMP '1970-01-01' AS valid_from,
           CASE WHEN f.status IS NULL AND i.status IN ('RESOLVED', 'VERIFIED', 'CLOSED') AND i.resolved_at IS NOT NULL
                THEN 'NEW' ELSE coalesce(f.status, i.status) END AS status, 0 AS transitions
    FROM metric_bugs b JOIN incidents i USING (bug_id) LEFT JOIN first_status f USING (bug_id)
), fallback_close AS (
    SELECT i.bug_id, i.resolved_at AS valid_from, i.status, 1 AS transitions
    FROM metric_bugs b JOIN incidents i USING (bug_id) CROSS JOIN metric_params p
    WHERE i.status IN ('RESOLVED', 'VERIFIED', 'CLOSED') AND i.resolved_at <= p.as_of
      AND i.bug_id NOT IN (SELECT bug_id FROM first_status)
)
SELECT bug_id, valid_from, status, status NOT IN ('RESOLVED', 'VERIFIED', 'CLOSED') AS is_open,
       sum(transitions) OVER (PARTITION BY bug_id ORDER BY valid_from) AS period_no
FROM (SELECT * FROM initial UNION ALL SELECT * FROM per_second UNION ALL SELECT * FROM fallback_close);

-- metric_comments: comments at or before as_of with the author's role and the bug's state at that second.
CREATE OR REPLACE VIEW metric_comments AS
-- The state in force at a comment is the timeline row whose [valid_from, next valid_from) holds it: a hash join on
-- the bug with a range check, which gives what an as-of join gives (a bug's valid_from values are distinct, and its
-- first row starts in 1970) at two thirds of its cost.
SELECT c.bug_id, c.comment_id, c.count, c.created_at, c.author,
       coalesce(r.role, 'community') AS role, s.is_open AS open_at, s.period_no
FROM comment_meta c
JOIN metric_bugs b USING (bug_id)
CROSS JOIN metric_params p
LEFT JOIN roles r ON r.bug_id = c.bug_id AND r.account = c.author
LEFT JOIN (SELECT *, lead(valid_from) OVER (PARTITION BY bug_id ORDER BY valid_from) AS valid_to
           FROM metric_status_timeline) s
       ON s.bug_id = c.bug_id AND c.created_at >= s.valid_from AND (s.valid_to IS NULL OR c.created_at < s.valid_to)
WHERE c.created_at <= p.as_of;

-- response_events: every request that waits for the CA (METRICS.md §4, P5). Grain: one request.
--   question: a comment by a root_program or community account while the bug is open (a comment stamped
--             at the second of a closing is not one). Consecutive questions with no ca comment between them,
--             in one open period, form one request asked at the first of them.
--   needinfo: a flagtypes.name change that adds needinfo?(X) with X a ca account (several at once: one request).
-- answered_at: the first later ca comment (for a needinfo also the removal of needinfo?(X) by a ca account),
--   at or before the next closing (a ca comment stamped with the closing counts). Else the request is
--   closed_unanswered at that closing, or pending at as_of. Hours: response_hours for answered requests,
--   wait_hours for every state (answered: response; pending: as_of - asked; closed_unanswered: closing - asked).
--   breach_7d = wait_hours > 168.
CREATE OR REPLACE VIEW response_events AS
-- Consecutive questions with no ca comment between them are the questions whose next ca comment (by comment number)
-- is the same one, and that comment is their answer: one as-of join finds it for every question (no running count
-- of ca comments over every comment, which cost twice as much).
WITH ca_comments AS (
    SELECT bug_id, count, created_at, author FROM metric_comments WHERE role = 'ca'
), asks AS (
    SELECT c.bug_id, c.period_no, c.count, c.created_at, c.author, c.role,
           a.count AS next_ca, a.created_at AS next_ca_at, a.author AS next_ca_by
    FROM (SELECT * FROM metric_comments WHERE role IN ('root_program', 'community') AND open_at) c
    ASOF LEFT JOIN ca_comments a ON a.bug_id = c.bug_id AND c.count < a.count
), questions AS (
    SELECT bug_id, min(created_at) AS asked_at, arg_min(author, count) AS asked_by, arg_min(role, count) AS asker_role,
           any_value(next_ca_at) AS ca_answer_at, any_value(next_ca_by) AS ca_answer_by
    FROM asks
    GROUP BY bug_id, period_no, next_ca
), closings AS (
    SELECT bug_id, changed_at FROM metric_status_changes WHERE is_closing
    UNION ALL  -- partial history: the closing cf_last_resolved stands for (metric_bugs.closed_at)
    SELECT bug_id, closed_at FROM metric_bugs
    WHERE closed_at IS NOT NULL AND bug_id NOT IN (SELECT bug_id FROM metric_status_changes WHERE is_closing)
), q AS (
    SELECT qs.bug_id, 'question' AS kind, qs.asked_at, qs.asked_by, qs.asker_role, qs.ca_answer_at, qs.ca_answer_by,
           CAST(NULL AS TIMESTAMP) AS clear_at, CAST(NULL AS VARCHAR) AS clear_by
    FROM questions qs
), ni_set AS (
    SELECT h.bug_id, h.seq, h.change_no, h.changed_at AS asked_at, lower(h.who) AS asked_by,
           regexp_extract_all(lower(h.added), 'needinfo\?\(([^)]*)\)', 1) AS requestees
    FROM history_changes h JOIN metric_bugs b USING (bug_id) CROSS JOIN metric_params p
    WHERE h.field_name = 'flagtypes.name' AND h.changed_at <= p.as_of AND h.added LIKE '%needinfo?(%'
), ni AS (
    -- unnest in a projection, not a lateral join: the same rows without a dependent join over roles
    SELECT n.bug_id, n.asked_at, n.asked_by, n.seq, n.change_no,
           list(DISTINCT r.account) AS ca_requestees
    FROM (SELECT *, unnest(requestees) AS requestee FROM ni_set) n
    JOIN roles r ON r.bug_id = n.bug_id AND r.account = n.requestee AND r.role = 'ca'
    GROUP BY ALL
), ni_clears AS (
    SELECT h.bug_id, h.changed_at, h.who, lower(h.x) AS requestee
    FROM (SELECT h.bug_id, h.changed_at, h.who, unnest(regexp_extract_all(h.removed, 'needinfo\?\(([^)]*)\)', 1)) AS x
          FROM history_changes h CROSS JOIN metric_params p
          WHERE h.field_name = 'flagtypes.name' AND h.changed_at <= p.as_of AND h.removed LIKE '%needinfo?(%') h
    JOIN roles r ON r.bug_id = h.bug_id AND r.account = h.who AND r.role = 'ca'
), clear_first AS (
    SELECT ni.bug_id, ni.seq, ni.change_no, min(x.changed_at) AS clear_at, arg_min(x.who, x.changed_at) AS clear_by
    FROM ni JOIN ni_clears x ON x.bug_id = ni.bug_id AND x.changed_at > ni.asked_at AND list_contains(ni.ca_requestees, x.requestee)
    GROUP BY ALL
), ca_first AS (
    -- the first ca comment after each needinfo (a bug's comments have distinct times), as clear_first: the needinfos
    -- are few, and an as-of join sorted every ca comment for them
    SELECT ni.bug_id, ni.seq, ni.change_no, min(c.created_at) AS created_at, arg_min(c.author, c.created_at) AS author
    FROM ni JOIN ca_comments c ON c.bug_id = ni.bug_id AND c.created_at > ni.asked_at
    GROUP BY ALL
), n AS (
    SELECT ni.bug_id, 'needinfo' AS kind, ni.asked_at, ni.asked_by, coalesce(ar.role, 'community') AS asker_role,
           c.created_at AS ca_answer_at, c.author AS ca_answer_by, cf.clear_at, cf.clear_by
    FROM ni
    LEFT JOIN roles ar ON ar.bug_id = ni.bug_id AND ar.account = ni.asked_by
    LEFT JOIN clear_first cf ON cf.bug_id = ni.bug_id AND cf.seq = ni.seq AND cf.change_no = ni.change_no
    LEFT JOIN ca_first c ON c.bug_id = ni.bug_id AND c.seq = ni.seq AND c.change_no = ni.change_no
), reqs AS (
    -- the next closing after each request, of both kinds: the first of the bug's closings (a short sorted list, one
    -- per bug, joined by bug) later than the request, which is what an as-of join gave without sorting every request
    SELECT r.bug_id, r.kind, r.asked_at, r.asked_by, r.asker_role,
           list_filter(cl.ts, lambda t: t > r.asked_at)[1] AS next_closing,
           CASE WHEN clear_at IS NOT NULL AND (ca_answer_at IS NULL OR clear_at < ca_answer_at) THEN clear_at ELSE ca_answer_at END AS first_answer_at,
           CASE WHEN clear_at IS NOT NULL AND (ca_answer_at IS NULL OR clear_at < ca_answer_at) THEN clear_by ELSE ca_answer_by END AS first_answer_by
    FROM (SELECT * FROM q UNION ALL SELECT * FROM n) r
    LEFT JOIN (SELECT bug_id, list(changed_at ORDER BY changed_at) AS ts FROM closings GROUP BY bug_id) cl
           ON cl.bug_id = r.bug_id
), states AS (
    SELECT r.*, b.ca,
        CASE WHEN r.first_answer_at IS NOT NULL AND (r.next_closing IS NULL OR r.first_answer_at <= r.next_closing) THEN 'answered'
             WHEN r.next_closing IS NOT NULL THEN 'closed_unanswered'
             ELSE 'pending' END AS state,
        p.as_of
    FROM reqs r JOIN metric_bugs b USING (bug_id) CROSS JOIN metric_params p
)
SELECT
    bug_id, ca, kind, asked_at, asked_by, asker_role,
    CASE WHEN state = 'answered' THEN first_answer_at END AS answered_at,
    CASE WHEN state = 'answered' THEN first_answer_by END AS answered_by,
    state,
    CASE WHEN state = 'answered' THEN date_diff('second', asked_at, first_answer_at) / 3600.0 END AS response_hours,
    date_diff('second', asked_at, CASE state WHEN 'answered' THEN first_answer_at
                                             WHEN 'closed_unanswered' THEN next_closing ELSE as_of END) / 3600.0 AS wait_hours,
    date_diff('second', asked_at, CASE state WHEN 'answered' THEN first_answer_at
                                             WHEN 'closed_unanswered' THEN next_closing ELSE as_of END) > 7 * 24 * 3600 AS breach_7d
FROM states;
