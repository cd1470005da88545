-- Who a bug is about and who speaks (METRICS.md §1-§2, docs/ca-identity.md).
ALTER TABLE incidents ADD COLUMN ca_owner VARCHAR;       -- CCADB CA owner today (owner table), else the filed name
ALTER TABLE incidents ADD COLUMN sub_ca VARCHAR;         -- "Parent / Sub: ..." -> Sub; a listed subordinate CA
ALTER TABLE incidents ADD COLUMN subject_kind VARCHAR;   -- ca | auditor | program | meta | unknown
ALTER TABLE incidents ADD COLUMN owner_status VARCHAR;   -- included | distrusted | unknown, on the day of the parse
ALTER TABLE incidents ADD COLUMN resolved_at TIMESTAMP;  -- cf_last_resolved as Bugzilla returned it
ALTER TABLE incidents ADD COLUMN is_private BOOLEAN;     -- restricted to groups (seen only with an API key)

-- Accounts as the bug's *_detail objects describe them: with e-mails hidden, the id and nick still identify them.
CREATE TABLE bug_accounts (
    bug_id      BIGINT NOT NULL,
    account     VARCHAR NOT NULL,  -- lower-cased login as the bug gives it (full address or local part)
    account_id  BIGINT,
    nick        VARCHAR,
    real_name   VARCHAR,
    parser_version INTEGER NOT NULL
);

-- Dated roles of people (bzmine/data/people.json plus the user's roles file). A row matches an account by
-- key_kind: 'account' (full login), 'nick' (Bugzilla nick, or the local part of a hidden e-mail), 'id'.
CREATE TABLE config_people (
    person      VARCHAR NOT NULL,
    key_kind    VARCHAR NOT NULL,
    key         VARCHAR NOT NULL,
    role        VARCHAR NOT NULL,  -- root_program
    program     VARCHAR,
    valid_from  DATE,              -- inclusive; null = always
    valid_to    DATE,              -- exclusive; null = still
    source      VARCHAR NOT NULL   -- builtin | user
);

-- Owner standing over time (bzmine/data/ca_owners.json plus the user's aliases file).
CREATE TABLE config_owner_status (
    owner       VARCHAR NOT NULL,
    valid_from  DATE,              -- null = from the start
    status      VARCHAR NOT NULL,  -- included | distrusted | unknown
    by_program  VARCHAR,
    note        VARCHAR,
    source      VARCHAR NOT NULL
);

-- The user's files, stored so every later parse and sync applies them (bzmine config).
CREATE TABLE config_files (
    name        VARCHAR PRIMARY KEY,  -- aliases | roles
    path        VARCHAR,
    content     VARCHAR NOT NULL,
    loaded_at   TIMESTAMP NOT NULL
);
