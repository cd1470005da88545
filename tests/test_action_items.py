"""Action-item matching (view action_item_status): the cheaper join gives the rows of the plain all-pairs join.

The reference below is the view as first written: every current item against every item of its bug, both texts
case-folded per pair, `jaro_winkler_similarity(...) >= 0.9` without a score cutoff.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from bzmine import metrics as M
from bzmine.store.db import connect

REFERENCE = """
WITH latest AS (
    SELECT bug_id, arg_max(comment_id, (posted_at, comment_id)) AS comment_id FROM metric_ca_items GROUP BY bug_id
), cur AS (
    SELECT i.* FROM metric_ca_items i JOIN latest l USING (bug_id, comment_id)
), history_of AS (
    SELECT c.bug_id, c.comment_id AS cur_comment, c.report_no AS cur_report, c.item_no AS cur_item, h.posted_at, h.due_date,
           lag(h.due_date) OVER (PARTITION BY c.bug_id, c.report_no, c.item_no ORDER BY h.posted_at, h.comment_id) AS prev_due
    FROM cur c
    JOIN metric_ca_items h ON h.bug_id = c.bug_id
        AND jaro_winkler_similarity(lower(coalesce(h.action, '')), lower(coalesce(c.action, ''))) >= 0.9
), slips AS (
    SELECT bug_id, cur_report, cur_item, count(*) FILTER (WHERE due_date > prev_due) AS due_date_slips
    FROM history_of GROUP BY ALL
)
SELECT
    c.bug_id, b.ca, c.comment_id, c.posted_at, c.item_no, c.action, c.kind, c.due_raw, c.due_date,
    c.status_raw, c.status,
    c.status IN ('ongoing', 'delayed') AS is_open,
    c.status IN ('ongoing', 'delayed') AND c.due_date < CAST(p.as_of AS DATE) AS is_overdue,
    b.is_open AS bug_is_open,
    coalesce(s.due_date_slips, 0) AS due_date_slips
FROM cur c
JOIN metric_bugs b USING (bug_id)
CROSS JOIN metric_params p
LEFT JOIN slips s ON s.bug_id = c.bug_id AND s.cur_report = c.report_no AND s.cur_item = c.item_no
"""

AS_OF = "2026-11-01"


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return sorted(con.execute(sql).fetchall(), key=repr)


def test_same_rows_as_the_all_pairs_join_on_a_synthetic_database(sample_db: tuple[Path, dict]) -> None:
    con = duckdb.connect(str(sample_db[0]))
    M.snapshot(con, AS_OF, need=("metric_ca_items", "metric_bugs"))
    want = _rows(con, REFERENCE)
    got = _rows(con, "SELECT * FROM main.action_item_status")
    assert len(want) > 100 and any(r[-1] > 0 for r in want)  # items, some of them with slipped due dates
    assert got == want
    con.close()


# Texts written for this test; variants of them fall on both sides of 0.9.
BASES = [
    "Rotate the issuing CA keys every quarter",
    "Add linting of every precertificate before signing",
    "Review the CPS against the Baseline Requirements",
    "Train validation staff on domain control methods",
    "Ünïcödé-Prüfung der Zertifikatsprofile einführen",
    "証明書プロファイルの自動検査を導入する",
    "abcd",
    "Fix",
    "",
]


def _variants(text: str, rng: random.Random) -> list[str]:
    out = [text, text.upper(), text.lower(), text + ".", text + " - ongoing", text[: max(1, len(text) // 2)]]
    for _ in range(8):
        chars = list(text)
        for _ in range(rng.randint(1, 4)):
            if not chars:
                break
            i = rng.randrange(len(chars))
            if rng.random() < 0.5:
                del chars[i]
            else:
                chars[i] = rng.choice("xyzéü ")
        out.append("".join(chars))
    return out


def _hand_built(con: duckdb.DuckDBPyConnection) -> None:
    """metric_ca_items / metric_bugs as TEMP tables (they shadow the views, as snapshot() does)."""
    con.execute("SET VARIABLE as_of = TIMESTAMP '2026-11-01 00:00:00'")
    con.execute("CREATE TEMP TABLE metric_ca_items AS SELECT * FROM main.metric_ca_items LIMIT 0")
    con.execute("CREATE TEMP TABLE metric_bugs AS SELECT * FROM main.metric_bugs LIMIT 0")
    rng = random.Random(33)
    rows = []
    bug_id = 0
    # one bug per base text: tables (comments) posted a month apart, each listing a few variants of the text with due
    # dates that move later or earlier, so which rows match decides the slip count
    for base in BASES:
        for _ in range(3):
            bug_id += 1
            variants = _variants(base, rng) + ["abcdefgh", "ABCDEFG"]
            for table in range(4):
                posted = datetime(2024, 1, 1) + timedelta(days=30 * table)
                comment_id = bug_id * 100 + table
                for item_no, text in enumerate(rng.sample(variants, 5)):
                    due = date(2024, 6, 1) + timedelta(days=rng.randint(-60, 60))
                    rows.append(
                        (
                            bug_id,
                            comment_id,
                            0,
                            item_no,
                            posted,
                            "ca@example.com",
                            text or None,
                            due,
                            "ongoing",
                        )
                    )
    # a bug written out by hand: the current item matches two earlier rows (case and a full stop), due dates moved
    # later twice; an unrelated item and an empty one never slip
    bug_id += 1
    hand = [
        (0, "2024-01-10", "Rotate keys quarterly.", "2024-03-01"),
        (1, "2024-02-10", "rotate keys quarterly", "2024-04-01"),
        (1, "2024-02-10", "Publish the audit letter", "2024-05-01"),
        (2, "2024-03-10", "Rotate keys quarterly", "2024-06-01"),
        (2, "2024-03-10", "Update the CPS", "2024-07-01"),
        (2, "2024-03-10", None, "2024-08-01"),
    ]
    for i, (table, posted, text, due) in enumerate(hand):
        rows.append(
            (
                bug_id,
                bug_id * 100 + table,
                0,
                i,
                datetime.fromisoformat(posted),
                "ca@example.com",
                text,
                date.fromisoformat(due),
                "ongoing",
            )
        )
    con.executemany(
        "INSERT INTO metric_ca_items (bug_id, comment_id, report_no, item_no, posted_at, author, action, due_date, "
        "status, parser_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
        rows,
    )
    con.execute(
        "INSERT INTO metric_bugs (bug_id, ca, is_open) SELECT DISTINCT bug_id, 'CA ' || bug_id, true FROM metric_ca_items"
    )


def test_same_rows_as_the_all_pairs_join_on_near_misses(tmp_path: Path) -> None:
    con = connect(tmp_path / "ai.duckdb")
    _hand_built(con)
    # the cases reach both sides of the threshold, and the boundary itself
    near = con.execute(
        """SELECT count(*) FILTER (WHERE s >= 0.85 AND s < 0.9), count(*) FILTER (WHERE s >= 0.9 AND s < 0.95),
                  count(*) FILTER (WHERE s = 0.9)
           FROM (SELECT jaro_winkler_similarity(lower(coalesce(a.action, '')), lower(coalesce(b.action, ''))) AS s
                 FROM metric_ca_items a JOIN metric_ca_items b USING (bug_id))"""
    ).fetchone()
    assert near is not None and near[0] >= 20 and near[1] >= 20 and near[2] >= 1, near
    want = _rows(con, REFERENCE)
    got = _rows(con, "SELECT * FROM main.action_item_status")
    assert got == want
    assert sum(r[-1] > 0 for r in want) >= 10
    last = max(r[0] for r in got)
    by_text = {r[5]: r[-1] for r in got if r[0] == last}
    assert by_text == {"Rotate keys quarterly": 2, "Update the CPS": 0, None: 0}
    con.close()
