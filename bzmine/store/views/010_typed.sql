-- Typed views over the raw layer: columns pulled out of Bugzilla's JSON, cast, unnested. No business rules.

-- bugs: one row per harvested bug (visible or not). Grain: bug.
CREATE OR REPLACE VIEW bugs AS
SELECT
    bug_id,
    data->>'summary'                              AS summary,
    data->>'whiteboard'                           AS whiteboard,
    data->>'product'                              AS product,
    data->>'component'                            AS component,
    data->>'status'                               AS status,
    data->>'resolution'                           AS resolution,
    CAST(data->>'is_open' AS BOOLEAN)             AS is_open,
    data->>'creator'                              AS creator,
    data->>'assigned_to'                          AS assigned_to,
    CAST(replace(data->>'creation_time', 'Z', '') AS TIMESTAMP) AS created_at,
    last_change_time                              AS last_change_at,
    json_array_length(data->'groups') > 0         AS is_private,
    is_visible,
    CAST(data->>'comment_count' AS INTEGER)       AS comment_count,
    fetched_at
FROM raw_bugs;

-- comments: one row per comment. `text` is what Bugzilla shows (raw_text without special text when present).
CREATE OR REPLACE VIEW comments AS
SELECT
    comment_id,
    bug_id,
    count,
    coalesce(data->>'creator', data->>'author')   AS author,
    created_at,
    coalesce(data->>'raw_text', data->>'text')    AS text,
    CAST(data->>'is_private' AS BOOLEAN)          AS is_private
FROM raw_comments;

-- history: one row per changed field of a history entry.
CREATE OR REPLACE VIEW history AS
SELECT
    h.bug_id,
    h.seq,
    h.changed_at,
    h.who,
    c.ord - 1                                     AS change_no,
    c.change->>'field_name'                       AS field_name,
    c.change->>'removed'                          AS removed,
    c.change->>'added'                            AS added
FROM raw_history h,
     unnest(CAST(h.data->'changes' AS JSON[])) WITH ORDINALITY AS c(change, ord);

-- flags: the bug's current flags (needinfo requests that are open now are name='needinfo', status='?').
CREATE OR REPLACE VIEW flags AS
SELECT
    b.bug_id,
    CAST(f.flag->>'id' AS BIGINT)                 AS flag_id,
    f.flag->>'name'                               AS name,
    f.flag->>'status'                             AS status,
    f.flag->>'setter'                             AS setter,
    f.flag->>'requestee'                          AS requestee,
    CAST(replace(f.flag->>'creation_date', 'Z', '') AS TIMESTAMP)     AS created_at,
    CAST(replace(f.flag->>'modification_date', 'Z', '') AS TIMESTAMP) AS modified_at
FROM raw_bugs b,
     unnest(CAST(b.data->'flags' AS JSON[])) AS f(flag);
