-- hidden_bugs: the bugs nothing shared may carry unless --include-private (docs/security.md): restricted to a group
-- (private: only an API key holder sees them) or no longer visible (absent from the last sync's id listing: made
-- private since, or moved out of the bug set). Export, snapshot, report, every CLI table and notebooks read this one
-- definition (store.db.PRIVATE_ROWS, metric_bugs); where such bugs are included they are marked with `hidden`.
-- Grain: bug.
CREATE OR REPLACE VIEW hidden_bugs AS
-- is_private is stored with the bug (migration 0014); rows an older snapshot brings without it fall back to the JSON.
-- The JSON is read only for those rows: the scan then skips the `data` column (a bug's whole JSON), most of its cost.
WITH b AS (
    SELECT bug_id, is_visible, is_private AS private FROM raw_bugs WHERE is_private IS NOT NULL
    UNION ALL
    SELECT bug_id, is_visible, coalesce(json_array_length(data->'groups') > 0, FALSE) FROM raw_bugs
    WHERE is_private IS NULL
)
SELECT bug_id, CASE WHEN private THEN 'private' ELSE 'no longer visible' END AS hidden
FROM b
WHERE NOT is_visible OR private;
