-- Every way a bug points at another (docs/parsing.md): text forms in comments, the structured fields Bugzilla
-- returns, and the rows of v3 "Related Incidents" tables.
ALTER TABLE bug_refs ALTER COLUMN comment_id DROP NOT NULL;  -- null for structured fields
ALTER TABLE bug_refs ADD COLUMN source VARCHAR;      -- text | field | related_table
ALTER TABLE bug_refs ADD COLUMN kind VARCHAR;        -- cites | duplicate | depends | blocks | see_also | regressed_by | related_incident
ALTER TABLE bug_refs ADD COLUMN span_start INTEGER;  -- text: where the reference is in the comment (characters)
ALTER TABLE bug_refs ADD COLUMN span_end INTEGER;
