-- raw_bugs.is_private (branch trust): the bug is restricted to a group, as its `groups` field says, stored when the
-- bug is written so the one shareable-rows filter (view hidden_bugs) reads a column instead of every bug's JSON.
ALTER TABLE raw_bugs ADD COLUMN is_private BOOLEAN;
UPDATE raw_bugs SET is_private = coalesce(json_array_length(data->'groups') > 0, FALSE);
