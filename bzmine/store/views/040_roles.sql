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
-- Dated people (config_people) come first: root_program inside their period; outside it the listed-account and
-- root-program-domain rules do not apply to them (someone who left Mozilla keeps a mozilla.com login in old data).
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

-- metric_rule1b: METRICS.md §1 rule 1b: the author of a full incident report (reports.is_full) or of a report
-- closure summary on a bug, posted at or before as_of, speaks for the CA on that bug (CAs often report before
-- anyone assigns the bug to them). Preliminary reports do not count: a third party may post one.
CREATE OR REPLACE VIEW metric_rule1b AS
SELECT DISTINCT r.bug_id, lower(r.author) AS account
FROM reports r, metric_params p
WHERE (r.is_full OR r.kind = 'closure') AND r.posted_at <= p.as_of AND r.author IS NOT NULL
  AND lower(r.author) NOT IN (SELECT account FROM config_accounts WHERE role IN ('placeholder', 'root_program', 'bot'))
  AND split_part(lower(r.author), '@', 2) NOT IN (SELECT domain FROM config_domains WHERE kind = 'root_program');

CREATE OR REPLACE VIEW metric_ca_domains AS
SELECT DISTINCT b.ca, split_part(r.account, '@', 2) AS domain
FROM metric_rule1 r JOIN metric_bugs b USING (bug_id)
WHERE b.ca IS NOT NULL AND r.account LIKE '%@%'
  AND split_part(r.account, '@', 2) NOT IN (SELECT domain FROM config_domains);

CREATE OR REPLACE VIEW metric_actors AS
SELECT bug_id, account, min(acted_at) AS first_at FROM (
    SELECT c.bug_id, c.author AS account, c.created_at AS acted_at FROM comment_meta c, metric_params p WHERE c.created_at <= p.as_of
    UNION ALL
    SELECT h.bug_id, h.who, h.changed_at FROM history_changes h, metric_params p WHERE h.changed_at <= p.as_of
    UNION ALL
    SELECT h.bug_id, lower(unnest(regexp_extract_all(h.added, 'needinfo\?\(([^)]*)\)', 1))), h.changed_at
    FROM history_changes h, metric_params p WHERE h.field_name = 'flagtypes.name' AND h.changed_at <= p.as_of
    UNION ALL
    SELECT bug_id, account, CAST(NULL AS TIMESTAMP) FROM metric_rule1
) WHERE account IS NOT NULL AND account <> ''
GROUP BY bug_id, account;

-- metric_people: dated registry roles matched to the accounts acting on each bug (config_people, from
-- bzmine/data/people.json and the user's roles file). A person matches by full account, by Bugzilla id or nick as
-- the bugs' *_detail objects give them for that account, or by nick = the account itself when e-mails are hidden
-- (no '@'). in_period: the account's first action on the bug (else the bug's opening) falls in [from, to).
CREATE OR REPLACE VIEW metric_people AS
WITH keys AS (
    SELECT DISTINCT account, 'account' AS key_kind, account AS key FROM metric_actors
    UNION SELECT DISTINCT account, 'nick', account FROM metric_actors WHERE account NOT LIKE '%@%'
    UNION SELECT DISTINCT account, 'nick', nick FROM bug_accounts WHERE nick IS NOT NULL
    UNION SELECT DISTINCT account, 'id', CAST(account_id AS VARCHAR) FROM bug_accounts WHERE account_id IS NOT NULL
)
SELECT a.bug_id, a.account,
       bool_or((cp.valid_from IS NULL OR coalesce(a.first_at, b.opened_at) >= cp.valid_from)
               AND (cp.valid_to IS NULL OR coalesce(a.first_at, b.opened_at) < cp.valid_to)) AS in_period,
       first(cp.person) AS person, first(cp.program) AS program
FROM metric_actors a
JOIN metric_bugs b USING (bug_id)
JOIN keys k ON k.account = a.account
JOIN config_people cp ON cp.key_kind = k.key_kind AND cp.key = k.key
GROUP BY a.bug_id, a.account;

-- metric_hidden_ca: with e-mails hidden (an account without '@'), rule 2 by local part: the account is `ca` on a bug
-- when a full address with that local part, on a domain of the bug's CA (metric_ca_domains), appears in the
-- harvested history values (needinfo?(x@ca.example), assignee changes), which BMO never hides.
CREATE OR REPLACE VIEW metric_hidden_ca AS
WITH seen AS (
    SELECT DISTINCT lower(unnest(regexp_extract_all(coalesce(h.added, '') || ' ' || coalesce(h.removed, ''),
                                                    '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+'))) AS address
    FROM history_changes h WHERE h.field_name IN ('flagtypes.name', 'assigned_to', 'cc', 'qa_contact')
)
SELECT DISTINCT a.bug_id, a.account
FROM metric_actors a
JOIN metric_bugs b USING (bug_id)
JOIN metric_ca_domains d ON d.ca = b.ca
JOIN seen s ON s.address = a.account || '@' || d.domain
WHERE a.account NOT LIKE '%@%';

CREATE OR REPLACE VIEW roles AS
WITH base AS (
    SELECT
        a.bug_id, a.account, pe.in_period, pe.person, pe.program,
        bot.account IS NOT NULL OR regexp_matches(split_part(a.account, '@', 1), 'bot$') AS is_bot,
        bot.account IS NOT NULL AS listed_bot,
        rp.account IS NOT NULL AS listed_rp,
        split_part(a.account, '@', 2) IN (SELECT domain FROM config_domains WHERE kind = 'root_program')
            AND a.account NOT IN (SELECT account FROM config_accounts WHERE role = 'placeholder') AS rp_domain,
        u.account IS NOT NULL AS listed_ca, r1.account IS NOT NULL AS assignee, rb.account IS NOT NULL AS reporter,
        d.domain IS NOT NULL OR hc.account IS NOT NULL AS ca_domain
    FROM metric_actors a
    JOIN metric_bugs b USING (bug_id)
    LEFT JOIN (SELECT DISTINCT account FROM config_accounts WHERE role = 'bot') bot ON bot.account = a.account
    LEFT JOIN (SELECT DISTINCT account FROM config_accounts WHERE role = 'root_program') rp ON rp.account = a.account
    LEFT JOIN metric_rule1 r1 ON r1.bug_id = a.bug_id AND r1.account = a.account
    LEFT JOIN metric_ca_domains d ON d.ca = b.ca AND d.domain = split_part(a.account, '@', 2) AND a.account LIKE '%@%'
    LEFT JOIN (SELECT DISTINCT account, ca FROM config_accounts WHERE role = 'ca') u
           ON u.account = a.account AND (u.ca = b.ca OR u.ca = b.ca_filed OR u.ca = b.ca_owner)
    LEFT JOIN metric_people pe ON pe.bug_id = a.bug_id AND pe.account = a.account
    LEFT JOIN metric_hidden_ca hc ON hc.bug_id = a.bug_id AND hc.account = a.account
    LEFT JOIN metric_rule1b rb ON rb.bug_id = a.bug_id AND rb.account = a.account
)
SELECT
    bug_id, account,
    CASE
        WHEN is_bot THEN 'bot'
        WHEN in_period THEN 'root_program'
        WHEN person IS NULL AND (listed_rp OR rp_domain) THEN 'root_program'
        WHEN listed_ca OR assignee OR reporter OR ca_domain THEN 'ca'
        ELSE 'community'
    END AS role,
    CASE
        WHEN listed_bot THEN 'listed bot'
        WHEN is_bot THEN 'name ends in bot'
        WHEN in_period THEN 'root program staff then (' || person || ', ' || coalesce(program, 'root program') || ')'
        WHEN person IS NULL AND listed_rp THEN 'listed root program account'
        WHEN person IS NULL AND rp_domain THEN 'root program domain'
        WHEN listed_ca THEN 'listed for this CA (roles file)'
        WHEN assignee THEN 'assignee of this bug'
        WHEN reporter THEN 'author of a full report or closure summary on this bug'
        WHEN ca_domain THEN 'domain of an assignee on a bug of this CA'
        WHEN person IS NOT NULL THEN 'not root program staff then (' || person || ')'
        ELSE 'none of the above'
    END AS why
FROM base;
