-- Raw layer: what Bugzilla returned, verbatim JSON plus key columns. Only sync writes here.
CREATE TABLE raw_bugs (
    bug_id           BIGINT PRIMARY KEY,
    last_change_time TIMESTAMP NOT NULL,   -- UTC, from the bug object
    is_visible       BOOLEAN NOT NULL DEFAULT TRUE,  -- false: left the bug set or became private (never deleted)
    invisible_since  TIMESTAMP,
    fetched_at       TIMESTAMP NOT NULL,
    run_id           BIGINT NOT NULL,
    data             JSON NOT NULL          -- the bug object without comments/history (flags included)
);

CREATE TABLE raw_comments (
    comment_id  BIGINT PRIMARY KEY,
    bug_id      BIGINT NOT NULL,
    count       INTEGER NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    run_id      BIGINT NOT NULL,
    data        JSON NOT NULL
);
CREATE INDEX raw_comments_bug ON raw_comments (bug_id);

CREATE TABLE raw_history (
    bug_id      BIGINT NOT NULL,
    seq         INTEGER NOT NULL,   -- position in Bugzilla's (oldest first) list
    changed_at  TIMESTAMP NOT NULL,
    who         VARCHAR NOT NULL,
    run_id      BIGINT NOT NULL,
    data        JSON NOT NULL,
    PRIMARY KEY (bug_id, seq)
);

CREATE TABLE sync_runs (
    run_id          BIGINT PRIMARY KEY,
    started_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP,
    status          VARCHAR NOT NULL,   -- running | ok | failed | interrupted
    mode            VARCHAR NOT NULL,   -- full | incremental
    url             VARCHAR NOT NULL,
    query           JSON NOT NULL,
    since           TIMESTAMP,          -- last_change_time lower bound asked for (null: everything)
    watermark       TIMESTAMP,          -- server db_time at the start of the run
    bugs_listed     INTEGER DEFAULT 0,
    bugs_new        INTEGER DEFAULT 0,
    bugs_changed    INTEGER DEFAULT 0,
    bugs_unchanged  INTEGER DEFAULT 0,
    bugs_invisible  INTEGER DEFAULT 0,
    bugs_skipped    INTEGER DEFAULT 0,
    requests        INTEGER DEFAULT 0,
    error           VARCHAR
);

CREATE TABLE sync_state (
    key    VARCHAR PRIMARY KEY,   -- watermark | last_reconcile_at
    value  VARCHAR NOT NULL
);

CREATE TABLE sync_skipped (
    bug_id   BIGINT PRIMARY KEY,
    run_id   BIGINT NOT NULL,
    skipped_at TIMESTAMP NOT NULL,
    reason   VARCHAR NOT NULL
);
