-- scorecard: one row per normalised CA (METRICS.md §7, P2, P5, P10) over its bugs existing at as_of, or those
-- opened in [since, until) when those variables are set. Hours are floats; medians are DuckDB `median` (the mean
-- of the two middle values), p90 is quantile_cont(0.9). Response medians use answered requests only; breaches
-- count every state. open/overdue action items count bugs open at as_of only; closed bugs with open items count
-- in closed_with_open_items (bugs). late_full_reports counts bugs evaluated (opened >= 2023-02-15) that were late.
CREATE OR REPLACE VIEW metric_scope AS
SELECT b.* FROM bug_metrics b CROSS JOIN metric_params p
WHERE b.ca IS NOT NULL
  AND (p.since IS NULL OR b.opened_at >= CAST(p.since AS TIMESTAMP))
  AND (p.until IS NULL OR b.opened_at < CAST(p.until AS TIMESTAMP));

CREATE OR REPLACE VIEW scorecard AS
WITH bugs AS (
    SELECT ca, count(*) AS bugs_total, count(*) FILTER (WHERE is_open) AS bugs_open,
           avg(CAST(self_reported AS DOUBLE)) AS self_reported_share,
           median(first_ca_response_hours) AS median_first_ca_response_hours,
           quantile_cont(first_ca_response_hours, 0.9) AS p90_first_ca_response_hours,
           count(late_full_report) AS full_reports_evaluated,
           count(*) FILTER (WHERE late_full_report) AS late_full_reports,
           median(days_to_close) AS median_days_to_close
    FROM metric_scope GROUP BY ca
), req AS (
    SELECT s.ca, count(*) AS requests_total,
           median(r.response_hours) AS median_response_hours,
           quantile_cont(r.response_hours, 0.9) AS p90_response_hours,
           count(*) FILTER (WHERE r.breach_7d) AS breaches_7d,
           count(*) FILTER (WHERE r.state = 'pending') AS pending_requests,
           count(*) FILTER (WHERE r.state = 'pending' AND r.kind = 'needinfo') AS open_needinfos
    FROM response_events r JOIN metric_scope s USING (bug_id) GROUP BY s.ca
), obl AS (
    SELECT s.ca, count(*) AS next_update_obligations, count(*) FILTER (WHERE o.state = 'missed') AS next_updates_missed
    FROM update_obligations o JOIN metric_scope s USING (bug_id) GROUP BY s.ca
), items AS (
    SELECT s.ca,
           count(*) FILTER (WHERE a.is_open AND s.is_open) AS open_action_items,
           count(*) FILTER (WHERE a.is_overdue AND s.is_open) AS overdue_action_items,
           count(*) FILTER (WHERE a.status = 'unknown') AS unknown_status_items,
           count(DISTINCT a.bug_id) FILTER (WHERE a.is_open AND NOT s.is_open) AS closed_with_open_items
    FROM action_item_status a JOIN metric_scope s USING (bug_id) GROUP BY s.ca
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
    b.median_days_to_close
FROM bugs b
LEFT JOIN req r USING (ca) LEFT JOIN obl o USING (ca) LEFT JOIN items i USING (ca);

-- scorecard_percentiles: each figure of each CA with its percentile among peers (P10). Grain: (ca, figure).
-- Peers: CAs with at least 5 bugs and a value for the figure, the CA included. percentile =
-- 100 * (peers strictly better + 1/2 * other peers equal) / (peers - 1); higher is better; null for CAs with
-- fewer than 5 bugs. Better = lower for delays, counts of problems and volumes; higher for self_reported_share.
CREATE OR REPLACE VIEW scorecard_percentiles AS
WITH long AS (
    UNPIVOT (SELECT * EXCLUDE (full_reports_evaluated) FROM scorecard)
    ON COLUMNS(* EXCLUDE (ca, bugs_total)) INTO NAME figure VALUE value
), all_figures AS (
    SELECT ca, figure, CAST(value AS DOUBLE) AS value FROM long
    UNION ALL SELECT ca, 'bugs_total', CAST(bugs_total AS DOUBLE) FROM scorecard
), dir AS (
    SELECT figure, CASE WHEN figure = 'self_reported_share' THEN 1 ELSE -1 END AS sign FROM (SELECT DISTINCT figure FROM all_figures)
), peers AS (
    SELECT f.ca, f.figure, f.value * d.sign AS score FROM all_figures f JOIN dir d USING (figure)
    JOIN scorecard s USING (ca) WHERE s.bugs_total >= 5 AND f.value IS NOT NULL
)
SELECT
    f.ca, f.figure, f.value,
    (SELECT median(p2.score * d.sign) FROM peers p2 WHERE p2.figure = f.figure) AS peer_median,
    CASE WHEN p.ca IS NOT NULL AND (SELECT count(*) FROM peers p2 WHERE p2.figure = f.figure) > 1 THEN
        100.0 * ((SELECT count(*) FROM peers p2 WHERE p2.figure = f.figure AND p2.score < p.score)
                 + 0.5 * ((SELECT count(*) FROM peers p2 WHERE p2.figure = f.figure AND p2.score = p.score) - 1))
        / ((SELECT count(*) FROM peers p2 WHERE p2.figure = f.figure) - 1)
    END AS percentile
FROM all_figures f JOIN dir d USING (figure)
LEFT JOIN peers p ON p.ca = f.ca AND p.figure = f.figure;
