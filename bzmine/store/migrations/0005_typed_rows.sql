-- Typed rows written once by `bzmine parse`, so the metric views never re-read JSON at query time.
CREATE TABLE history_changes (
    bug_id      BIGINT NOT NULL,
    seq         INTEGER NOT NULL,
    change_no   INTEGER NOT NULL,
    changed_at  TIMESTAMP NOT NULL,
    who         VARCHAR,          -- lower-cased account
    field_name  VARCHAR,
    removed     VARCHAR,
    added       VARCHAR,
    parser_version INTEGER NOT NULL
);

CREATE TABLE comment_meta (
    bug_id      BIGINT NOT NULL,
    comment_id  BIGINT NOT NULL,
    count       INTEGER NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    author      VARCHAR,          -- lower-cased account
    parser_version INTEGER NOT NULL
);

ALTER TABLE incidents ADD COLUMN creator VARCHAR;
ALTER TABLE incidents ADD COLUMN assigned_to VARCHAR;
