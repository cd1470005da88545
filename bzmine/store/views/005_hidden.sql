-- hidden_bugs: the bugs nothing shared may carry unless --include-private (docs/security.md): restricted to a group
-- (private: only an API key holder sees them) or no longer visible (absent from the last sync's id listing: made
-- private since, or moved out of the bug set). Export, snapshot, report, every CLI table and notebooks read this one
-- definition (store.db.PRIVATE_ROWS, metric_bugs); where such bugs are included they are marked with `hidden`.
-- Grain: bug.
CREATE OR REPLACE VIEW hidden_bugs AS
SELECT
    bug_id,
    CASE WHEN json_array_length(data->'groups') > 0 THEN 'private' ELSE 'no longer visible' END AS hidden
FROM raw_bugs
WHERE NOT is_visible OR json_array_length(data->'groups') > 0;
