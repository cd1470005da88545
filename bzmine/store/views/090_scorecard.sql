-- report_quality: share of the CA's incident reports (posted at or before as_of) with no `must` finding (report_review).
-- repeat_share: share of the CA's bugs that repeat an earlier bug of the same CA within 2 years (a shared tag other than
-- ca-compliance, or a reference to it; view `repeats`, the bugs of `recurrences`).
-- scorecard: one row per normalised CA (METRICS.md §7, P2, P5, P10) over its bugs existing at as_of, or those
-- opened in [since, until) when those variables are set. Hours are floats; medians are DuckDB `median` (the mean
-- of the two middle values), p90 is quantile_cont(0.9). Response medians use answered requests only; breaches
-- count every state. open/overdue action items count bugs open at as_of only; closed bugs with open items count
-- in closed_with_open_items (bugs). late_full_reports counts bugs evaluated (opened >= 2023-02-15) that were late.
-- next_update_obligations and missed_update_rate leave out obligations waived by a closure summary (D6).
-- Duties (view duties, METRICS.md §10): <kind>_due = the CA's duties of that kind met or missed at as_of (pending,
-- waived and closed ones are not due), <kind>_missed, <kind>_miss_rate = missed / due. duties_due / duties_missed /
-- duty_miss_rate: the same over the MUST duties D1-D5 (Next-update dates have their own figures; the SHOULD kind
-- revocation_update_should is reported, never ranked). median_disclosure_delay_hours: opening - "Non-compliance
-- identified date" on bugs the CA filed with a v3 report giving that date (D1).
CREATE OR REPLACE VIEW metric_scope AS
SELECT b.* FROM bug_metrics b CROSS JOIN metric_params p
WHERE b.ca IS NOT NULL
  AND (p.since IS NULL OR b.opened_at >= CAST(p.since AS TIMESTAMP))
  AND (p.until IS NULL OR b.opened_at < CAST(p.until AS TIMESTAMP));

CREATE OR REPLACE VIEW scorecard AS
WITH ms AS MATERIALIZED (SELECT * FROM metric_scope), -- bound and computed once
bugs AS (
    SELECT ca, count(*) AS bugs_total, count(*) FILTER (WHERE is_open) AS bugs_open,
           avg(CAST(self_reported AS DOUBLE)) AS self_reported_share,
           median(first_ca_response_hours) AS median_first_ca_response_hours,
           quantile_cont(first_ca_response_hours, 0.9) AS p90_first_ca_response_hours,
           count(late_full_report) AS full_reports_evaluated,
           count(*) FILTER (WHERE late_full_report) AS late_full_reports,
           median(days_to_close) AS median_days_to_close, min(opened_at) AS first_opened
    FROM ms GROUP BY ca
), req AS (
    SELECT s.ca, count(*) AS requests_total,
           median(r.response_hours) AS median_response_hours,
           quantile_cont(r.response_hours, 0.9) AS p90_response_hours,
           count(*) FILTER (WHERE r.breach_7d) AS breaches_7d,
           count(*) FILTER (WHERE r.state = 'pending') AS pending_requests,
           count(*) FILTER (WHERE r.state = 'pending' AND r.kind = 'needinfo') AS open_needinfos
    FROM response_events r JOIN ms s USING (bug_id) GROUP BY s.ca
), obl AS (
    SELECT s.ca, count(*) FILTER (WHERE o.state <> 'waived') AS next_update_obligations,
           count(*) FILTER (WHERE o.state = 'missed') AS next_updates_missed
    FROM update_obligations o JOIN ms s USING (bug_id) GROUP BY s.ca
), duty AS (
    SELECT s.ca,
           count(*) FILTER (WHERE d.state IN ('met', 'missed') AND d.strength = 'MUST' AND d.code LIKE 'D%') AS duties_due,
           count(*) FILTER (WHERE d.state = 'missed' AND d.strength = 'MUST' AND d.code LIKE 'D%') AS duties_missed,
           count(*) FILTER (WHERE d.state IN ('met', 'missed') AND d.kind = 'initial_disclosure') AS initial_disclosure_due,
           count(*) FILTER (WHERE d.state = 'missed' AND d.kind = 'initial_disclosure') AS initial_disclosure_missed,
           count(*) FILTER (WHERE d.state IN ('met', 'missed') AND d.kind = 'full_report') AS full_report_due,
           count(*) FILTER (WHERE d.state = 'missed' AND d.kind = 'full_report') AS full_report_missed,
           count(*) FILTER (WHERE d.state IN ('met', 'missed') AND d.kind = 'routine_update') AS routine_update_due,
           count(*) FILTER (WHERE d.state = 'missed' AND d.kind = 'routine_update') AS routine_update_missed,
           count(*) FILTER (WHERE d.state IN ('met', 'missed') AND d.kind = 'action_item_update') AS action_item_update_due,
           count(*) FILTER (WHERE d.state = 'missed' AND d.kind = 'action_item_update') AS action_item_update_missed,
           count(*) FILTER (WHERE d.state IN ('met', 'missed') AND d.kind = 'revocation_update') AS revocation_update_due,
           count(*) FILTER (WHERE d.state = 'missed' AND d.kind = 'revocation_update') AS revocation_update_missed,
           count(*) FILTER (WHERE d.state IN ('met', 'missed') AND d.kind = 'revocation_update_should') AS revocation_update_should_due,
           count(*) FILTER (WHERE d.state = 'missed' AND d.kind = 'revocation_update_should') AS revocation_update_should_missed,
           median(d.disclosure_delay_hours) AS median_disclosure_delay_hours
    FROM duties d JOIN ms s USING (bug_id) WHERE d.owed_by = 'ca' GROUP BY s.ca
), rep AS (
    SELECT s.ca, count(*) AS repeat_bugs
    FROM repeats r JOIN ms s USING (bug_id) GROUP BY s.ca
), rq AS (
    SELECT s.ca, count(*) AS reports_reviewed, avg(CAST(q.clean AS DOUBLE)) AS report_quality
    FROM report_review q JOIN ms s USING (bug_id) GROUP BY s.ca
), items AS (
    SELECT s.ca,
           count(*) FILTER (WHERE a.is_open AND s.is_open) AS open_action_items,
           count(*) FILTER (WHERE a.is_overdue AND s.is_open) AS overdue_action_items,
           count(*) FILTER (WHERE a.status = 'unknown') AS unknown_status_items,
           count(DISTINCT a.bug_id) FILTER (WHERE a.is_open AND NOT s.is_open) AS closed_with_open_items
    FROM metric_current_items a JOIN ms s USING (bug_id) GROUP BY s.ca
)
SELECT
    b.ca, b.bugs_total, b.bugs_open, b.self_reported_share,
    b.median_first_ca_response_hours, b.p90_first_ca_response_hours,
    r.median_response_hours, r.p90_response_hours,
    coalesce(r.requests_total, 0) AS requests_total, coalesce(r.breaches_7d, 0) AS breaches_7d,
    CASE WHEN r.requests_total > 0 THEN r.breaches_7d / r.requests_total END AS breach_rate,
    coalesce(r.pending_requests, 0) AS pending_requests, coalesce(r.open_needinfos, 0) AS open_needinfos,
    coalesce(o.next_update_obligations, 0) AS next_update_obligations, coalesce(o.next_updates_missed, 0) AS next_updates_missed,
    b.full_reports_evaluated, b.late_full_reports,
    coalesce(i.open_action_items, 0) AS open_action_items, coalesce(i.overdue_action_items, 0) AS overdue_action_items,
    coalesce(i.unknown_status_items, 0) AS unknown_status_items, coalesce(i.closed_with_open_items, 0) AS closed_with_open_items,
    b.median_days_to_close,
    CASE WHEN o.next_update_obligations > 0 THEN o.next_updates_missed / o.next_update_obligations END AS missed_update_rate,
    CASE WHEN b.full_reports_evaluated > 0 THEN b.late_full_reports / b.full_reports_evaluated END AS late_full_report_rate,
    CASE WHEN b.bugs_open > 0 THEN coalesce(i.overdue_action_items, 0) / b.bugs_open END AS overdue_items_per_open_bug,
    b.bugs_total / greatest(1.0, date_diff('day', b.first_opened, (SELECT as_of FROM metric_params)) / 365.25) AS bugs_per_year,
    coalesce(rp.repeat_bugs, 0) / b.bugs_total AS repeat_share,
    coalesce(rq.reports_reviewed, 0) AS reports_reviewed, rq.report_quality,
    coalesce(d.duties_due, 0) AS duties_due, coalesce(d.duties_missed, 0) AS duties_missed,
    CASE WHEN d.duties_due > 0 THEN d.duties_missed / d.duties_due END AS duty_miss_rate,
    coalesce(d.initial_disclosure_due, 0) AS initial_disclosure_due, coalesce(d.initial_disclosure_missed, 0) AS initial_disclosure_missed,
    CASE WHEN d.initial_disclosure_due > 0 THEN d.initial_disclosure_missed / d.initial_disclosure_due END AS initial_disclosure_miss_rate,
    coalesce(d.full_report_due, 0) AS full_report_due, coalesce(d.full_report_missed, 0) AS full_report_missed,
    CASE WHEN d.full_report_due > 0 THEN d.full_report_missed / d.full_report_due END AS full_report_miss_rate,
    coalesce(d.routine_update_due, 0) AS routine_update_due, coalesce(d.routine_update_missed, 0) AS routine_update_missed,
    CASE WHEN d.routine_update_due > 0 THEN d.routine_update_missed / d.routine_update_due END AS routine_update_miss_rate,
    coalesce(d.action_item_update_due, 0) AS action_item_update_due, coalesce(d.action_item_update_missed, 0) AS action_item_update_missed,
    CASE WHEN d.action_item_update_due > 0 THEN d.action_item_update_missed / d.action_item_update_due END AS action_item_update_miss_rate,
    coalesce(d.revocation_update_due, 0) AS revocation_update_due, coalesce(d.revocation_update_missed, 0) AS revocation_update_missed,
    CASE WHEN d.revocation_update_due > 0 THEN d.revocation_update_missed / d.revocation_update_due END AS revocation_update_miss_rate,
    coalesce(d.revocation_update_should_due, 0) AS revocation_update_should_due, coalesce(d.revocation_update_should_missed, 0) AS revocation_update_should_missed,
    CASE WHEN d.revocation_update_should_due > 0 THEN d.revocation_update_should_missed / d.revocation_update_should_due END AS revocation_update_should_miss_rate,
    d.median_disclosure_delay_hours
FROM bugs b
LEFT JOIN req r USING (ca) LEFT JOIN obl o USING (ca) LEFT JOIN items i USING (ca) LEFT JOIN rep rp USING (ca)
LEFT JOIN rq USING (ca) LEFT JOIN duty d USING (ca);

-- scorecard_figures: every scorecard figure with its direction, unit and label, in one place (the CLI, the report and
-- the percentiles read it). direction: lower_is_better | higher_is_better | not_ranked (sizes, which say nothing
-- about quality). compact: shown in the default scorecard table.
CREATE OR REPLACE VIEW scorecard_figures AS
SELECT * FROM (VALUES
    ('bugs_total', 'not_ranked', 'bugs', 'Bugs', TRUE),
    ('bugs_open', 'not_ranked', 'bugs', 'Open bugs', TRUE),
    ('bugs_per_year', 'not_ranked', 'bugs/year', 'Bugs per year', FALSE),
    ('self_reported_share', 'higher_is_better', 'share', 'Self-reported share', TRUE),
    ('median_first_ca_response_hours', 'lower_is_better', 'hours', 'Median first CA response (h)', FALSE),
    ('p90_first_ca_response_hours', 'lower_is_better', 'hours', 'p90 first CA response (h)', FALSE),
    ('median_response_hours', 'lower_is_better', 'hours', 'Median response (h)', TRUE),
    ('p90_response_hours', 'lower_is_better', 'hours', 'p90 response (h)', FALSE),
    ('requests_total', 'not_ranked', 'requests', 'Requests', FALSE),
    ('breaches_7d', 'lower_is_better', 'requests', 'Answered after 7 days', FALSE),
    ('breach_rate', 'lower_is_better', 'share', 'Share answered after 7 days', TRUE),
    ('pending_requests', 'lower_is_better', 'requests', 'Pending requests', TRUE),
    ('open_needinfos', 'lower_is_better', 'needinfos', 'Open needinfos', FALSE),
    ('next_update_obligations', 'not_ranked', 'dates', 'Next-update dates', FALSE),
    ('next_updates_missed', 'lower_is_better', 'dates', 'Next updates missed', FALSE),
    ('missed_update_rate', 'lower_is_better', 'share', 'Share of next updates missed', TRUE),
    ('full_reports_evaluated', 'not_ranked', 'bugs', 'Full reports evaluated', FALSE),
    ('late_full_reports', 'lower_is_better', 'bugs', 'Late full reports', FALSE),
    ('late_full_report_rate', 'lower_is_better', 'share', 'Share of full reports late', TRUE),
    ('open_action_items', 'not_ranked', 'items', 'Open action items', FALSE),
    ('overdue_action_items', 'lower_is_better', 'items', 'Overdue action items', TRUE),
    ('overdue_items_per_open_bug', 'lower_is_better', 'items/bug', 'Overdue items per open bug', FALSE),
    ('unknown_status_items', 'lower_is_better', 'items', 'Items with unreadable status', FALSE),
    ('closed_with_open_items', 'lower_is_better', 'bugs', 'Closed with open items', FALSE),
    ('median_days_to_close', 'lower_is_better', 'days', 'Median days to close', TRUE),
    ('repeat_share', 'lower_is_better', 'share', 'Share repeating an earlier incident (2 y)', TRUE),
    ('reports_reviewed', 'not_ranked', 'reports', 'Incident reports reviewed', FALSE),
    ('report_quality', 'higher_is_better', 'share', 'Share of reports meeting every MUST rule', TRUE),
    ('duties_due', 'not_ranked', 'duties', 'Duties due (MUST, D1-D5)', FALSE),
    ('duties_missed', 'lower_is_better', 'duties', 'Duties missed (MUST, D1-D5)', FALSE),
    ('duty_miss_rate', 'lower_is_better', 'share', 'Share of duties missed (MUST)', TRUE),
    ('initial_disclosure_due', 'not_ranked', 'duties', 'Initial disclosures (72 h): due', FALSE),
    ('initial_disclosure_missed', 'lower_is_better', 'duties', 'Initial disclosures (72 h): missed', FALSE),
    ('initial_disclosure_miss_rate', 'lower_is_better', 'share', 'Initial disclosures (72 h): share missed', FALSE),
    ('full_report_due', 'not_ranked', 'duties', 'Full reports (14 days): due', FALSE),
    ('full_report_missed', 'lower_is_better', 'duties', 'Full reports (14 days): missed', FALSE),
    ('full_report_miss_rate', 'lower_is_better', 'share', 'Full reports (14 days): share missed', FALSE),
    ('routine_update_due', 'not_ranked', 'duties', 'Routine updates (7 days): due', FALSE),
    ('routine_update_missed', 'lower_is_better', 'duties', 'Routine updates (7 days): missed', FALSE),
    ('routine_update_miss_rate', 'lower_is_better', 'share', 'Routine updates (7 days): share missed', FALSE),
    ('action_item_update_due', 'not_ranked', 'duties', 'Action-item updates (3 days): due', FALSE),
    ('action_item_update_missed', 'lower_is_better', 'duties', 'Action-item updates (3 days): missed', FALSE),
    ('action_item_update_miss_rate', 'lower_is_better', 'share', 'Action-item updates (3 days): share missed', FALSE),
    ('revocation_update_due', 'not_ranked', 'duties', 'Revocation-delay updates (7 days): due', FALSE),
    ('revocation_update_missed', 'lower_is_better', 'duties', 'Revocation-delay updates (7 days): missed', FALSE),
    ('revocation_update_miss_rate', 'lower_is_better', 'share', 'Revocation-delay updates (7 days): share missed', FALSE),
    ('revocation_update_should_due', 'not_ranked', 'duties', 'Revocation-delay updates (3 days, SHOULD): due', FALSE),
    ('revocation_update_should_missed', 'not_ranked', 'duties', 'Revocation-delay updates (3 days, SHOULD): missed', FALSE),
    ('revocation_update_should_miss_rate', 'not_ranked', 'share', 'Revocation-delay updates (3 days, SHOULD): share missed', FALSE),
    ('median_disclosure_delay_hours', 'lower_is_better', 'hours', 'Median disclosure delay (h)', FALSE)
) AS f(figure, direction, unit, label, compact);

-- scorecard_percentiles: each figure of each CA with its percentile among peers (P10). Grain: (ca, figure).
-- Peers: CAs with at least 5 bugs and a value for the figure, the CA included. percentile =
-- 100 * (peers strictly better + 1/2 * other peers equal) / (peers - 1) (mid-ranks for ties); higher is better;
-- null for CAs with fewer than 5 bugs, for not_ranked figures, and where every peer has the same value
-- (no data to rank: e.g. no CA has any request). Better = lower or higher as scorecard_figures.direction says.
CREATE OR REPLACE VIEW scorecard_percentiles AS
WITH sc AS MATERIALIZED (SELECT *, bugs_total AS size FROM scorecard),  -- bound and computed once
long AS (  -- every figure, nulls kept (a figure without a value is "no data")
    SELECT ca, size, figure, CAST(value AS DOUBLE) AS value
    FROM sc UNPIVOT INCLUDE NULLS (value FOR figure IN (
        bugs_total, bugs_open, bugs_per_year, self_reported_share, median_first_ca_response_hours,
        p90_first_ca_response_hours, median_response_hours, p90_response_hours, requests_total,
        breaches_7d, breach_rate, pending_requests, open_needinfos,
        next_update_obligations, next_updates_missed, missed_update_rate, full_reports_evaluated,
        late_full_reports, late_full_report_rate, open_action_items, overdue_action_items,
        overdue_items_per_open_bug, unknown_status_items, closed_with_open_items, median_days_to_close,
        repeat_share, reports_reviewed, report_quality,
        duties_due, duties_missed, duty_miss_rate, initial_disclosure_due, initial_disclosure_missed, initial_disclosure_miss_rate, full_report_due, full_report_missed, full_report_miss_rate, routine_update_due, routine_update_missed, routine_update_miss_rate, action_item_update_due, action_item_update_missed, action_item_update_miss_rate, revocation_update_due, revocation_update_missed, revocation_update_miss_rate, revocation_update_should_due, revocation_update_should_missed, revocation_update_should_miss_rate, median_disclosure_delay_hours))
), scored AS (
    SELECT l.ca, l.figure, l.value, f.direction, f.unit, f.label,
           l.size >= 5 AND l.value IS NOT NULL AS is_peer,
           l.value * CASE f.direction WHEN 'higher_is_better' THEN 1 WHEN 'lower_is_better' THEN -1 END AS score
    FROM long l JOIN scorecard_figures f USING (figure)
), spread AS (
    SELECT figure, median(value) AS peer_median, count(score) AS n, min(score) < max(score) AS differs
    FROM scored WHERE is_peer GROUP BY figure
), ranked AS (
    SELECT *,
           rank() OVER (PARTITION BY figure, is_peer AND score IS NOT NULL ORDER BY score) - 1 AS below,
           count(*) OVER (PARTITION BY figure, is_peer AND score IS NOT NULL, score) AS equal
    FROM scored
)
SELECT
    r.ca, r.figure, r.value, sp.peer_median,
    CASE WHEN r.is_peer AND r.score IS NOT NULL AND sp.n > 1 AND sp.differs THEN
        100.0 * (r.below + 0.5 * (r.equal - 1)) / (sp.n - 1)
    END AS percentile,
    r.direction, r.unit, r.label
FROM ranked r LEFT JOIN spread sp USING (figure);
