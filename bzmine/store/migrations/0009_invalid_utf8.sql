-- Answers whose invalid UTF-8 bytes were replaced with U+FFFD during a run (counted, never a failure).
ALTER TABLE sync_runs ADD COLUMN invalid_utf8 INTEGER DEFAULT 0;
