-- Root-store operators (branch people, issue #26): companies that run a root program and may also run a CA. An
-- account of one of their domains that never speaks for the company's own CA is that program's staff on other CAs'
-- bugs (roles view, docs/ca-identity.md). One row per (domain, own CA owner); ca_owner null = the company runs no CA.
CREATE TABLE config_operators (
    domain    VARCHAR NOT NULL,
    program   VARCHAR NOT NULL,   -- Chrome | Apple | Microsoft | Mozilla | ...
    ca_owner  VARCHAR,            -- the CCADB owner of the company's own CA (owner table name), or null
    source    VARCHAR NOT NULL    -- builtin | user
);

-- Lineage (issue #26): the name whose standing a bug's subject_status follows, when the owner table gives the filed
-- name or the bug's sub-CA a standing of its own ('lineage', e.g. Symantec under DigiCert); null = the owner's.
ALTER TABLE incidents ADD COLUMN lineage_name VARCHAR;
