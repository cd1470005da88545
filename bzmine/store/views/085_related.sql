-- incident_links: bugs that point at each other, both harvested and visible, one row per (bug, other bug, kind),
-- in both directions (direction 'out': bug refers to other; 'in': other refers to bug). Sources: bug_refs (text,
-- structured fields, Related Incidents tables), at or before as_of for text (comment time).
CREATE OR REPLACE VIEW incident_links AS
WITH refs AS (
    SELECT r.bug_id, r.ref_bug_id, r.kind, r.source
    FROM bug_refs r
    LEFT JOIN comment_meta c ON c.comment_id = r.comment_id
    CROSS JOIN metric_params p
    WHERE r.comment_id IS NULL OR c.created_at IS NULL OR c.created_at <= p.as_of
), both_ways AS (
    SELECT bug_id, ref_bug_id AS other_id, kind, source, 'out' AS direction FROM refs
    UNION ALL
    SELECT ref_bug_id, bug_id, kind, source, 'in' FROM refs
)
SELECT DISTINCT w.bug_id, w.other_id, w.kind, w.source, w.direction
FROM both_ways w
JOIN metric_bugs a ON a.bug_id = w.bug_id
JOIN metric_bugs b ON b.bug_id = w.other_id
WHERE w.bug_id <> w.other_id;

-- incident_clusters: connected groups of linked bugs (any kind, either direction). Grain: bug (only bugs with a
-- link). cluster_id = the smallest bug id in the group; cluster_size = bugs in the group.
CREATE OR REPLACE VIEW incident_clusters AS
WITH RECURSIVE edges AS (
    SELECT DISTINCT bug_id AS a, other_id AS b FROM incident_links
), reach(node, other) AS (
    SELECT a, a FROM edges
    UNION
    SELECT r.node, e.b FROM reach r JOIN edges e ON e.a = r.other
), clusters AS (
    SELECT node AS bug_id, min(other) AS cluster_id FROM reach GROUP BY node
)
SELECT c.bug_id, c.cluster_id, count(*) OVER (PARTITION BY c.cluster_id) AS cluster_size
FROM clusters c;

-- recurrences: per CA bug, the earlier bugs of the same CA (owner or filed, as metric_bugs.ca says) within 2 years
-- before it that share a whiteboard tag other than ca-compliance (a repeat), and whether an earlier bug it refers to
-- was already resolved when it was opened (a recurrence after resolution: the CCADB asks for a new report).
-- Grain: (bug, earlier bug).
CREATE OR REPLACE VIEW recurrences AS
SELECT
    b.bug_id, b.ca, e.bug_id AS earlier_bug_id, e.opened_at AS earlier_opened_at,
    list_filter(list_intersect(b.tags, e.tags), lambda t: t <> 'ca-compliance') AS shared_tags,
    len(list_filter(list_intersect(b.tags, e.tags), lambda t: t <> 'ca-compliance')) > 0 AS same_tag,
    l.other_id IS NOT NULL AS cited,
    l.other_id IS NOT NULL AND e.closed_at IS NOT NULL AND e.closed_at <= b.opened_at AS after_resolution
FROM metric_bugs b
JOIN metric_bugs e ON e.ca = b.ca AND e.bug_id <> b.bug_id
    AND e.opened_at < b.opened_at AND e.opened_at >= b.opened_at - INTERVAL 730 DAY
LEFT JOIN (SELECT DISTINCT bug_id, other_id FROM incident_links WHERE direction = 'out') l
    ON l.bug_id = b.bug_id AND l.other_id = e.bug_id
WHERE b.ca IS NOT NULL
  AND (len(list_filter(list_intersect(b.tags, e.tags), lambda t: t <> 'ca-compliance')) > 0 OR l.other_id IS NOT NULL);

-- repeats: the CA bugs that repeat an earlier incident of the same CA (the bugs `recurrences` has a row for), found
-- without pairing every two bugs of a CA: a bug repeats when, among the CA's bugs with one of its tags (other than
-- ca-compliance), one was opened in the 730 days before it (a window count over [opened_at - 730 days, opened_at):
-- opened_at is a microsecond timestamp, so the frame ends 1 microsecond before the bug), or when it cites such a
-- bug. Grain: bug. The scorecard's repeat_share reads this (at 100,000 bugs the pairwise view took 45 s;
-- tests/test_refs.py checks both give the same bugs).
CREATE OR REPLACE VIEW repeats AS
WITH tagged AS (
    -- unnest in a projection, not a lateral join: the same rows without a dependent join
    SELECT bug_id, ca, opened_at, tag
    FROM (SELECT bug_id, ca, opened_at, unnest(list_distinct(tags)) AS tag FROM metric_bugs WHERE ca IS NOT NULL)
    WHERE tag <> 'ca-compliance'
), by_tag AS (
    SELECT bug_id,
           count(*) OVER (PARTITION BY ca, tag ORDER BY opened_at
                          RANGE BETWEEN INTERVAL 730 DAY PRECEDING AND INTERVAL 1 MICROSECOND PRECEDING) AS earlier
    FROM tagged
), cited AS (
    SELECT l.bug_id
    FROM incident_links l
    JOIN metric_bugs b ON b.bug_id = l.bug_id
    JOIN metric_bugs e ON e.bug_id = l.other_id AND e.ca = b.ca
    WHERE l.direction = 'out' AND b.ca IS NOT NULL
      AND e.opened_at < b.opened_at AND e.opened_at >= b.opened_at - INTERVAL 730 DAY
)
SELECT bug_id FROM by_tag WHERE earlier > 0
UNION
SELECT bug_id FROM cited;
