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
-- Root-store operators (config_operators: Google/Chromium -> Chrome, Apple, Microsoft, Mozilla) also run CAs, so their
-- domains are not root-program domains; an operator account that never speaks for the company's own CA (see
-- metric_operator_accounts) is root_program for that program on every bug not about that CA. Accounts listed as
-- 'community' in a roles file are never root program by domain or by behaviour.
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

-- metric_ca_domains: rule 2's domains per CA. A root-store operator's domain (google.com) is a CA domain only of the
-- operator's own CA (Google Trust Services), never of another CA whose bug an operator employee was assigned.
CREATE OR REPLACE VIEW metric_ca_domains AS
WITH cand AS MATERIALIZED (  -- each (CA, owner, domain) once before the checks, not once per assignee
    SELECT DISTINCT b.ca, b.ca_owner, split_part(r.account, '@', 2) AS domain
    FROM metric_rule1 r JOIN metric_bugs b USING (bug_id)
    WHERE b.ca IS NOT NULL AND r.account LIKE '%@%'
)
SELECT DISTINCT ca, domain
FROM cand
WHERE domain NOT IN (SELECT domain FROM config_domains)
  AND (domain NOT IN (SELECT domain FROM config_operators)
       OR (domain, ca_owner) IN (SELECT domain, ca_owner FROM config_operators));

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

-- metric_operator_accounts: accounts of a root-store operator's domain (config_operators) acting on any bug, with
-- whether the account speaks for the operator's own CA on a bug of that CA (rule 1 assignee, rule 1b full-report
-- author, the bug's filer, or listed for it in a roles file). Filing counts: a CA's staff file its self-reports, a
-- root program files against other CAs. Rule 2 (domain) does not count: it would make every Chrome reviewer who
-- comments on a Google Trust Services bug a GTS speaker. Grain: account.
CREATE OR REPLACE VIEW metric_operator_accounts AS
WITH acc AS (
    SELECT DISTINCT a.account, o.program
    FROM (SELECT DISTINCT account FROM metric_actors WHERE account LIKE '%@%') a  -- each account once, not per bug
    JOIN config_operators o ON o.domain = split_part(a.account, '@', 2)
    WHERE a.account NOT IN (SELECT account FROM config_accounts WHERE role IN ('placeholder', 'bot'))
), own_bugs AS (
    SELECT DISTINCT b.bug_id, b.ca, b.ca_filed, b.ca_owner, o.program
    FROM metric_bugs b JOIN config_operators o ON o.ca_owner = b.ca_owner
), speaks AS (
    SELECT r.account, ob.program FROM metric_rule1 r JOIN own_bugs ob USING (bug_id)
    UNION SELECT r.account, ob.program FROM metric_rule1b r JOIN own_bugs ob USING (bug_id)
    UNION SELECT lower(i.creator), ob.program FROM incidents i JOIN own_bugs ob USING (bug_id)
    UNION SELECT c.account, ob.program FROM config_accounts c
          JOIN own_bugs ob ON c.ca IN (ob.ca, ob.ca_filed, ob.ca_owner) WHERE c.role = 'ca'
)
SELECT acc.account, acc.program, s.account IS NOT NULL AS speaks_for_own_ca
FROM acc LEFT JOIN (SELECT DISTINCT account, program FROM speaks) s USING (account, program);

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
    -- e-mails hidden: a role account (chrome-root-program@google.com) by its local part, when no other listed
    -- account has that local part
    UNION SELECT DISTINCT a.account, 'account', u.key
    FROM metric_actors a
    JOIN (SELECT split_part(key, '@', 1) AS local, any_value(key) AS key FROM config_people
          WHERE key_kind = 'account' AND key LIKE '%@%' GROUP BY 1 HAVING count(DISTINCT key) = 1) u
      ON u.local = a.account
    WHERE a.account NOT LIKE '%@%'
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
WITH hidden AS MATERIALIZED (  -- accounts without '@'; none when the sync saw e-mails (an API key)
    SELECT a.bug_id, a.account FROM metric_actors a WHERE a.account NOT LIKE '%@%'
), seen AS (
    -- the addresses in history values; only looked for when some account is hidden (the regex over every flag,
    -- assignee and cc change is most of this view's cost, and finds nothing to join when none is)
    SELECT DISTINCT lower(unnest(regexp_extract_all(coalesce(h.added, '') || ' ' || coalesce(h.removed, ''),
                                                    '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+'))) AS address
    FROM history_changes h WHERE h.field_name IN ('flagtypes.name', 'assigned_to', 'cc', 'qa_contact')
      AND EXISTS (SELECT 1 FROM hidden)
)
SELECT DISTINCT a.bug_id, a.account
FROM hidden a
JOIN metric_bugs b USING (bug_id)
JOIN metric_ca_domains d ON d.ca = b.ca
JOIN seen s ON s.address = a.account || '@' || d.domain;

-- roles: one row per (bug, account) with the role, the rule that gave it (why) and, for root_program, the program.
CREATE OR REPLACE VIEW roles AS
WITH listed_rp AS (
    -- listed root-program accounts, matched in full, or by local part when e-mails are hidden (an account without
    -- '@'), for a local part that only one listed account has (chrome-root-program)
    SELECT DISTINCT account AS key, account FROM config_accounts WHERE role = 'root_program'
    UNION
    SELECT split_part(account, '@', 1), any_value(account) FROM config_accounts
    WHERE role = 'root_program' AND account LIKE '%@%'
    GROUP BY 1 HAVING count(DISTINCT account) = 1
), operator_domains AS (
    SELECT domain, any_value(program) AS program FROM config_operators GROUP BY domain
), base AS (
    SELECT
        a.bug_id, a.account, pe.in_period, pe.person, pe.program AS person_program,
        bot.account IS NOT NULL OR regexp_matches(split_part(a.account, '@', 1), 'bot$') AS is_bot,
        bot.account IS NOT NULL AS listed_bot,
        rp.account IS NOT NULL AS listed_rp,
        coalesce(od.program, rpd.program) AS domain_program,
        a.domain IN (SELECT domain FROM config_domains WHERE kind = 'root_program')
            AND a.account NOT IN (SELECT account FROM config_accounts WHERE role = 'placeholder') AS rp_domain,
        cm.account IS NOT NULL AS listed_community,
        op.account IS NOT NULL AND NOT op.speaks_for_own_ca AS operator_staff,
        op.program AS operator_program,
        own.ca_owner IS NOT NULL AS own_company_bug,
        own.ca_owner AS own_ca,
        u.account IS NOT NULL AS listed_ca, r1.account IS NOT NULL AS assignee, rb.account IS NOT NULL AS reporter,
        d.domain IS NOT NULL OR hc.account IS NOT NULL AS ca_domain
    FROM (SELECT bug_id, account, split_part(account, '@', 2) AS domain FROM metric_actors) a  -- the domain once
    JOIN metric_bugs b USING (bug_id)
    LEFT JOIN (SELECT DISTINCT account FROM config_accounts WHERE role = 'bot') bot ON bot.account = a.account
    LEFT JOIN listed_rp rp ON rp.key = a.account AND (a.account NOT LIKE '%@%' OR rp.key = rp.account)
    LEFT JOIN operator_domains od ON od.domain = a.domain
    LEFT JOIN operator_domains rpd ON rpd.domain = split_part(rp.account, '@', 2)
    LEFT JOIN (SELECT DISTINCT account FROM config_accounts WHERE role = 'community') cm ON cm.account = a.account
    LEFT JOIN metric_operator_accounts op ON op.account = a.account
    LEFT JOIN (SELECT DISTINCT program, ca_owner FROM config_operators WHERE ca_owner IS NOT NULL) own
           ON own.program = op.program AND own.ca_owner = b.ca_owner
    LEFT JOIN metric_rule1 r1 ON r1.bug_id = a.bug_id AND r1.account = a.account
    LEFT JOIN metric_ca_domains d ON d.ca = b.ca AND d.domain = a.domain AND a.account LIKE '%@%'
    LEFT JOIN (SELECT DISTINCT account, ca FROM config_accounts WHERE role = 'ca') u
           ON u.account = a.account AND (u.ca = b.ca OR u.ca = b.ca_filed OR u.ca = b.ca_owner)
    LEFT JOIN metric_people pe ON pe.bug_id = a.bug_id AND pe.account = a.account
    LEFT JOIN metric_hidden_ca hc ON hc.bug_id = a.bug_id AND hc.account = a.account
    LEFT JOIN metric_rule1b rb ON rb.bug_id = a.bug_id AND rb.account = a.account
), decided AS (
    SELECT *,
        CASE
            WHEN is_bot THEN 'bot'
            WHEN in_period THEN 'root_program'
            WHEN person IS NULL AND listed_rp THEN 'root_program'
            WHEN person IS NULL AND NOT listed_community AND rp_domain THEN 'root_program'
            WHEN person IS NULL AND NOT listed_community AND operator_staff AND NOT own_company_bug THEN 'root_program'
            -- operator staff known not to speak for their company's CA are not its CA by domain (rule 2)
            WHEN listed_ca OR assignee OR reporter OR (ca_domain AND NOT (operator_staff AND own_company_bug))
                THEN 'ca'
            ELSE 'community'
        END AS role
    FROM base
)
SELECT
    bug_id, account, role,
    CASE
        WHEN listed_bot THEN 'listed bot'
        WHEN is_bot THEN 'name ends in bot'
        WHEN in_period THEN 'root program staff then (' || person || ', ' || coalesce(person_program, 'root program') || ')'
        WHEN person IS NULL AND listed_rp THEN 'listed root program account'
        WHEN role = 'root_program' AND rp_domain THEN 'root program domain'
        WHEN role = 'root_program' THEN 'root-store operator staff (' || operator_program
            || ' domain, never speaks for the company''s own CA)'
        WHEN listed_ca THEN 'listed for this CA (roles file)'
        WHEN assignee THEN 'assignee of this bug'
        WHEN reporter THEN 'author of a full report or closure summary on this bug'
        WHEN role = 'ca' THEN 'domain of an assignee on a bug of this CA'
        WHEN person IS NOT NULL THEN 'not root program staff then (' || person || ')'
        WHEN operator_staff AND own_company_bug THEN 'root-store operator staff on a bug of its own company''s CA ('
            || own_ca || ')'
        WHEN listed_community THEN 'listed as community (roles file)'
        ELSE 'none of the above'
    END AS why,
    CASE WHEN role = 'root_program' THEN
        CASE WHEN in_period THEN person_program
             WHEN operator_staff AND NOT rp_domain THEN operator_program
             ELSE domain_program END
    END AS program
FROM decided;

-- root_program_inferred: every account that is root_program by behaviour (a root-store operator's domain, never
-- speaking for the company's own CA), with its program and the number of bugs it acts on as root program, and the
-- operator accounts that speak for their company's CA (so stay community on other CAs' bugs); 'registry' and
-- 'roles file: community' mark the accounts a people entry or the roles file decides instead. `bzmine status` and
-- docs/ca-identity.md list them so a user can check and correct them (roles file: 'community', 'ca', 'people').
CREATE OR REPLACE VIEW root_program_inferred AS
SELECT o.account, o.program,
       CASE WHEN bool_or(r.why LIKE 'root program staff then (%' OR r.why LIKE 'not root program staff then (%'
                         OR r.why = 'listed root program account') THEN 'registry'
            WHEN bool_or(r.why = 'listed as community (roles file)') THEN 'roles file: community'
            WHEN o.speaks_for_own_ca THEN 'speaks for its company''s CA' ELSE 'root_program' END AS classified,
       count(DISTINCT r.bug_id) FILTER (WHERE r.why LIKE 'root-store operator staff (%') AS root_program_bugs,
       count(DISTINCT r.bug_id) AS bugs
FROM metric_operator_accounts o
JOIN roles r ON r.account = o.account
WHERE o.program <> 'Mozilla'
GROUP BY o.account, o.program, o.speaks_for_own_ca;
