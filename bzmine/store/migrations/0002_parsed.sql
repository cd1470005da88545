-- Parsed layer: rebuilt by `bzmine parse` from the raw tables, never edited by hand.
CREATE TABLE incidents (
    bug_id           BIGINT PRIMARY KEY,
    ca_raw           VARCHAR,        -- summary prefix before the first colon, as written
    ca_key           VARCHAR,        -- folded comparison key
    ca_alias         VARCHAR,        -- canonical name from the alias table, if listed there
    ca               VARCHAR,        -- normalised CA name: ca_alias, else the most used spelling of ca_key
    title            VARCHAR,        -- summary after the colon
    summary          VARCHAR,
    tags             VARCHAR[],
    whiteboard_text  VARCHAR,        -- free text left after tags and dates
    next_update      DATE,
    close_on         DATE,
    opened_at        TIMESTAMP,
    closed_at        TIMESTAMP,      -- latest closing transition, if closed now
    status           VARCHAR,
    resolution       VARCHAR,
    is_open          BOOLEAN,
    product          VARCHAR,
    is_visible       BOOLEAN,
    parser_version   INTEGER NOT NULL
);

CREATE TABLE reports (
    bug_id           BIGINT NOT NULL,
    comment_id       BIGINT NOT NULL,
    report_no        INTEGER NOT NULL,  -- position within the comment
    kind             VARCHAR NOT NULL,  -- seven_questions | v2_full | preliminary | v3_full | closure | audit
    is_full          BOOLEAN NOT NULL,  -- a full report in the sense of METRICS.md §3
    posted_at        TIMESTAMP NOT NULL,
    author           VARCHAR,
    disclosure_source      VARCHAR,
    disclosure_source_norm VARCHAR,     -- self | third_party | audit | other
    ccadb_owner_id   VARCHAR,
    total_certificates     BIGINT,
    remaining_valid_certificates BIGINT,
    issuance_stopped BOOLEAN,
    fields           JSON,
    answers          JSON,
    parser_version   INTEGER NOT NULL,
    PRIMARY KEY (comment_id, report_no)
);

CREATE TABLE report_sections (
    bug_id      BIGINT NOT NULL,
    comment_id  BIGINT NOT NULL,
    report_no   INTEGER NOT NULL,
    section     VARCHAR NOT NULL,
    text        VARCHAR,
    parser_version INTEGER NOT NULL
);

CREATE TABLE action_items (
    bug_id      BIGINT NOT NULL,
    comment_id  BIGINT NOT NULL,
    report_no   INTEGER NOT NULL,  -- -1: a table outside any report
    item_no     INTEGER NOT NULL,
    posted_at   TIMESTAMP NOT NULL,
    author      VARCHAR,
    action      VARCHAR,
    kind        VARCHAR,
    root_causes VARCHAR,
    evaluation_criteria VARCHAR,
    due_raw     VARCHAR,
    due_date    DATE,
    status_raw  VARCHAR,
    status      VARCHAR NOT NULL,  -- complete | ongoing | delayed | canceled | unknown
    parser_version INTEGER NOT NULL
);

CREATE TABLE timeline_events (
    bug_id      BIGINT NOT NULL,
    comment_id  BIGINT NOT NULL,
    report_no   INTEGER NOT NULL,
    event_no    INTEGER NOT NULL,
    event_at    TIMESTAMP,
    at_raw      VARCHAR,
    text        VARCHAR,
    parser_version INTEGER NOT NULL
);

CREATE TABLE related_incidents (
    bug_id      BIGINT NOT NULL,
    comment_id  BIGINT NOT NULL,
    report_no   INTEGER NOT NULL,
    related_bug_id BIGINT NOT NULL,
    opened_date DATE,
    description VARCHAR,
    parser_version INTEGER NOT NULL
);

CREATE TABLE bug_refs (
    bug_id      BIGINT NOT NULL,
    comment_id  BIGINT NOT NULL,
    ref_bug_id  BIGINT NOT NULL,
    parser_version INTEGER NOT NULL
);

CREATE TABLE parse_failures (
    bug_id      BIGINT NOT NULL,
    comment_id  BIGINT,
    reason      VARCHAR NOT NULL,
    parser_version INTEGER NOT NULL
);

CREATE TABLE whiteboard_changes (
    bug_id      BIGINT NOT NULL,
    changed_at  TIMESTAMP NOT NULL,
    who         VARCHAR,
    whiteboard  VARCHAR,
    tags        VARCHAR[],
    next_update DATE,
    close_on    DATE,
    parser_version INTEGER NOT NULL
);

CREATE TABLE parse_state (
    key    VARCHAR PRIMARY KEY,   -- parsed_at | parser_version
    value  VARCHAR NOT NULL
);
