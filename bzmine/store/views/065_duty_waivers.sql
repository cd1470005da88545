-- duty_waivers: closure summaries that waive later duties (METRICS.md §10 D6). Grain: one Report Closure Summary.
-- A "Report Closure Summary" posted by a ca account at or before as_of, under a guideline version whose rules
-- (config_duty_rules, kind closure_waiver: v3.1 on) say a closure summary waives updates. Duties of a kind that
-- is waived_by_closure (routine, action-item and revocation-delay updates, Next-update obligations) that fall
-- due strictly after summary_at and before resumed_at are waived. resumed_at: the first request (§4, view
-- response_events) asked strictly after the summary; from then on duties count as if there were no summary.
CREATE OR REPLACE VIEW duty_waivers AS
SELECT r.bug_id, r.comment_id, r.posted_at AS summary_at, d.version, d.source,
       (SELECT min(e.asked_at) FROM response_events e WHERE e.bug_id = r.bug_id AND e.asked_at > r.posted_at) AS resumed_at
FROM reports r
JOIN metric_bugs b USING (bug_id)
JOIN roles ro ON ro.bug_id = r.bug_id AND ro.account = lower(r.author) AND ro.role = 'ca'
CROSS JOIN metric_params p
JOIN config_duty_rules d ON d.kind = 'closure_waiver' AND d.valid_from <= r.posted_at
     AND (d.valid_until IS NULL OR r.posted_at < d.valid_until)
WHERE r.kind = 'closure' AND r.posted_at <= p.as_of;
