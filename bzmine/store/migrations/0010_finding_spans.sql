-- Where in the comment text each finding points: characters [span_start, span_end) (bzmine/parse/review.py finding_span).
ALTER TABLE report_findings ADD COLUMN span_start INTEGER;
ALTER TABLE report_findings ADD COLUMN span_end INTEGER;
