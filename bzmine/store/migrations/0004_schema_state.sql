-- Fingerprints of what bzmine refreshes on open (view definitions, built-in account lists), so an open
-- re-creates them only when they changed.
CREATE TABLE schema_state (
    key    VARCHAR PRIMARY KEY,
    value  VARCHAR NOT NULL
);
