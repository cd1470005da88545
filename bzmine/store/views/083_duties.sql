-- duties: what the CA owes on each incident bug under the guideline version in force when the duty arose
-- (METRICS.md §10; rules: config_duty_rules from bzmine/data/duty_rules.json). Grain: one duty. Bugs about a CA only.
-- A duty arises at arises_at (at or before as_of, while the bug is open) and falls due at due_at; it is
--   met      - fulfilled in time (fulfilment at or before due_at, and not after a closing that came first);
--   closed   - the bug closed in (arises_at, due_at] before it was fulfilled (as P4);
--   waived   - a waivable kind falling due in a closure-summary waiver (view duty_waivers, D6);
--   pending  - due_at after as_of; missed otherwise.
-- answered_late_at: the late fulfilment of a missed duty; days_late (missed) = (the late fulfilment, or the next
-- closing, or as_of, whichever comes first) - due_at, in days.
-- Kinds (each only where its rule is in force at arises_at; "later" = strictly after, P0):
--   initial_disclosure (D1): creator ca: arises at the "Non-compliance identified date" of the first report with
--       one, met by the bug's opening (disclosure_delay_hours = opened - identified); else arises at opening, met
--       by the first ca comment. Due 72 h after arising.
--   full_report (D2): arises at the initial disclosure (opening when the creator is ca, else the first ca
--       comment), met by the first full report of a ca account; due 14 days later; bugs opened before the first
--       guideline are not evaluated (P7).
--   routine_update (D3): each gap from the opening or a ca comment to the next ca comment, due 7 days after its
--       start, unless a Next-update date in force at its start has not passed, or a new one is set before it is met
--       or falls due (the Next-update obligation replaces it).
--   action_item_update (D4): an item of the current list (§6) with a due date D that is open at as_of, or that
--       the table marking it complete/canceled was posted after D: arises at D 00:00, due end of D + 3 days, met by
--       any ca comment after D 00:00.
--   revocation_update / revocation_update_should (D5): gaps as D3 (also from the time a *revocation-delay tag is
--       added) while the whiteboard carries a *revocation-delay tag at the gap's start and end: due 7 days (MUST)
--       and 3 days (SHOULD) after the start; Next-update dates do not suspend them.
--   next_update: the Next-update obligations of view update_obligations (§5, P4), superseded ones left out.
--   closure_requested (D7, owed by the program): a closure summary by a ca account, or (from v3.1) a
--       needinfo?(incident-reporting@ccadb.org), while open; one row per open period at its first request;
--       met at the next closing, pending until then; no due date.
CREATE OR REPLACE VIEW duties AS
WITH p AS (SELECT as_of FROM metric_params),
b AS MATERIALIZED (  -- bzmine_duties_open_only (set by metrics.due for its one query): open bugs only, as due lists
    SELECT m.bug_id, m.ca, m.opened_at, m.creator_role, m.first_ca_at, m.full_report_at
    FROM bug_metrics m WHERE m.ca IS NOT NULL
      AND (m.is_open OR NOT coalesce(CAST(getvariable('bzmine_duties_open_only') AS BOOLEAN), FALSE))
),
ca_c AS MATERIALIZED (SELECT c.bug_id, c.created_at FROM metric_comments c JOIN b USING (bug_id) WHERE c.role = 'ca'),
closings AS MATERIALIZED (
    SELECT bug_id, changed_at AS ts FROM metric_status_changes WHERE is_closing
    UNION
    SELECT bug_id, closed_at FROM metric_bugs WHERE closed_at IS NOT NULL
),
st AS MATERIALIZED (SELECT bug_id, valid_from, is_open, period_no FROM metric_status_timeline),
wb AS MATERIALIZED (
    SELECT w.bug_id, w.changed_at, w.next_update,
           coalesce(array_to_string(w.tags, ' '), '') LIKE '%revocation-delay%' AS rd
    FROM whiteboard_changes w JOIN b USING (bug_id) CROSS JOIN p WHERE w.changed_at <= p.as_of
),
ident AS (
    SELECT r.bug_id,
           arg_min(TRY_CAST(replace(r.fields->'noncompliance_identified'->>'at', 'Z', '') AS TIMESTAMP),
                   (r.posted_at, r.comment_id, r.report_no)) AS identified_at
    FROM reports r JOIN b USING (bug_id) CROSS JOIN p
    WHERE r.posted_at <= p.as_of
      AND TRY_CAST(replace(r.fields->'noncompliance_identified'->>'at', 'Z', '') AS TIMESTAMP) IS NOT NULL
    GROUP BY r.bug_id
),
-- gaps: every start of a D3/D5 gap: the opening, each ca comment, each time a revocation-delay tag appears
tag_added AS (
    SELECT bug_id, changed_at AS a FROM (
        SELECT *, lag(rd) OVER (PARTITION BY bug_id ORDER BY changed_at) AS prev_rd FROM wb
    ) WHERE rd AND NOT coalesce(prev_rd, FALSE)
),
anchors AS (
    SELECT bug_id, opened_at AS a, FALSE AS tag_only FROM b
    UNION ALL
    SELECT bug_id, created_at, FALSE FROM ca_c
    UNION ALL
    SELECT bug_id, a, TRUE FROM tag_added
),
anch AS (  -- collapse an anchor that is both a comment/opening and a tag addition (the grouping also drops the
           -- duplicates anchors keeps); none before D3/D5 apply
    SELECT bug_id, a, bool_and(tag_only) AS tag_only FROM anchors
    WHERE a >= (SELECT min(valid_from) FROM config_duty_rules
                WHERE kind IN ('routine_update', 'revocation_update', 'revocation_update_should'))
    GROUP BY ALL
),
gaps1 AS (
    SELECT x.bug_id, x.a, x.tag_only,
           (SELECT min(c.created_at) FROM ca_c c WHERE c.bug_id = x.bug_id AND c.created_at > x.a) AS next_ca
    FROM anch x
),
gaps2 AS (
    SELECT g.*, w.s.nu AS nu_at_start, w.s.rd AS rd_at_start
    FROM gaps1 g, LATERAL (SELECT arg_max({'nu': x.next_update, 'rd': x.rd}, x.changed_at) AS s
                           FROM wb x WHERE x.bug_id = g.bug_id AND x.changed_at <= g.a) w
),
gaps AS MATERIALIZED (
    SELECT g.*, (SELECT arg_max(s.is_open, s.valid_from) FROM st s WHERE s.bug_id = g.bug_id AND s.valid_from <= g.a)
               AS open_at_start
    FROM gaps2 g
),
d3 AS (
    SELECT g.bug_id, 'routine_update' AS kind, g.a AS arises_at, g.a + INTERVAL 168 HOUR AS due_at, g.next_ca AS fulfil_at,
           'no CA comment since ' || strftime(g.a, '%Y-%m-%d %H:%M') AS detail
    FROM gaps g
    WHERE NOT g.tag_only AND coalesce(g.open_at_start, TRUE)
      AND NOT (g.nu_at_start IS NOT NULL AND CAST(g.nu_at_start AS TIMESTAMP) + INTERVAL 86399 SECOND >= g.a)
      AND NOT EXISTS (SELECT 1 FROM update_obligations o WHERE o.bug_id = g.bug_id AND o.set_at > g.a
                      AND o.set_at <= least(g.a + INTERVAL 168 HOUR, coalesce(g.next_ca, g.a + INTERVAL 168 HOUR)))
),
d5s AS (
    SELECT g.bug_id, h.kind, h.hours, g.a, g.a + to_hours(h.hours) AS due_at, g.next_ca,
           least(g.a + to_hours(h.hours), coalesce(g.next_ca, g.a + to_hours(h.hours)), p.as_of) AS check_at
    FROM gaps g CROSS JOIN p
    CROSS JOIN (VALUES ('revocation_update', 168), ('revocation_update_should', 72)) AS h(kind, hours)
    WHERE g.rd_at_start AND coalesce(g.open_at_start, TRUE)
),
d5 AS (
    SELECT d.bug_id, d.kind, d.a AS arises_at, d.due_at, d.next_ca AS fulfil_at,
           'revocation-delay bug; no CA comment since ' || strftime(d.a, '%Y-%m-%d %H:%M') AS detail
    FROM d5s d
    WHERE coalesce((SELECT arg_max(w.rd, w.changed_at) FROM wb w WHERE w.bug_id = d.bug_id AND w.changed_at <= d.check_at),
                   FALSE)
),
d4s AS (
    SELECT a.bug_id, CAST(a.due_date AS TIMESTAMP) AS arises_at,
           CAST(a.due_date + 4 AS TIMESTAMP) - INTERVAL 1 SECOND AS due_at,
           'action item due ' || strftime(a.due_date, '%Y-%m-%d') || ': ' || coalesce(a.action, '') AS detail
    FROM metric_current_items a JOIN b USING (bug_id)
    WHERE a.due_date IS NOT NULL
      AND a.due_date >= (SELECT min(valid_from) FROM config_duty_rules WHERE kind = 'action_item_update')
      AND (a.status IN ('ongoing', 'delayed')
           OR (a.status IN ('complete', 'canceled') AND a.posted_at >= CAST(a.due_date + 1 AS TIMESTAMP)))
),
d4o AS (
    SELECT d.*, (SELECT arg_max(s.is_open, s.valid_from) FROM st s WHERE s.bug_id = d.bug_id AND s.valid_from <= d.arises_at)
               AS open_at_start
    FROM d4s d
),
d4 AS (
    SELECT d.bug_id, 'action_item_update' AS kind, d.arises_at, d.due_at,
           (SELECT min(c.created_at) FROM ca_c c WHERE c.bug_id = d.bug_id AND c.created_at > d.arises_at) AS fulfil_at,
           d.detail
    FROM d4o d
    WHERE coalesce(d.open_at_start, TRUE)
),
cand AS (
    -- D1, creator ca: disclosed by opening the bug
    SELECT b.bug_id, 'initial_disclosure' AS kind, i.identified_at AS arises_at, i.identified_at + INTERVAL 72 HOUR AS due_at,
           b.opened_at AS fulfil_at, 'non-compliance identified ' || strftime(i.identified_at, '%Y-%m-%d %H:%M') AS detail,
           date_diff('second', i.identified_at, b.opened_at) / 3600.0 AS disclosure_delay_hours
    FROM b JOIN ident i USING (bug_id) WHERE b.creator_role = 'ca'
    UNION ALL
    -- D1, filed by someone else: the CA's first word on the bug
    SELECT b.bug_id, 'initial_disclosure', b.opened_at, b.opened_at + INTERVAL 72 HOUR, b.first_ca_at,
           'filed by another party; first CA comment', NULL
    FROM b WHERE b.creator_role IS DISTINCT FROM 'ca'
    UNION ALL
    SELECT b.bug_id, 'full_report', d.ts, d.ts + INTERVAL 336 HOUR, b.full_report_at,
           'initial disclosure ' || strftime(d.ts, '%Y-%m-%d %H:%M'), NULL
    FROM b CROSS JOIN LATERAL (SELECT CASE WHEN b.creator_role = 'ca' THEN b.opened_at ELSE b.first_ca_at END AS ts) d
    WHERE d.ts IS NOT NULL
      AND b.opened_at >= (SELECT min(valid_from) FROM config_duty_rules WHERE kind = 'full_report' AND version IS NOT NULL)
    UNION ALL SELECT *, NULL FROM d3
    UNION ALL SELECT *, NULL FROM d4
    UNION ALL SELECT *, NULL FROM d5
),
ruled AS (
    SELECT c.*, r.code, r.label, r.version, r.source, r.strength, r.owed_by, r.hours, r.waived_by_closure
    FROM cand c CROSS JOIN p
    JOIN config_duty_rules r ON r.kind = c.kind
        AND (r.valid_from IS NULL OR r.valid_from <= c.arises_at) AND (r.valid_until IS NULL OR c.arises_at < r.valid_until)
    WHERE c.arises_at <= p.as_of
),
ev AS (
    SELECT r.*, (SELECT min(cl.ts) FROM closings cl WHERE cl.bug_id = r.bug_id AND cl.ts > r.arises_at) AS closing_after
    FROM ruled r
),
judged AS (
    SELECT e.*, p.as_of,
        CASE
            WHEN e.fulfil_at IS NOT NULL AND e.fulfil_at <= e.due_at
                 AND (e.closing_after IS NULL OR e.fulfil_at <= e.closing_after) THEN 'met'
            WHEN e.closing_after IS NOT NULL AND e.closing_after <= e.due_at THEN 'closed'
            WHEN e.waived_by_closure AND EXISTS (
                SELECT 1 FROM duty_waivers w WHERE w.bug_id = e.bug_id AND e.due_at > w.summary_at
                  AND (w.resumed_at IS NULL OR e.due_at < w.resumed_at)) THEN 'waived'
            WHEN e.due_at > p.as_of THEN 'pending'
            ELSE 'missed'
        END AS state
    FROM ev e CROSS JOIN p
),
ca_duties AS (
    SELECT bug_id, kind, code, label, version, source, strength, owed_by, hours, arises_at, due_at, state,
           CASE WHEN state = 'met' THEN fulfil_at END AS met_at,
           CASE WHEN state = 'missed' AND fulfil_at > due_at AND fulfil_at <= coalesce(closing_after, fulfil_at)
                THEN fulfil_at END AS answered_late_at,
           CASE WHEN state = 'missed' THEN
               date_diff('second', due_at, least(coalesce(fulfil_at, as_of), coalesce(closing_after, as_of), as_of)) / 86400.0
           END AS days_late,
           disclosure_delay_hours, detail
    FROM judged
),
nu AS (
    SELECT o.bug_id, r.kind, r.code, r.label, r.version, r.source, r.strength, r.owed_by, r.hours,
           o.set_at AS arises_at, o.end_of_d AS due_at, o.state, o.met_at, o.answered_late_at, o.days_late,
           CAST(NULL AS DOUBLE) AS disclosure_delay_hours,
           'whiteboard next update ' || strftime(o.due, '%Y-%m-%d') || ', set ' || strftime(o.set_at, '%Y-%m-%d') AS detail
    FROM update_obligations o JOIN b USING (bug_id)
    JOIN config_duty_rules r ON r.kind = 'next_update'
        AND (r.valid_from IS NULL OR r.valid_from <= o.set_at) AND (r.valid_until IS NULL OR o.set_at < r.valid_until)
    WHERE o.state <> 'superseded'
),
creq_ev AS (
    SELECT r.bug_id, r.posted_at AS ts, 'closure summary' AS how
    FROM reports r JOIN b USING (bug_id) CROSS JOIN p
    JOIN roles ro ON ro.bug_id = r.bug_id AND ro.account = lower(r.author) AND ro.role = 'ca'
    WHERE r.kind = 'closure' AND r.posted_at <= p.as_of
    UNION ALL
    -- the needinfo to the program is part of the closure process from v3.1 (the version the closure waiver starts)
    SELECT h.bug_id, h.changed_at, 'needinfo?(incident-reporting@ccadb.org)'
    FROM history_changes h JOIN b USING (bug_id) CROSS JOIN p
    WHERE h.field_name = 'flagtypes.name' AND h.changed_at <= p.as_of
      AND lower(h.added) LIKE '%needinfo?(incident-reporting@ccadb.org)%'
      AND h.changed_at >= (SELECT min(valid_from) FROM config_duty_rules WHERE kind = 'closure_waiver')
),
creq_st AS (
    SELECT e.*, x.s.is_open, x.s.period_no
    FROM creq_ev e, LATERAL (SELECT arg_max({'is_open': s.is_open, 'period_no': s.period_no}, s.valid_from) AS s
                             FROM st s WHERE s.bug_id = e.bug_id AND s.valid_from <= e.ts) x
),
creq AS (
    SELECT bug_id, min(ts) AS arises_at, arg_min(how, ts) AS how
    FROM creq_st WHERE coalesce(is_open, TRUE) GROUP BY bug_id, period_no
),
d7 AS (
    SELECT c.bug_id, r.kind, r.code, r.label, r.version, r.source, r.strength, r.owed_by, r.hours,
           c.arises_at, CAST(NULL AS TIMESTAMP) AS due_at,
           CASE WHEN c.closing IS NOT NULL THEN 'met' ELSE 'pending' END AS state, c.closing AS met_at,
           CAST(NULL AS TIMESTAMP) AS answered_late_at, CAST(NULL AS DOUBLE) AS days_late,
           CAST(NULL AS DOUBLE) AS disclosure_delay_hours, 'closure requested by ' || c.how AS detail
    FROM (SELECT q.*, (SELECT min(cl.ts) FROM closings cl WHERE cl.bug_id = q.bug_id AND cl.ts > q.arises_at) AS closing
          FROM creq q) c
    JOIN config_duty_rules r ON r.kind = 'closure_requested'
        AND r.valid_from <= c.arises_at AND (r.valid_until IS NULL OR c.arises_at < r.valid_until)
)
-- the bug's CA (b: one row per bug) is looked up and its bugs kept by a semi join, which is what joining b did, without
-- making the duty rows (wide text) the build side of a hash join
SELECT d.bug_id, (SELECT any_value(b.ca) FROM b WHERE b.bug_id = d.bug_id) AS ca, d.* EXCLUDE (bug_id)
FROM (SELECT * FROM ca_duties UNION ALL SELECT * FROM nu UNION ALL SELECT * FROM d7) d
WHERE d.bug_id IN (SELECT bug_id FROM b);
