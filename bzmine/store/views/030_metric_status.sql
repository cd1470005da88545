-- metric_status_changes: every status change of a bug at or before as_of, in order, with whether it
-- opens or closes the bug (METRICS.md P6). Grain: one row per status change. Closing = from an open status
-- to RESOLVED/VERIFIED/CLOSED; moves between closed statuses are not closings.
CREATE OR REPLACE VIEW metric_status_changes AS
SELECT
    h.bug_id, h.changed_at, h.seq, h.change_no, h.removed, h.added,
    h.removed NOT IN ('RESOLVED', 'VERIFIED', 'CLOSED') AND h.added IN ('RESOLVED', 'VERIFIED', 'CLOSED') AS is_closing,
    h.removed IN ('RESOLVED', 'VERIFIED', 'CLOSED') AND h.added NOT IN ('RESOLVED', 'VERIFIED', 'CLOSED') AS is_reopening
FROM history_changes h, metric_params p
WHERE h.field_name = 'status' AND h.changed_at <= p.as_of;

-- owner_status_at: each owner's standing at as_of (included | distrusted | unknown), from the owner table's dated
-- events (bzmine/data/ca_owners.json; a user's aliases file replaces the built-in rows of the owners it lists).
-- Rows keyed by a filed name (an owner's 'lineage', e.g. Symantec) give that name's own standing: subject_status.
CREATE OR REPLACE VIEW owner_status_at AS
WITH rows AS (
    SELECT s.* FROM config_owner_status s
    WHERE s.source = 'user' OR s.owner NOT IN (SELECT owner FROM config_owner_status WHERE source = 'user')
)
SELECT r.owner, arg_max(r.status, coalesce(r.valid_from, DATE '0001-01-01')) AS owner_status
FROM rows r, metric_params p
WHERE r.valid_from IS NULL OR r.valid_from <= CAST(p.as_of AS DATE)
GROUP BY r.owner;

-- metric_bugs: the bugs that exist at as_of (created at or before it), with their state at as_of; private and no
-- longer visible ones (hidden_bugs) only while the variable bzmine_include_private is true (--include-private).
-- Grain: bug. `ca` is the key of per-CA figures: the owner (grp 'owner', default) or the filed name (grp 'filed'),
-- and null unless subject_kind = 'ca' (auditor, program, meta and unknown bugs enter no per-CA figure).
-- Status at as_of = the last change's added value, or the status before the first change (history), or, when
-- history has no status change: the current status, except that a bug resolved (cf_last_resolved) after as_of
-- was open then ('NEW'). closed_at = the latest closing at or before as_of if the bug is closed at as_of, else
-- cf_last_resolved when history has no closing (partial history), else null.
-- resolution = the resolution at as_of: '' while the bug is open at as_of; when closed, the last resolution
-- change at or before as_of (history), else the value the first later change removed, else today's resolution.
-- The exclusions (--exclude-resolution) use this resolution, so a bug open at as_of and resolved INVALID later
-- counts at that as_of.
CREATE OR REPLACE VIEW metric_bugs AS
WITH changes AS (
    -- one aggregation over the bug's status and resolution changes gives every lookup below; a change's order
    -- (changed_at, seq, change_no) as one HUGEINT (seq and change_no are small non-negative integers): the same order
    -- as the struct, and cheaper to compare
    SELECT h.bug_id,
           arg_max(h.added, h.ord)
               FILTER (WHERE h.field_name = 'status' AND h.changed_at <= p.as_of) AS status_at,
           arg_min(h.removed, h.ord) FILTER (WHERE h.field_name = 'status') AS initial_status,
           max(h.changed_at) FILTER (WHERE h.field_name = 'status' AND h.changed_at <= p.as_of
                                     AND h.removed NOT IN ('RESOLVED', 'VERIFIED', 'CLOSED')
                                     AND h.added IN ('RESOLVED', 'VERIFIED', 'CLOSED')) AS last_closing,  -- is_closing
           arg_max(h.added, h.ord)
               FILTER (WHERE h.field_name = 'resolution' AND h.changed_at <= p.as_of) AS res_then,
           arg_min(h.removed, h.ord)
               FILTER (WHERE h.field_name = 'resolution' AND h.changed_at > p.as_of) AS res_before_next
    FROM (SELECT *, (epoch_us(changed_at)::HUGEINT << 64) + (seq::HUGEINT << 32) + change_no AS ord
          FROM history_changes WHERE field_name IN ('status', 'resolution')) h
    CROSS JOIN metric_params p
    GROUP BY h.bug_id
), s0 AS (
    SELECT
        i.*, p.grp, hc.last_closing,
        CASE WHEN hc.status_at IS NOT NULL THEN hc.status_at
             WHEN hc.initial_status IS NOT NULL THEN hc.initial_status
             WHEN i.status IN ('RESOLVED', 'VERIFIED', 'CLOSED') AND i.resolved_at > p.as_of THEN 'NEW'
             ELSE i.status END AS status_at,
        hc.res_then, hc.res_before_next,
        p.as_of
    FROM incidents i
    CROSS JOIN metric_params p
    LEFT JOIN changes hc USING (bug_id)
    WHERE i.opened_at <= p.as_of
      -- private and no longer visible bugs (hidden_bugs) only while the variable bzmine_include_private is true
      AND (i.bug_id NOT IN (SELECT bug_id FROM hidden_bugs)
           OR coalesce(CAST(getvariable('bzmine_include_private') AS BOOLEAN), FALSE))
), s AS (
    SELECT * REPLACE (
        CASE WHEN status_at NOT IN ('RESOLVED', 'VERIFIED', 'CLOSED') THEN ''
             ELSE coalesce(res_then, res_before_next, resolution, '') END AS resolution)
    FROM s0
    -- exclusions a study asks for (--exclude-resolution, --only-ca): resolutions (at as_of) and subjects left out
    WHERE NOT list_contains(coalesce(CAST(getvariable('bzmine_exclude_resolutions') AS VARCHAR[]), []),
                            CASE WHEN status_at NOT IN ('RESOLVED', 'VERIFIED', 'CLOSED') THEN ''
                                 ELSE coalesce(res_then, res_before_next, resolution, '') END)
      AND (NOT coalesce(CAST(getvariable('bzmine_only_ca') AS BOOLEAN), FALSE) OR coalesce(subject_kind, 'ca') = 'ca')
)
SELECT
    s.bug_id,
    CASE WHEN coalesce(s.subject_kind, 'ca') <> 'ca' THEN NULL
         WHEN s.grp = 'filed' THEN s.ca ELSE coalesce(s.ca_owner, s.ca) END AS ca,
    s.ca_raw, s.tags, s.opened_at, s.summary,
    s.status_at,
    s.status_at NOT IN ('RESOLVED', 'VERIFIED', 'CLOSED') AS is_open,
    CASE WHEN s.status_at IN ('RESOLVED', 'VERIFIED', 'CLOSED')
         THEN coalesce(s.last_closing, CASE WHEN s.resolved_at <= s.as_of THEN s.resolved_at END) END AS closed_at,
    s.ca AS ca_filed, s.ca_owner, s.sub_ca,
    coalesce(s.subject_kind, CASE WHEN s.ca IS NULL THEN 'unknown' ELSE 'ca' END) AS subject_kind,
    CASE WHEN coalesce(s.subject_kind, 'ca') = 'ca' THEN coalesce(o.owner_status, 'unknown') END AS owner_status,
    s.resolution,
    -- lineage: the standing at as_of of the CA the bug was filed about (incidents.lineage_name: the filed name or
    -- sub-CA with its own standing in the owner table's 'lineage', e.g. Symantec, distrusted though DigiCert owns it;
    -- else its owner's)
    CASE WHEN coalesce(s.subject_kind, 'ca') = 'ca' THEN coalesce(l.owner_status, o.owner_status, 'unknown') END
        AS subject_status
FROM s
LEFT JOIN owner_status_at o ON o.owner = s.ca_owner
LEFT JOIN owner_status_at l ON l.owner = s.lineage_name;
