-- report_review: each incident report posted at or before as_of with its findings against the guidelines in force
-- when it was posted (table report_findings, bzmine/parse/review.py; docs/review.md). Grain: report.
-- clean = no `must` finding.
CREATE OR REPLACE VIEW report_review AS
SELECT r.bug_id, b.ca, r.comment_id, r.report_no, r.kind, r.posted_at,
       count(f.rule_id) FILTER (WHERE f.severity = 'must') AS must_findings,
       count(f.rule_id) FILTER (WHERE f.severity = 'should') AS should_findings,
       count(f.rule_id) FILTER (WHERE f.severity = 'must') = 0 AS clean,
       list(f.rule_id ORDER BY f.rule_id) FILTER (WHERE f.rule_id IS NOT NULL) AS rules
FROM reports r
JOIN metric_bugs b USING (bug_id)
CROSS JOIN metric_params p
LEFT JOIN report_findings f ON f.comment_id = r.comment_id AND f.report_no = r.report_no
WHERE r.posted_at <= p.as_of AND r.kind IN ('seven_questions', 'v2_full', 'preliminary', 'v3_full', 'closure')
GROUP BY ALL;
