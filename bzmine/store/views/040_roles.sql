-- roles: who speaks on each bug (METRICS.md §1, P9). Grain: (bug, account). Role precedence:
-- bot > root_program > ca > community.
--   bot:          built-in/user list, or an e-mail local part ending in "bot";
--   root_program: listed accounts, or an account of a root-program domain (mozilla.com, mozilla.org)
--                 that is not a placeholder (nobody@mozilla.org);
--   ca:           (1) an account that held the bug's assignee field at or before as_of; (2) an account whose
--                 e-mail domain is the domain of a rule-1 account on any bug of the same CA created at or before
--                 as_of, unless free-mail or root-program; (3) listed for the bug's CA in the user's roles file;
--   community:    everyone else.
-- Accounts "acting on a bug": comment authors, history actors and needinfo requestees, at or before as_of.
-- Without e-mail addresses (anonymous sync), rule 2 cannot apply: roles fall back to account identity.
CREATE OR REPLACE VIEW metric_assignees AS
WITH changes AS (
    SELECT h.bug_id, h.changed_at, h.seq, h.change_no, h.removed, h.added
    FROM history_changes h WHERE h.field_name = 'assigned_to'
), initial AS (
    SELECT bug_id, arg_min(removed, (changed_at, seq, change_no)) AS account FROM changes GROUP BY bug_id
)
SELECT DISTINCT bug_id, lower(account) AS account FROM (
    SELECT bug_id, account FROM initial
    UNION ALL
    SELECT c.bug_id, c.added FROM changes c, metric_params p WHERE c.changed_at <= p.as_of
    UNION ALL
    SELECT i.bug_id, i.assigned_to FROM incidents i WHERE i.bug_id NOT IN (SELECT bug_id FROM changes)
) WHERE account IS NOT NULL AND account <> '';

CREATE OR REPLACE VIEW metric_rule1 AS
SELECT a.bug_id, a.account
FROM metric_assignees a
WHERE a.account NOT IN (SELECT account FROM config_accounts WHERE role IN ('placeholder', 'root_program', 'bot'))
  AND split_part(a.account, '@', 2) NOT IN (SELECT domain FROM config_domains WHERE kind = 'root_program')
  AND NOT regexp_matches(split_part(a.account, '@', 1), 'bot$');

CREATE OR REPLACE VIEW metric_ca_domains AS
SELECT DISTINCT b.ca, split_part(r.account, '@', 2) AS domain
FROM metric_rule1 r JOIN metric_bugs b USING (bug_id)
WHERE b.ca IS NOT NULL AND r.account LIKE '%@%'
  AND split_part(r.account, '@', 2) NOT IN (SELECT domain FROM config_domains);

CREATE OR REPLACE VIEW metric_actors AS
SELECT DISTINCT bug_id, account FROM (
    SELECT c.bug_id, c.author AS account FROM comment_meta c, metric_params p WHERE c.created_at <= p.as_of
    UNION ALL
    SELECT DISTINCT h.bug_id, h.who FROM history_changes h, metric_params p WHERE h.changed_at <= p.as_of
    UNION ALL
    SELECT h.bug_id, lower(unnest(regexp_extract_all(h.added, 'needinfo\?\(([^)]*)\)', 1)))
    FROM history_changes h, metric_params p WHERE h.field_name = 'flagtypes.name' AND h.changed_at <= p.as_of
    UNION ALL
    SELECT bug_id, account FROM metric_rule1
) WHERE account IS NOT NULL AND account <> '';

CREATE OR REPLACE VIEW roles AS
SELECT
    a.bug_id, a.account,
    CASE
        WHEN bot.account IS NOT NULL OR regexp_matches(split_part(a.account, '@', 1), 'bot$') THEN 'bot'
        WHEN rp.account IS NOT NULL
          OR (split_part(a.account, '@', 2) IN (SELECT domain FROM config_domains WHERE kind = 'root_program')
              AND a.account NOT IN (SELECT account FROM config_accounts WHERE role = 'placeholder')) THEN 'root_program'
        WHEN r1.account IS NOT NULL OR d.domain IS NOT NULL OR u.account IS NOT NULL THEN 'ca'
        ELSE 'community'
    END AS role,
    CASE
        WHEN bot.account IS NOT NULL THEN 'listed bot'
        WHEN regexp_matches(split_part(a.account, '@', 1), 'bot$') THEN 'name ends in bot'
        WHEN rp.account IS NOT NULL THEN 'listed root program account'
        WHEN split_part(a.account, '@', 2) IN (SELECT domain FROM config_domains WHERE kind = 'root_program')
             AND a.account NOT IN (SELECT account FROM config_accounts WHERE role = 'placeholder') THEN 'root program domain'
        WHEN u.account IS NOT NULL THEN 'listed for this CA (roles file)'
        WHEN r1.account IS NOT NULL THEN 'assignee of this bug'
        WHEN d.domain IS NOT NULL THEN 'domain of an assignee on a bug of this CA'
        ELSE 'none of the above'
    END AS why
FROM metric_actors a
JOIN metric_bugs b USING (bug_id)
LEFT JOIN (SELECT DISTINCT account FROM config_accounts WHERE role = 'bot') bot ON bot.account = a.account
LEFT JOIN (SELECT DISTINCT account FROM config_accounts WHERE role = 'root_program') rp ON rp.account = a.account
LEFT JOIN metric_rule1 r1 ON r1.bug_id = a.bug_id AND r1.account = a.account
LEFT JOIN metric_ca_domains d ON d.ca = b.ca AND d.domain = split_part(a.account, '@', 2) AND a.account LIKE '%@%'
LEFT JOIN (SELECT DISTINCT account, ca FROM config_accounts WHERE role = 'ca') u ON u.account = a.account AND u.ca = b.ca;
