-- metric_params: the `as_of` instant every metric is computed at (METRICS.md P0).
-- Set with `SET VARIABLE as_of = TIMESTAMP '...'` (the CLI's --as-of); default: now (UTC).
-- since / until (optional, DATE) restrict the scorecard to bugs opened in [since, until).
-- grp: what a "CA" is in per-CA figures: 'owner' (the CCADB owner, default) or 'filed' (the name as filed).
CREATE OR REPLACE VIEW metric_params AS
SELECT
    coalesce(CAST(getvariable('as_of') AS TIMESTAMP), CAST(now() AS TIMESTAMP)) AS as_of,
    CAST(getvariable('since') AS DATE) AS since,
    CAST(getvariable('until') AS DATE) AS until,
    coalesce(CAST(getvariable('bzmine_group') AS VARCHAR), 'owner') AS grp;
