-- Account lists that decide roles (METRICS.md §1): built-in rows come from bzmine/data/accounts.json and are
-- refreshed on every read-write open; user rows come from `bzmine parse --roles FILE`.
CREATE TABLE config_accounts (
    account  VARCHAR NOT NULL,
    role     VARCHAR NOT NULL,   -- root_program | bot | placeholder | ca
    ca       VARCHAR,            -- for role 'ca': the CA (normalised name) the account speaks for
    source   VARCHAR NOT NULL    -- builtin | user
);

CREATE TABLE config_domains (
    domain   VARCHAR NOT NULL,
    kind     VARCHAR NOT NULL,   -- root_program | freemail
    source   VARCHAR NOT NULL
);
