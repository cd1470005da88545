"""`make mutate`: operator mutations, one at a time, against the tests that cover each file (issue #32).

Each mutant is one small, realistic slip in the landed code: a comparison or boolean operator in a metric view
(`bzmine/store/views/*.sql`), a regex quantifier or branch in a parser (`bzmine/parse/`), a filter in export or
snapshot, a clause of the harvester. The tool copies the worktree (the files git knows, as they are now) to a scratch
folder once, applies each mutant there in turn, runs the tests mapped to the mutated file (`-x`: stop at the first
failure), and restores the file. The worktree itself is never written. A mutant is *killed* when the tests fail;
the tool prints the kill rate and every survivor, and exits 1 when the rate is below --min (default 90 %).

    python -m tests.mutate                 # the whole catalogue (make mutate)
    python -m tests.mutate --sample 20     # a random sample (--seed)
    python -m tests.mutate --only views    # mutants whose id or file contains a word
    python -m tests.mutate --check         # every mutant still applies (no tests run)
    python -m tests.mutate -j 2            # two mutants at once (one scratch copy each)

Before mutating, each test group runs once on the unmutated copy: a group that fails there would "kill" every
mutant, so the tool stops. A catalogue entry that no longer matches the code is an error (update the catalogue).
"""

from __future__ import annotations

import argparse
import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# file (prefix) -> the tests that cover it: pytest arguments, fastest killers first. Slow property and real-data
# tests are left out: they never decide a mutant these decide.
GROUPS: dict[str, list[str]] = {
    "bzmine/store/views/": [
        "tests/test_boundaries.py",
        "tests/test_metrics.py",
        "tests/test_due.py",
        "tests/test_identity.py",
        "-k",
        "test_boundaries or test_metrics or closed_means or due_list_rows or percentile_is_no_data or explain_lists"
        " or same_person or owner_grouping",
    ],
    "bzmine/parse/": [
        "tests/test_boundaries.py",
        "tests/test_goldens_read.py",
        "tests/test_parse.py",
        "tests/test_refs.py",
        "-k",
        "not arbitrary_text and not mutated_reports and not huge_and_odd and not real_bugs and not digits_in_prose"
        " and not repeats_are and not real_pages_give",
    ],
    "bzmine/export.py": ["tests/test_sync.py::test_private_bugs_stay_out_of_shared_report_and_export"],
    "bzmine/snapshot.py": ["tests/test_snapshot.py", "-k", "round_trip"],
    "bzmine/sync.py": ["tests/test_harvest_edges.py"],
    "bzmine/bugzilla.py": ["tests/test_harvest_edges.py"],
    "bzmine/store/tx.py": ["tests/test_interrupts.py::test_ctrl_c_inside_transaction_rolls_back"],
    "bzmine/store/db.py": [
        "tests/test_interrupts.py::test_ctrl_c_inside_transaction_rolls_back",
        "tests/test_sync.py::test_private_bugs_stay_out_of_shared_report_and_export",
    ],
}


@dataclass(frozen=True)
class Mutant:
    id: str
    file: str
    old: str  # must occur exactly once in the file
    new: str
    why: str  # the slip it stands for


V = "bzmine/store/views/"
CATALOGUE: list[Mutant] = [
    # -- metric views: comparisons at the documented edges --
    Mutant(
        "breach-ge",
        V + "050_response_events.sql",
        "> 7 * 24 * 3600",
        ">= 7 * 24 * 3600",
        "breach_7d at 168 h",
    ),
    Mutant(
        "answer-at-closing",
        V + "050_response_events.sql",
        "(r.next_closing IS NULL OR r.first_answer_at <= r.next_closing)",
        "(r.next_closing IS NULL OR r.first_answer_at < r.next_closing)",
        "P5: a ca answer stamped with the closure",
    ),
    Mutant(
        "question-while-closed",
        V + "050_response_events.sql",
        "WHERE role IN ('root_program', 'community') AND open_at",
        "WHERE role IN ('root_program', 'community')",
        "P5: comments on a closed bug are requests",
    ),
    Mutant(
        "question-by-ca",
        V + "050_response_events.sql",
        "WHERE role IN ('root_program', 'community') AND open_at",
        "WHERE role IN ('root_program', 'community', 'bot') AND open_at",
        "§1: bots ask",
    ),
    Mutant(
        "needinfo-clear-same-second",
        V + "050_response_events.sql",
        "x.changed_at > ni.asked_at",
        "x.changed_at >= ni.asked_at",
        "§4: a needinfo cleared in the second it is set",
    ),
    Mutant(
        "needinfo-any-requestee",
        V + "050_response_events.sql",
        "JOIN roles r ON r.bug_id = n.bug_id AND r.account = n.requestee AND r.role = 'ca'",
        "JOIN roles r ON r.bug_id = n.bug_id AND r.account = n.requestee",
        "P5: needinfos to non-ca accounts are requests",
    ),
    Mutant(
        "pending-ge",
        V + "070_update_obligations.sql",
        "WHEN end_of_d > as_of THEN 'pending'",
        "WHEN end_of_d >= as_of THEN 'pending'",
        "P4: pending when end of D = as_of",
    ),
    Mutant(
        "met-vs-superseded",
        V + "070_update_obligations.sql",
        "(superseded_at IS NULL OR met_at <= superseded_at)",
        "(superseded_at IS NULL OR met_at < superseded_at)",
        "P4: met and superseded in the same second",
    ),
    Mutant(
        "met-window-end",
        V + "070_update_obligations.sql",
        "AND c.created_at > s.set_at AND c.created_at <= s.end_of_d) AS met_at",
        "AND c.created_at > s.set_at AND c.created_at < s.end_of_d) AS met_at",
        "P4: a comment in the last second of D",
    ),
    Mutant(
        "met-window-start",
        V + "070_update_obligations.sql",
        "AND c.created_at > s.set_at AND c.created_at <= s.end_of_d) AS met_at",
        "AND c.created_at >= s.set_at AND c.created_at <= s.end_of_d) AS met_at",
        "P4: a comment in the second the date is set",
    ),
    Mutant(
        "days-late-ignores-closing",
        V + "070_update_obligations.sql",
        "least(coalesce(st.late_answer_at, st.as_of), coalesce(st.later_closing_at, st.as_of), st.as_of)",
        "least(coalesce(st.late_answer_at, st.as_of), st.as_of)",
        "P4: days_late ignoring a later closing",
    ),
    Mutant(
        "same-date-edit-starts",
        V + "070_update_obligations.sql",
        "(n = 1 OR prev_date IS NULL OR prev_date <> next_update)",
        "(n = 1 OR prev_date IS NULL OR prev_date <= next_update)",
        "P4: an edit that keeps the date starts an obligation",
    ),
    Mutant(
        "closed-before-met",
        V + "070_update_obligations.sql",
        "AND (closed_at IS NULL OR met_at <= closed_at) THEN 'met'",
        "THEN 'met'",
        "P4: a ca comment after the closure meets the obligation",
    ),
    Mutant(
        "overdue-answered-late",
        V + "070_update_obligations.sql",
        "WHERE b.is_open AND o.state = 'missed' AND o.answered_late_at IS NULL AND o.set_at = o.latest",
        "WHERE b.is_open AND o.state = 'missed' AND o.set_at = o.latest",
        "§5: next_update_overdue keeps obligations answered late",
    ),
    Mutant(
        "item-overdue-le",
        V + "080_action_item_status.sql",
        "c.due_date < CAST(p.as_of AS DATE) AS is_overdue",
        "c.due_date <= CAST(p.as_of AS DATE) AS is_overdue",
        "§6: an item due on the as_of date counted overdue",
    ),
    Mutant(
        "unknown-is-open",
        V + "080_action_item_status.sql",
        "c.status IN ('ongoing', 'delayed') AS is_open",
        "c.status IN ('ongoing', 'delayed', 'unknown') AS is_open",
        "P3: unknown status counted open",
    ),
    Mutant(
        "slip-same-date",
        V + "080_action_item_status.sql",
        "FILTER (WHERE due_date > prev_due)",
        "FILTER (WHERE due_date >= prev_due)",
        "§6: an unchanged due date counted as a slip",
    ),
    Mutant(
        "latest-table-any-author",
        V + "080_action_item_status.sql",
        "JOIN roles r ON r.bug_id = a.bug_id AND r.account = lower(a.author) AND r.role = 'ca'",
        "JOIN roles r ON r.bug_id = a.bug_id AND r.account = lower(a.author)",
        "§6: a table posted by a root-program account becomes the current list",
    ),
    Mutant(
        "verified-is-closing",
        V + "030_metric_status.sql",
        "h.removed NOT IN ('RESOLVED', 'VERIFIED', 'CLOSED') AND h.added IN ('RESOLVED', 'VERIFIED', 'CLOSED') AS is_closing",
        "h.added IN ('RESOLVED', 'VERIFIED', 'CLOSED') AS is_closing",
        "P6: RESOLVED -> VERIFIED counted as a closing",
    ),
    Mutant(
        "created-at-as-of",
        V + "030_metric_status.sql",
        "    WHERE i.opened_at <= p.as_of\n",
        "    WHERE i.opened_at < p.as_of\n",
        "P0: a bug created at the as_of second does not exist",
    ),
    Mutant(
        "invisible-counted",
        V + "030_metric_status.sql",
        "AND (i.bug_id NOT IN (SELECT bug_id FROM hidden_bugs)",
        "AND (TRUE",
        "bugs no longer visible enter the figures",
    ),
    Mutant(
        "role-valid-to",
        V + "040_roles.sql",
        "(cp.valid_to IS NULL OR coalesce(a.first_at, b.opened_at) < cp.valid_to)",
        "(cp.valid_to IS NULL OR coalesce(a.first_at, b.opened_at) <= cp.valid_to)",
        "people.json: a role held at exactly valid_to",
    ),
    Mutant(
        "role-valid-from",
        V + "040_roles.sql",
        "(cp.valid_from IS NULL OR coalesce(a.first_at, b.opened_at) >= cp.valid_from)",
        "(cp.valid_from IS NULL OR coalesce(a.first_at, b.opened_at) > cp.valid_from)",
        "people.json: a role not yet held at exactly valid_from",
    ),
    Mutant(
        "freemail-domain-rule",
        V + "040_roles.sql",
        "WHERE domain NOT IN (SELECT domain FROM config_domains)\n  AND (",
        "WHERE (",
        "§1 rule 2: free-mail domains spread the ca role",
    ),
    Mutant(
        "rule1b-preliminary",
        V + "040_roles.sql",
        "WHERE (r.is_full OR r.kind = 'closure') AND r.posted_at <= p.as_of",
        "WHERE (r.is_full OR r.kind IN ('closure', 'preliminary')) AND r.posted_at <= p.as_of",
        "§1 rule 1b: a preliminary report's author is ca",
    ),
    Mutant(
        "bot-suffix",
        V + "040_roles.sql",
        "bot.account IS NOT NULL OR regexp_matches(split_part(a.account, '@', 1), 'bot$') AS is_bot",
        "bot.account IS NOT NULL AS is_bot",
        "P9: an account whose local part ends in bot is a bot",
    ),
    Mutant(
        "self-reported-disclosure",
        V + "060_bug_metrics.sql",
        "(c.creator_role = 'ca' OR coalesce(d.source = 'self', FALSE)) AS self_reported",
        "(c.creator_role = 'ca') AS self_reported",
        "P8: self_reported without the disclosure field",
    ),
    Mutant(
        "disclosure-latest",
        V + "060_bug_metrics.sql",
        "arg_min(r.disclosure_source_norm, (r.posted_at, r.comment_id, r.report_no))",
        "arg_max(r.disclosure_source_norm, (r.posted_at, r.comment_id, r.report_no))",
        "P8: the latest report's disclosure field decides",
    ),
    Mutant(
        "late-report-ge",
        V + "060_bug_metrics.sql",
        "WHEN fr.full_report_at IS NOT NULL THEN date_diff('second', b.opened_at, fr.full_report_at) > 336 * 3600",
        "WHEN fr.full_report_at IS NOT NULL THEN date_diff('second', b.opened_at, fr.full_report_at) >= 336 * 3600",
        "P7: a full report at exactly 336 h is late",
    ),
    Mutant(
        "late-report-cutoff",
        V + "060_bug_metrics.sql",
        "WHEN b.opened_at < TIMESTAMP '2023-02-15' THEN NULL",
        "WHEN b.opened_at <= TIMESTAMP '2023-02-15' THEN NULL",
        "P7: a bug opened at 2023-02-15 00:00 not evaluated",
    ),
    Mutant(
        "late-report-closed",
        V + "060_bug_metrics.sql",
        "WHEN b.is_open THEN date_diff('second', b.opened_at, p.as_of) > 336 * 3600\n        ELSE NULL",
        "ELSE date_diff('second', b.opened_at, p.as_of) > 336 * 3600",
        "P7: a bug closed without a full report is evaluated",
    ),
    Mutant(
        "full-report-any-author",
        V + "060_bug_metrics.sql",
        "JOIN roles ro ON ro.bug_id = r.bug_id AND ro.account = lower(r.author) AND ro.role = 'ca'",
        "JOIN roles ro ON ro.bug_id = r.bug_id AND ro.account = lower(r.author)",
        "§3: a full report posted by someone else counts",
    ),
    # -- parsers: regex quantifiers and branches, thresholds --
    Mutant(
        "date-twelve-day-first",
        "bzmine/parse/dates.py",
        "return _mk(y, b, a) if a > 12 else _mk(y, a, b)",
        "return _mk(y, b, a) if a >= 12 else _mk(y, a, b)",
        "12-5-2025 read day first",
    ),
    Mutant(
        "date-dot-month-first",
        "bzmine/parse/dates.py",
        'return _mk(int(g["y5"]), int(g["m5"]), int(g["d5"]))',
        'return _mk(int(g["y5"]), int(g["d5"]), int(g["m5"]))',
        "D.M.YYYY read month first",
    ),
    Mutant(
        "date-iso-one-digit",
        "bzmine/parse/dates.py",
        r'r"(?P<iso>(?P<y1>\d{4})[-/](?P<m1>\d{1,2})[-/](?P<d1>\d{1,2}))(?!\d)"',
        r'r"(?P<iso>(?P<y1>\d{4})[-/](?P<m1>\d{2})[-/](?P<d1>\d{2}))(?!\d)"',
        "2025-3-1 no longer a date",
    ),
    Mutant(
        "date-offset-sign",
        "bzmine/parse/dates.py",
        'return -minutes if sign in "-\\u2212" else minutes',
        'return minutes if sign in "-\\u2212" else -minutes',
        "UTC+2 converted the wrong way",
    ),
    Mutant(
        "next-update-by",
        "bzmine/parse/whiteboard.py",
        r'_NEXT = re.compile(r"next[\s_-]*update\s*(?:at|on|by|:)?\s*", re.IGNORECASE)',
        r'_NEXT = re.compile(r"next[\s_-]*update\s*(?:at|on|:)?\s*", re.IGNORECASE)',
        '"Next update by <date>" no longer read',
    ),
    Mutant(
        "next-update-hyphen",
        "bzmine/parse/whiteboard.py",
        r'_NEXT = re.compile(r"next[\s_-]*update\s*(?:at|on|by|:)?\s*", re.IGNORECASE)',
        r'_NEXT = re.compile(r"next\s*update\s*(?:at|on|by|:)?\s*", re.IGNORECASE)',
        '"next-update" no longer read',
    ),
    Mutant(
        "tag-missing-bracket",
        "bzmine/parse/whiteboard.py",
        r'_OPEN_MISSING = re.compile(r"(?:(?<=\s)|^)([A-Za-z][A-Za-z0-9 _-]{1,40}?)\]")',
        r'_OPEN_MISSING = re.compile(r"(?<=\s)([A-Za-z][A-Za-z0-9 _-]{1,40}?)\]")',
        '"audit-finding]" at the start lost',
    ),
    Mutant(
        "v2-prelim-full-report",
        "bzmine/parse/reports.py",
        'if len(have) < 3 and ("preliminary" in text or "full report" in text) else "v2_full"',
        'if len(have) < 3 and "preliminary" in text else "v2_full"',
        "a v2.0 preliminary that says full report read as full",
    ),
    Mutant(
        "v2-prelim-sections",
        "bzmine/parse/reports.py",
        'if len(have) < 3 and ("preliminary" in text or "full report" in text) else "v2_full"',
        'if len(have) <= 3 and ("preliminary" in text or "full report" in text) else "v2_full"',
        "a v2.0 report with 3 sections read as preliminary",
    ),
    Mutant(
        "seven-questions-threshold",
        "bzmine/parse/reports.py",
        "return sum(1 for v in self.answers.values() if v.strip()) >= 4",
        "return sum(1 for v in self.answers.values() if v.strip()) > 4",
        "§3: 4 of 7 answers not a full report",
    ),
    Mutant(
        "v2-full-threshold",
        "bzmine/parse/reports.py",
        "return len(set(self.sections) & V2_SECTIONS) >= 3",
        "return len(set(self.sections) & V2_SECTIONS) > 3",
        "§3: 3 v2.0 sections not a full report",
    ),
    Mutant(
        "full-by-promise",
        "bzmine/parse/reports.py",
        'r"full (?:incident )?report\\b[^.\\n]{0,50}?(?:\\b(?:by|on|no later than|before|until|around)\\b|:|"',
        'r"full (?:incident )?report\\b[^.\\n]{0,50}?(?:\\b(?:on|no later than|before|until|around)\\b|:|"',
        '"full report by <date>" promise lost',
    ),
    Mutant(
        "factor-timeline",
        "bzmine/parse/reports.py",
        '_FACTOR_TIMELINE = re.compile(r"^timeline\\s*:\\s*(.*)$", re.IGNORECASE)',
        '_FACTOR_TIMELINE = re.compile(r"^timeline\\s+:\\s*(.*)$", re.IGNORECASE)',
        "a contributing factor's Timeline lost",
    ),
    Mutant(
        "status-done",
        "bzmine/parse/reports.py",
        r'r"\b(complete|completed|done|closed|implemented|finished|resolved|fixed|deployed|"',
        r'r"\b(complete|completed|closed|implemented|finished|resolved|fixed|deployed|"',
        '"Done" not complete',
    ),
    Mutant(
        "status-not-yet",
        "bzmine/parse/reports.py",
        r'r"\b(incomplete|uncompleted|unfinished|undone|not (yet )?(been )?(complete|completed|done|finished|"',
        r'r"\b(incomplete|uncompleted|unfinished|undone|not (been )?(complete|completed|done|finished|"',
        '"Not yet completed" read as complete',
    ),
    Mutant(
        "status-cancel",
        "bzmine/parse/reports.py",
        r'r"\b(cancell?(ed|ation)?|withdrawn|',
        r'r"\b(cancell(ed|ation)?|withdrawn|',
        '"Canceled" (one l) not canceled',
    ),
    Mutant(
        "due-column-status",
        "bzmine/parse/reports.py",
        'if status_src is None and item["due_raw"] and due is None:',
        'if status_src is None and item["due_raw"] and due is not None:',
        '"Done" in the Due Date column not read',
    ),
    Mutant(
        "disclosure-self-first",
        "bzmine/parse/reports.py",
        '        ("self", "self"),\n        ("audit", "audit"),',
        '        ("audit", "audit"),',
        '"Self Reported" not self',
    ),
    Mutant(
        "bug-ref-digits",
        "bzmine/parse/reports.py",
        r"\bbugs?\s+)(\d{5,8})\b" + '",',
        r"\bbugs?\s+)(\d{4,8})\b" + '",',
        "4-digit numbers read as bug references",
    ),
    Mutant(
        "alias-keeps-owner",
        "bzmine/parse/ca.py",
        "table.owner_of.setdefault(filed, known[1] if known and known[1] else filed)",
        "table.owner_of.setdefault(filed, filed)",
        "a user alias of a known CA loses its owner",
    ),
    Mutant(
        "suffix-strip",
        "bzmine/parse/ca.py",
        "while len(words) > 1 and (words[-1] in _SUFFIXES",
        "while len(words) > 2 and (words[-1] in _SUFFIXES",
        "legal suffix of a two-word name kept",
    ),
    Mutant(
        "prefix-length",
        "bzmine/parse/ca.py",
        "return raw if raw and len(raw) <= 80 and ca_key(raw) else None",
        "return raw if raw and ca_key(raw) else None",
        "a long sentence before a colon read as a CA",
    ),
    # -- export and snapshot filters --
    Mutant(
        "export-raw-only",
        "bzmine/export.py",
        'if "bug_id" in cols and not include_private:',
        'if t.startswith("raw_") and "bug_id" in cols and not include_private:',
        "export filters private bugs from raw tables only",
    ),
    Mutant(
        "export-no-filter",
        "bzmine/export.py",
        'if "bug_id" in cols and not include_private:',
        "if False:",
        "export carries private bugs",
    ),
    Mutant(
        "snapshot-raw-only",
        "bzmine/snapshot.py",
        'where = f"WHERE NOT ({PRIVATE_ROWS})" if "bug_id" in cols and not include_private else ""',
        'where = f"WHERE NOT ({PRIVATE_ROWS})" if t == "raw_bugs" and not include_private else ""',
        "snapshot filters private bugs from raw_bugs only",
    ),
    Mutant(
        "private-rows-groups",
        V + "005_hidden.sql",
        "WHERE NOT is_visible OR private;",
        "WHERE NOT is_visible;",
        "a bug in one group not private",
    ),
    # -- harvest and transactions --
    Mutant(
        "no-overlap",
        "bzmine/sync.py",
        "return format_bmo_time(wm - timedelta(seconds=overlap))",
        "return format_bmo_time(wm)",
        "the watermark overlap removed",
    ),
    Mutant(
        "visible-again",
        "bzmine/sync.py",
        "changed = {i for i, t in listing.items() if stored.get(i) != t or i in invisible_now}",
        "changed = {i for i, t in listing.items() if stored.get(i) != t}",
        "bugs visible again not re-fetched",
    ),
    Mutant(
        "reconcile-fetches-nothing",
        "bzmine/sync.py",
        "        need = sorted(set(need) | back)\n",
        "",
        "the listing of every id only marks bugs gone, never fetches the ones visible again",
    ),
    Mutant(
        "retry-off-by-one",
        "bzmine/bugzilla.py",
        "for attempt in range(self.settings.retries + 1):",
        "for attempt in range(self.settings.retries):",
        "one attempt fewer than documented",
    ),
    Mutant(
        "retry-504",
        "bzmine/bugzilla.py",
        "RETRY_STATUSES = {429, 500, 502, 503, 504}",
        "RETRY_STATUSES = {429, 500, 502, 503}",
        "504 not retried",
    ),
    Mutant(
        "block-retried",
        "bzmine/bugzilla.py",
        "            if resp.status_code == 429:\n                raise BlockedError(BLOCKED)",
        "            if resp.status_code == 429 and attempt == self.settings.retries:\n                raise BlockedError(BLOCKED)",
        "a 429 block retried (each retry renews the block)",
    ),
    Mutant(
        "transaction-exception",
        "bzmine/store/tx.py",
        '        yield con\n        con.execute("COMMIT")\n    except BaseException:',
        '        yield con\n        con.execute("COMMIT")\n    except Exception:',
        "a Ctrl-C inside transaction() not rolled back",
    ),
]


def tests_for(path: str) -> list[str]:
    for prefix, args in GROUPS.items():
        if path.startswith(prefix):
            return args
    raise SystemExit(f"no tests mapped to {path}: add it to GROUPS in tests/mutate.py")


def scratch_copy() -> Path:
    """The worktree's tracked files (as they are now, edits included) in a new temporary folder."""
    files = (
        subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    dest = Path(tempfile.mkdtemp(prefix="bzmine-mutate-")) / ROOT.name
    for f in filter(None, files):
        src = ROOT / f
        if src.is_file():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / f)
    return dest


def run_tests(copy: Path, args: list[str], timeout: float) -> tuple[int, float]:
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    started = time.monotonic()
    try:
        res = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-x",
                "-q",
                "-p",
                "no:randomly",
                "-p",
                "no:cacheprovider",
                *args,
            ],
            cwd=copy,
            env=env,
            capture_output=True,
            timeout=timeout,
        )
        code = res.returncode
    except subprocess.TimeoutExpired:
        code = -1  # a mutant that hangs the tests is caught (by the timeout)
    return code, time.monotonic() - started


def check(catalogue: list[Mutant]) -> list[str]:
    """Catalogue entries that no longer apply (their text is not in the file exactly once)."""
    bad = []
    for m in catalogue:
        text = (ROOT / m.file).read_text(encoding="utf-8")
        n = text.count(m.old)
        if n != 1:
            bad.append(f"{m.id}: found {n} times in {m.file}")
        tests_for(m.file)
    ids = [m.id for m in catalogue]
    bad += [f"{i}: duplicate id" for i in sorted({i for i in ids if ids.count(i) > 1})]
    return bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sample", type=int, default=0, help="run a random sample of this many mutants")
    ap.add_argument("--seed", type=int, default=32)
    ap.add_argument("--only", default="", help="mutants whose id or file contains this text")
    ap.add_argument("--min", type=float, default=90.0, help="exit 1 below this kill rate (percent)")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per test run")
    ap.add_argument("--check", action="store_true", help="only check that every mutant still applies")
    ap.add_argument("--no-baseline", action="store_true", help="skip the unmutated run of each test group")
    ap.add_argument(
        "-j", "--jobs", type=int, default=1, help="mutants tested at once (one scratch copy each)"
    )
    a = ap.parse_args(argv)

    bad = check(CATALOGUE)
    if bad:
        print("catalogue out of date:\n  " + "\n  ".join(bad), file=sys.stderr)
        return 2
    chosen = [m for m in CATALOGUE if a.only in m.id or a.only in m.file]
    if a.sample and a.sample < len(chosen):
        chosen = sorted(random.Random(a.seed).sample(chosen, a.sample), key=CATALOGUE.index)
    if a.check:
        print(f"{len(CATALOGUE)} mutants, all apply")
        return 0
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))  # clean up on kill
    copies = [scratch_copy() for _ in range(max(1, a.jobs))]
    try:
        where = subprocess.run(
            [sys.executable, "-c", "import bzmine; print(bzmine.__file__)"],
            cwd=copies[0],
            env={**os.environ, "PYTHONPATH": str(copies[0])},
            capture_output=True,
            text=True,
        ).stdout.strip()
        if not where.startswith(str(copies[0])):
            print(f"the tests would import bzmine from {where}, not the scratch copy", file=sys.stderr)
            return 2
        if not a.no_baseline:
            for args in sorted({tuple(tests_for(m.file)) for m in chosen}):
                code, secs = run_tests(copies[0], list(args), a.timeout)
                if code != 0:
                    print(f"the unmutated tests fail (exit {code}): {' '.join(args)}", file=sys.stderr)
                    return 2
                print(f"baseline ok ({secs:.0f} s): {' '.join(args)[:100]}", flush=True)
        started = time.monotonic()
        free: queue.Queue[Path] = queue.Queue()
        for c in copies:
            free.put(c)
        done = [0]
        lock = threading.Lock()

        def one(m: Mutant) -> bool:
            copy = free.get()
            try:
                target = copy / m.file
                original = target.read_text(encoding="utf-8")
                target.write_text(original.replace(m.old, m.new, 1), encoding="utf-8")
                try:
                    code, secs = run_tests(copy, tests_for(m.file), a.timeout)
                finally:
                    target.write_text(original, encoding="utf-8")
            finally:
                free.put(copy)
            killed = code not in (0, 5)  # 5: no tests collected (a mapping error, not a kill)
            with lock:
                done[0] += 1
                print(
                    f"[{done[0]:2}/{len(chosen)}] {'killed  ' if killed else 'SURVIVED'} {m.id:28} {secs:5.1f} s  "
                    f"{m.why}",
                    flush=True,
                )
            return killed

        with ThreadPoolExecutor(len(copies)) as pool:
            results = list(pool.map(one, chosen))
        survivors = [m for m, k in zip(chosen, results, strict=True) if not k]
        killed_n = len(chosen) - len(survivors)
        rate = 100.0 * killed_n / len(chosen) if chosen else 100.0
        print(
            f"\nkilled {killed_n}/{len(chosen)} mutants ({rate:.1f} %) in {time.monotonic() - started:.0f} s"
            + (f"; survivors: {', '.join(m.id for m in survivors)}" if survivors else "")
        )
        for m in survivors:
            print(f"  {m.id}: {m.file}: {m.why}\n    - {m.old}\n    + {m.new}")
        return 0 if rate >= a.min else 1
    except KeyboardInterrupt:
        print("interrupted; the worktree was never touched", file=sys.stderr)
        return 130
    finally:
        for c in copies:
            shutil.rmtree(c.parent, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
