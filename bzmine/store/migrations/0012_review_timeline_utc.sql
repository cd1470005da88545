-- Timeline times in UTC (METRICS.md §10, "Timeline times"; bzmine/parse/dates.py): how each event's time was read.
ALTER TABLE timeline_events ADD COLUMN zone VARCHAR;               -- declared zone as written (entry's own, else the blanket line's); NULL: none
ALTER TABLE timeline_events ADD COLUMN utc_offset_minutes INTEGER; -- offset applied to reach UTC; NULL: none or ambiguous (CST, IST)
ALTER TABLE timeline_events ADD COLUMN zone_assumed BOOLEAN;       -- a time with no usable declared zone, kept as UTC
ALTER TABLE timeline_events ADD COLUMN date_only BOOLEAN;          -- a date with no time: event_at is midnight UTC
ALTER TABLE timeline_events ADD COLUMN planned BOOLEAN;            -- the entry says it is expected / planned (not yet happened)
-- The guideline version each report was judged by (bzmine/parse/review.py), also for reports with no finding.
ALTER TABLE reports ADD COLUMN judged_version VARCHAR;
