-- What each incident report lacks against the guidelines in force when it was posted (bzmine/parse/review.py).
CREATE TABLE report_findings (
    bug_id      BIGINT NOT NULL,
    comment_id  BIGINT NOT NULL,
    report_no   INTEGER NOT NULL,
    kind        VARCHAR NOT NULL,   -- the report's kind
    version     VARCHAR NOT NULL,   -- the guideline version it was judged by
    rule_id     VARCHAR NOT NULL,
    severity    VARCHAR NOT NULL,   -- must | should
    evidence    VARCHAR,
    parser_version INTEGER NOT NULL
);
