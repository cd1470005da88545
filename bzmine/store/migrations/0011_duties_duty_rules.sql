-- Duty rules by guideline version (bzmine/data/duty_rules.json, expanded to one row per duty kind and version in
-- force; read by the duties view). valid_from/valid_until: the version's dates ([from, until), until = the next
-- version's date); version null: before the first CCADB version (valid_from null).
CREATE TABLE config_duty_rules (
    kind        VARCHAR NOT NULL,
    code        VARCHAR NOT NULL,   -- D1..D7, NU, R
    label       VARCHAR NOT NULL,
    version     VARCHAR,
    valid_from  TIMESTAMP,
    valid_until TIMESTAMP,
    hours       INTEGER,
    strength    VARCHAR,            -- MUST | SHOULD | null (not a CA duty)
    owed_by     VARCHAR NOT NULL,   -- ca | program
    waived_by_closure BOOLEAN NOT NULL,
    source      VARCHAR NOT NULL    -- document and section, e.g. 'CCADB IRG 3.1 §Updates'
);
