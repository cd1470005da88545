"""Boundaries: each rule of METRICS.md (and docs/parsing.md) tested at the exact instant or value where it turns.

Every bug here is built by hand so that one fact sits exactly on an edge (168 h, the closing second, end of D =
as_of, due date = as_of date, valid_to, a first number of 12); each test names the rule it pins. A slip of one
comparison (`>` for `>=`, `<` for `<=`) or a dropped clause fails one of them (issue #32; `make mutate`).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from bzmine import metrics as M
from bzmine.parse.ca import ca_key, load_aliases, parse_ca
from bzmine.parse.dates import parse_date
from bzmine.parse.reports import find_bug_refs, normalise_disclosure, parse_text
from bzmine.parse.whiteboard import parse_whiteboard
from bzmine.parsing import reparse
from bzmine.store.config import load_user_accounts
from tests.helpers import build_db, mk_bug

ACME = "compliance@acme.example"
RP = "rp@mozilla.com"
COMMUNITY = "watcher@gmail.com"
REVIEWER = (
    "pat.reviewer@example.net"  # root program staff in [2024-01-01, 2024-07-01) by the roles file below
)


def wb(old: str, new: str) -> tuple[str, str, str]:
    return ("whiteboard", old, new)


def prelim(source: str) -> str:
    return (
        "## Preliminary Incident Report\n\n### Summary\n"
        "- **Incident description:** Certificates were issued with a wrong OU.\n"
        f"- **Source of incident disclosure:** {source}\n"
    )


ITEMS = (
    "### Action Items\n| Action Item | Kind | Due Date | Status |\n|---|---|---|---|\n"
    "| Add a linter | Prevent | 2025-04-20 | Ongoing |\n"
)
NU = "[ca-compliance] Next update "

BUGS = [
    # 101/102: answered exactly 168 h after the question, and one second later (§4 breach_7d: "exceeds 7 x 24 h")
    mk_bug(
        101,
        "Acme: answer at 168 h",
        "2025-01-01T00:00:00Z",
        COMMUNITY,
        ACME,
        comments=[(COMMUNITY, "2025-01-01T00:00:00Z", "Bad certs."), (ACME, "2025-01-08T00:00:00Z", "Ack.")],
    ),
    mk_bug(
        102,
        "Acme: answer at 168 h + 1 s",
        "2025-01-01T00:00:00Z",
        COMMUNITY,
        ACME,
        comments=[(COMMUNITY, "2025-01-01T00:00:00Z", "Bad certs."), (ACME, "2025-01-08T00:00:01Z", "Ack.")],
    ),
    # 103: a question never answered: pending, judged at as_of = asked + 168 h and + 168 h 1 s
    mk_bug(
        103,
        "Acme: pending",
        "2025-01-01T00:00:00Z",
        COMMUNITY,
        ACME,
        comments=[(COMMUNITY, "2025-01-01T00:00:00Z", "Bad certs.")],
    ),
    # 104: the CA answers in the very second the bug is closed (P5: counts as made while open)
    mk_bug(
        104,
        "Acme: answer at the closing second",
        "2025-02-01T00:00:00Z",
        COMMUNITY,
        ACME,
        status="RESOLVED",
        comments=[(COMMUNITY, "2025-02-01T00:00:00Z", "Bad certs."), (ACME, "2025-02-03T00:00:00Z", "Done.")],
        history=[("2025-02-03T00:00:00Z", RP, [("status", "ASSIGNED", "RESOLVED")])],
    ),
    # 105: a next-update date nobody answers (end of D = as_of; P4 pending/missed)
    mk_bug(
        105,
        "Acme: end of D",
        "2025-03-01T00:00:00Z",
        ACME,
        ACME,
        comments=[
            (ACME, "2025-03-01T00:00:00Z", "Preliminary report."),
            (ACME, "2025-03-15T23:59:59Z", "Late update."),
        ],
        history=[("2025-03-02T00:00:00Z", RP, [wb("[ca-compliance]", NU + "2025-03-10")])],
    ),
    # 106: a CA comment and a new date in the same second (P4: met, not superseded)
    mk_bug(
        106,
        "Acme: met and superseded at once",
        "2025-03-01T00:00:00Z",
        ACME,
        ACME,
        comments=[
            (ACME, "2025-03-01T00:00:00Z", "Preliminary report."),
            (ACME, "2025-03-05T12:00:00Z", "Weekly update."),
        ],
        history=[
            ("2025-03-02T00:00:00Z", RP, [wb("[ca-compliance]", NU + "2025-03-10")]),
            ("2025-03-05T12:00:00Z", RP, [wb(NU + "2025-03-10", NU + "2025-03-20")]),
        ],
    ),
    # 107: missed, then the bug closes two days after end of D, then the CA comments (P4: days_late stops at the
    # closure, whichever comes first)
    mk_bug(
        107,
        "Acme: missed then closed",
        "2025-03-01T00:00:00Z",
        ACME,
        ACME,
        status="RESOLVED",
        comments=[
            (ACME, "2025-03-01T00:00:00Z", "Preliminary report."),
            (ACME, "2025-03-20T00:00:00Z", "Sorry, late."),
        ],
        history=[
            ("2025-03-02T00:00:00Z", RP, [wb("[ca-compliance]", NU + "2025-03-10")]),
            ("2025-03-12T23:59:59Z", RP, [("status", "ASSIGNED", "RESOLVED")]),
        ],
    ),
    # 108: an ongoing action item due 2025-04-20 (§6 overdue: due date < the date of as_of)
    mk_bug(
        108,
        "Acme: item due today",
        "2025-04-01T00:00:00Z",
        ACME,
        ACME,
        comments=[(ACME, "2025-04-01T00:00:00Z", "Report follows."), (ACME, "2025-04-02T00:00:00Z", ITEMS)],
    ),
    # 109/110: a dated root-program person acts last inside the period and first at its end (valid_to exclusive)
    mk_bug(
        109,
        "Acme: reviewer inside the period",
        "2024-06-30T23:59:59Z",
        REVIEWER,
        ACME,
        comments=[(REVIEWER, "2024-06-30T23:59:59Z", "Please explain.")],
    ),
    mk_bug(
        110,
        "Acme: reviewer at valid_to",
        "2024-07-01T00:00:00Z",
        REVIEWER,
        ACME,
        comments=[(REVIEWER, "2024-07-01T00:00:00Z", "Please explain.")],
    ),
    # 111: RESOLVED, then RESOLVED -> VERIFIED ten days later (P6: only the first is a closing)
    mk_bug(
        111,
        "Acme: verified later",
        "2025-05-01T00:00:00Z",
        COMMUNITY,
        ACME,
        status="VERIFIED",
        comments=[(COMMUNITY, "2025-05-01T00:00:00Z", "Bad certs.")],
        history=[
            ("2025-05-10T00:00:00Z", RP, [("status", "ASSIGNED", "RESOLVED"), ("resolution", "", "FIXED")]),
            ("2025-05-20T00:00:00Z", RP, [("status", "RESOLVED", "VERIFIED")]),
        ],
    ),
    # 112/113: filed by a third party; the CA's earliest report says Self (P8), or says so only later
    mk_bug(
        112,
        "Acme: self by disclosure",
        "2025-06-01T00:00:00Z",
        COMMUNITY,
        ACME,
        comments=[
            (COMMUNITY, "2025-06-01T00:00:00Z", "Filed for the CA."),
            (ACME, "2025-06-02T00:00:00Z", prelim("Self Reported")),
            (ACME, "2025-06-05T00:00:00Z", prelim("Third Party Reported")),
        ],
    ),
    mk_bug(
        113,
        "Acme: third party first",
        "2025-06-01T00:00:00Z",
        COMMUNITY,
        ACME,
        comments=[
            (COMMUNITY, "2025-06-01T00:00:00Z", "Bad certs."),
            (ACME, "2025-06-02T00:00:00Z", prelim("Third Party Reported")),
            (ACME, "2025-06-05T00:00:00Z", prelim("Self Reported")),
        ],
    ),
]

FULL = "## Full Incident Report\n\n### Summary\n- **Incident description:** Certificates with a wrong OU.\n"
BUGS += [
    # 114: the CA comments in the very second the date is set (P4: met only by a comment in (set_at, end of D])
    mk_bug(
        114,
        "Acme: comment at set_at",
        "2025-03-01T00:00:00Z",
        ACME,
        ACME,
        comments=[
            (ACME, "2025-03-01T00:00:00Z", "Report."),
            (ACME, "2025-03-02T00:00:00Z", "We will update."),
        ],
        history=[("2025-03-02T00:00:00Z", RP, [wb("[ca-compliance]", NU + "2025-03-10")])],
    ),
    # 115: closed before D ends, the CA comments after the closure but before end of D (P4: closed, not met)
    mk_bug(
        115,
        "Acme: closed then commented",
        "2025-03-01T00:00:00Z",
        ACME,
        ACME,
        status="RESOLVED",
        comments=[(ACME, "2025-03-01T00:00:00Z", "Report."), (ACME, "2025-03-06T00:00:00Z", "Thanks.")],
        history=[
            ("2025-03-02T00:00:00Z", RP, [wb("[ca-compliance]", NU + "2025-03-10")]),
            ("2025-03-05T00:00:00Z", RP, [("status", "ASSIGNED", "RESOLVED")]),
        ],
    ),
    # 116: the dated person's first action at exactly valid_from
    mk_bug(
        116,
        "Acme: reviewer at valid_from",
        "2024-01-01T00:00:00Z",
        REVIEWER,
        ACME,
        comments=[(REVIEWER, "2024-01-01T00:00:00Z", "Please explain.")],
    ),
    # 117/118: full report at exactly 336 h and at 336 h + 1 s (P7: late when > 336)
    mk_bug(
        117,
        "Acme: full report at 336 h",
        "2025-07-01T00:00:00Z",
        ACME,
        ACME,
        comments=[(ACME, "2025-07-01T00:00:00Z", "Preliminary."), (ACME, "2025-07-15T00:00:00Z", FULL)],
    ),
    mk_bug(
        118,
        "Acme: full report at 336 h + 1 s",
        "2025-07-01T00:00:00Z",
        ACME,
        ACME,
        comments=[(ACME, "2025-07-01T00:00:00Z", "Preliminary."), (ACME, "2025-07-15T00:00:01Z", FULL)],
    ),
    # 119: opened at the first second of 2023-02-15, no full report (P7: evaluated from that day on)
    mk_bug(
        119,
        "Acme: first guideline day",
        "2023-02-15T00:00:00Z",
        ACME,
        ACME,
        comments=[(ACME, "2023-02-15T00:00:00Z", "Preliminary.")],
    ),
    # 120: closed without a full report (P7: not evaluated)
    mk_bug(
        120,
        "Acme: closed without report",
        "2025-07-01T00:00:00Z",
        ACME,
        ACME,
        status="RESOLVED",
        comments=[(ACME, "2025-07-01T00:00:00Z", "Preliminary.")],
        history=[("2025-07-05T00:00:00Z", RP, [("status", "ASSIGNED", "RESOLVED")])],
    ),
    # 121: a root-program account quotes a full report before the CA posts its own (§3: full_report_at is the CA's)
    mk_bug(
        121,
        "Acme: quoted report",
        "2025-07-01T00:00:00Z",
        ACME,
        ACME,
        comments=[
            (ACME, "2025-07-01T00:00:00Z", "Preliminary."),
            (RP, "2025-07-02T00:00:00Z", "For reference, the template:\n\n" + FULL),
            (ACME, "2025-07-03T00:00:00Z", FULL),
        ],
    ),
    # 122: a third party posts a preliminary report (§1 rule 1b: preliminary reports do not make a ca account); a
    # needinfo set and cleared in the same second (§4, P0: answered at the first *later* event)
    mk_bug(
        122,
        "Acme: third-party preliminary",
        "2025-08-01T00:00:00Z",
        ACME,
        ACME,
        comments=[
            (ACME, "2025-08-01T00:00:00Z", "Report."),
            ("researcher@example.org", "2025-08-02T00:00:00Z", prelim("Third Party Reported")),
            (ACME, "2025-08-05T01:00:00Z", "Answer."),
        ],
        history=[
            ("2025-08-05T00:00:00Z", RP, [("flagtypes.name", "", f"needinfo?({ACME})")]),
            ("2025-08-05T00:00:00Z", ACME, [("flagtypes.name", f"needinfo?({ACME})", "")]),
            ("2025-08-10T00:00:00Z", RP, [("flagtypes.name", "", f"needinfo?({COMMUNITY})")]),  # not the CA
        ],
    ),
    # 199: a bug no longer visible (private now, or out of the searched set): in no figure
    mk_bug(199, "Acme: no longer visible", "2025-01-01T00:00:00Z", COMMUNITY, ACME),
]


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    folder = tmp_path_factory.mktemp("bounds")
    c = build_db(folder / "b.duckdb", BUGS)
    roles = folder / "roles.json"
    roles.write_text(
        json.dumps(
            {
                "people": [
                    {
                        "name": "Pat Reviewer",
                        "nicks": ["pat.reviewer"],
                        "roles": [
                            {
                                "role": "root_program",
                                "program": "Mozilla",
                                "from": "2024-01-01",
                                "to": "2024-07-01",
                            }
                        ],
                    }
                ]
            }
        )
    )
    load_user_accounts(c, roles)
    c.execute("UPDATE raw_bugs SET is_visible = false WHERE bug_id = 199")
    reparse(c, quiet=True)  # visibility flows into the parsed layer
    return c


def one_event(con: duckdb.DuckDBPyConnection, bug: int, as_of: str) -> tuple[Any, ...]:
    df = M.response_events(con, as_of)
    rows = [
        (
            r.kind,
            r.state,
            None if pd.isna(r.answered_at) else str(r.answered_at),
            r.wait_hours,
            bool(r.breach_7d),
        )
        for r in df[df.bug_id == bug].itertuples()
    ]
    assert len(rows) == 1, rows
    return rows[0]


def test_breach_7d_is_more_than_168_hours_not_168(con: duckdb.DuckDBPyConnection) -> None:
    """§4: breach_7d = the response time *exceeds* 7 x 24 hours; an answer at exactly 168 h is in time."""
    assert one_event(con, 101, "2025-02-01") == ("question", "answered", "2025-01-08 00:00:00", 168.0, False)
    state, at, hours, breach = one_event(con, 102, "2025-02-01")[1:]
    assert (state, at, breach) == ("answered", "2025-01-08 00:00:01", True)
    assert hours == pytest.approx(168 + 1 / 3600)


def test_breach_7d_of_a_pending_request_at_exactly_168_hours(con: duckdb.DuckDBPyConnection) -> None:
    """§4/P5: breach_7d applies to every state: pending for exactly 168 h at as_of is no breach, 1 s more is."""
    assert one_event(con, 103, "2025-01-08T00:00:00") == ("question", "pending", None, 168.0, False)
    assert one_event(con, 103, "2025-01-08T00:00:01")[1::3] == ("pending", True)


def test_ca_answer_at_the_closing_second_counts(con: duckdb.DuckDBPyConnection) -> None:
    """P5: a `ca` comment stamped with a closure counts as made while open: the request is answered, not
    closed_unanswered."""
    assert one_event(con, 104, "2025-03-01") == ("question", "answered", "2025-02-03 00:00:00", 48.0, False)


def obligation(con: duckdb.DuckDBPyConnection, bug: int, as_of: str) -> list[tuple[Any, ...]]:
    ob = M.obligations(con, as_of)
    return [
        (
            str(r.due)[:10],
            r.state,
            None if pd.isna(r.met_at) else str(r.met_at),
            None if pd.isna(r.days_late) else round(r.days_late, 6),
        )
        for r in ob[ob.bug_id == bug].sort_values("set_at").itertuples()
    ]


def test_obligation_pending_only_while_end_of_d_is_after_as_of(con: duckdb.DuckDBPyConnection) -> None:
    """P4: pending while end of D (D 23:59:59 UTC) is after as_of; at as_of = end of D it is missed, 0 days late
    (P0: the state at t includes everything stamped at t, and nothing came)."""
    assert obligation(con, 105, "2025-03-10T23:59:58") == [("2025-03-10", "pending", None, None)]
    assert obligation(con, 105, "2025-03-10T23:59:59") == [("2025-03-10", "missed", None, 0.0)]
    assert obligation(con, 105, "2025-03-11T23:59:59") == [("2025-03-10", "missed", None, 1.0)]
    assert obligation(con, 105, "2025-04-01") == [
        ("2025-03-10", "missed", None, 5.0)
    ]  # answered late on 03-15


def test_overdue_only_while_the_missed_date_is_unanswered(con: duckdb.DuckDBPyConnection) -> None:
    """§5: next_update_overdue = the current obligation is missed and still unanswered at as_of."""
    M.snapshot(con, "2025-03-12")
    assert 105 in {r[0] for r in con.execute("SELECT bug_id FROM next_update_overdue").fetchall()}
    M.snapshot(con, "2025-03-20")
    assert 105 not in {r[0] for r in con.execute("SELECT bug_id FROM next_update_overdue").fetchall()}


def test_a_comment_in_the_second_the_date_is_set_does_not_meet_it(con: duckdb.DuckDBPyConnection) -> None:
    """P4: met by the first `ca` comment in (set_at, end of D]: the window is open at set_at (P0: later means
    strictly after)."""
    assert obligation(con, 114, "2025-03-12T23:59:59") == [("2025-03-10", "missed", None, 2.0)]


def test_closure_before_a_ca_comment_closes_the_obligation(con: duckdb.DuckDBPyConnection) -> None:
    """P4: closed when the bug closes before end of D with no `ca` comment in between; a comment after the closure
    does not meet it."""
    assert obligation(con, 115, "2025-03-20") == [("2025-03-10", "closed", None, None)]


def test_met_and_superseded_in_the_same_second_is_met(con: duckdb.DuckDBPyConnection) -> None:
    """P4: superseded only when the date changes *before* any `ca` comment; a comment in the same second as the new
    date meets the old one (and the new date then starts its own obligation)."""
    assert obligation(con, 106, "2025-03-15") == [
        ("2025-03-10", "met", "2025-03-05 12:00:00", None),
        ("2025-03-20", "pending", None, None),
    ]


def test_days_late_stops_at_a_later_closing(con: duckdb.DuckDBPyConnection) -> None:
    """P4: days_late = (first `ca` comment after end of D, or the closure, or as_of, whichever comes first) - end of
    D: the bug closed 2 days after end of D, the CA wrote 10 days after it."""
    assert obligation(con, 107, "2025-04-01") == [("2025-03-10", "missed", None, 2.0)]
    # before the closure, as_of bounds it
    assert obligation(con, 107, "2025-03-11T23:59:59") == [("2025-03-10", "missed", None, 1.0)]


def test_action_item_due_on_the_as_of_date_is_not_overdue(con: duckdb.DuckDBPyConnection) -> None:
    """§6: overdue = open and due date < the date of as_of: due on the as_of date (any time that day) is not yet
    overdue; from the next day it is."""
    for as_of, overdue in (
        ("2025-04-20T00:00:00", False),
        ("2025-04-20T23:59:59", False),
        ("2025-04-21", True),
    ):
        ai = M.action_items(con, as_of)
        got = [
            (r.action, str(r.due_date)[:10], r.status, bool(r.is_open), bool(r.is_overdue))
            for r in ai.itertuples()
        ]
        assert got == [("Add a linter", "2025-04-20", "ongoing", True, overdue)], as_of


def test_dated_role_ends_at_valid_to(con: duckdb.DuckDBPyConnection) -> None:
    """§1/P9 and people.json: a dated root-program role holds in [from, to): an account whose first action on a bug
    is at exactly valid_to is judged by the other rules (community here), one second earlier it is root_program."""
    M.snapshot(con, "2025-01-01")
    roles = dict(
        ((b, r), role)
        for b, r, role in con.execute(
            "SELECT bug_id, account, role FROM roles WHERE bug_id IN (109, 110)"
        ).fetchall()
    )
    assert roles[(109, REVIEWER)] == "root_program"
    assert roles[(110, REVIEWER)] == "community"


def test_dated_role_starts_at_valid_from(con: duckdb.DuckDBPyConnection) -> None:
    """people.json: 'from' is inclusive: a first action at exactly valid_from is root_program."""
    M.snapshot(con, "2025-01-01")
    got = con.execute(f"SELECT role FROM roles WHERE bug_id = 116 AND account = '{REVIEWER}'").fetchall()
    assert got == [("root_program",)]


def test_third_party_preliminary_author_stays_community(con: duckdb.DuckDBPyConnection) -> None:
    """§1 rule 1b: a full report or a closure summary makes its author `ca` on the bug; a preliminary report does not
    (a third party may post one)."""
    M.snapshot(con, "2025-09-01")
    got = con.execute(
        "SELECT role FROM roles WHERE bug_id = 122 AND account = 'researcher@example.org'"
    ).fetchall()
    assert got == [("community",)]


def test_needinfo_cleared_in_the_second_it_is_set_is_not_its_answer(con: duckdb.DuckDBPyConnection) -> None:
    """§4/P0: a request is answered at the first *later* event: a clear stamped with the needinfo is not later; the
    CA's comment an hour later answers it. P5: needinfos to non-`ca` accounts are not requests."""
    df = M.response_events(con, "2025-09-01")
    got = [(r.kind, r.state, str(r.answered_at), r.response_hours) for r in df[df.bug_id == 122].itertuples()]
    # P5: a needinfo to a non-ca account (the community account asked on 08-10) is no request
    assert [g for g in got if g[0] == "needinfo"] == [("needinfo", "answered", "2025-08-05 01:00:00", 1.0)]


def test_a_bug_exists_from_its_creation_second(con: duckdb.DuckDBPyConnection) -> None:
    """P0: the state at t includes every change stamped at t: a bug created at as_of exists, with its comment 0
    (a request pending for 0 hours)."""
    assert one_event(con, 103, "2025-01-01T00:00:00") == ("question", "pending", None, 0.0, False)
    assert 103 not in set(M.bug_metrics(con, "2024-12-31T23:59:59")["bug_id"])


def test_a_bug_no_longer_visible_is_in_no_figure(con: duckdb.DuckDBPyConnection) -> None:
    """docs/metrics.md: bugs the sync marked no longer visible (private now, or out of the bug set) are left out."""
    assert 199 not in set(M.bug_metrics(con, "2025-06-01")["bug_id"])
    assert 101 in set(M.bug_metrics(con, "2025-06-01")["bug_id"])


def test_late_full_report_edges(con: duckdb.DuckDBPyConnection) -> None:
    """P7: late when hours_to_full_report > 336 (exactly 336 is in time); evaluated for bugs opened on or after
    2023-02-15 (its first second included); closed without a full report: null. §3: full_report_at is the first
    full report by a `ca` account (a root-program account quoting one does not count)."""
    bm = M.bug_metrics(con, "2025-08-01").set_index("bug_id")
    assert (bm.loc[117, "hours_to_full_report"], bool(bm.loc[117, "late_full_report"])) == (336.0, False)
    assert bool(bm.loc[118, "late_full_report"]) is True
    assert bool(bm.loc[119, "late_full_report"]) is True  # opened 2023-02-15 00:00:00, never reported
    assert pd.isna(bm.loc[120, "late_full_report"])  # closed without one
    assert str(bm.loc[121, "full_report_at"]) == "2025-07-03 00:00:00"
    early = M.bug_metrics(con, "2023-02-28T23:59:59").set_index("bug_id")
    assert bool(early.loc[119, "late_full_report"]) is False  # 13 days 23:59:59 open


def test_resolved_to_verified_is_not_a_closing(con: duckdb.DuckDBPyConnection) -> None:
    """P6: a closing is a transition from an open status to RESOLVED/VERIFIED/CLOSED; RESOLVED -> VERIFIED is not, so
    closed_at stays the RESOLVED time and a pending request ends there."""
    bm = M.bug_metrics(con, "2025-06-01").set_index("bug_id")
    assert str(bm.loc[111, "closed_at"]) == "2025-05-10 00:00:00" and bm.loc[111, "days_to_close"] == 9.0
    assert bool(bm.loc[111, "is_open"]) is False
    assert one_event(con, 111, "2025-06-01") == ("question", "closed_unanswered", None, 216.0, True)
    M.snapshot(con, "2025-06-01")
    flags = con.execute(
        "SELECT added, is_closing, is_reopening FROM metric_status_changes WHERE bug_id = 111 ORDER BY changed_at"
    ).fetchall()
    assert flags == [("RESOLVED", True, False), ("VERIFIED", False, False)]


def test_self_reported_by_the_earliest_disclosure_field(con: duckdb.DuckDBPyConnection) -> None:
    """§3 and P8: self_reported also holds when the *earliest* report with a "Source of incident disclosure" field
    says Self, though the creator is not `ca`; first_ca_response_hours is then not computed."""
    bm = M.bug_metrics(con, "2025-07-01").set_index("bug_id")
    assert bm.loc[112, "creator_role"] == "community" and bm.loc[113, "creator_role"] == "community"
    assert bool(bm.loc[112, "self_reported"]) is True and pd.isna(bm.loc[112, "first_ca_response_hours"])
    assert bool(bm.loc[113, "self_reported"]) is False and bm.loc[113, "first_ca_response_hours"] == 24.0
    # before the CA's report exists, nothing says Self yet
    early = M.bug_metrics(con, "2025-06-01T12:00:00").set_index("bug_id")
    assert bool(early.loc[112, "self_reported"]) is False


# -- parsing edges (docs/parsing.md) --


@pytest.mark.parametrize(
    "text,want",
    [
        ("12-5-2025", date(2025, 12, 5)),  # first number 12: still month first (day first only when > 12)
        ("12/5/2025", date(2025, 12, 5)),
        ("13-5-2025", date(2025, 5, 13)),
        ("12-13-2025", date(2025, 12, 13)),
        ("12-12-2025", date(2025, 12, 12)),
        ("12.5.2025", date(2025, 5, 12)),  # dots: day first whatever the numbers
        ("5.12.2025", date(2025, 12, 5)),
        ("1-12-2025", date(2025, 1, 12)),
    ],
)
def test_ambiguous_day_month_rule_at_twelve(text: str, want: date) -> None:
    """docs/parsing.md (P4 "the project's documented rule"): `A-B-YYYY` and `A/B/YYYY` are month first unless
    A > 12; `D.M.YYYY` is day first."""
    assert parse_date(text) == want
    assert parse_whiteboard(f"[ca-compliance] Next update {text}").next_update == want


@pytest.mark.parametrize(
    "text",
    [
        "[ca-compliance] Next update by 2025-06-30",
        "[ca-compliance] Next Update: 2025-06-30",
        "[ca-compliance] next-update on 30-Jun-2025",
        "[ca-compliance] Next update at 30.6.2025",
        "[ca-compliance] [Next update by 2025-06-30]",
    ],
)
def test_next_update_by_date_is_read(text: str) -> None:
    """§5: "Next update <date>" in any form of INCIDENT_TEMPLATES.md §6, including "Next update by <date>"."""
    got = parse_whiteboard(text)
    assert got.next_update == date(2025, 6, 30)
    assert got.tags == ["ca-compliance"]


def test_user_alias_of_a_known_ca_keeps_its_owner(tmp_path: Path) -> None:
    """§2 / docs/ca-identity.md: a user's alias entry whose name is a known spelling keeps that CA's owner (here
    "Comodo CA", owned by Sectigo), instead of becoming an owner of its own."""
    f = tmp_path / "aliases.json"
    f.write_text(json.dumps({"aliases": {"Comodo CA": ["Comodo Certification Authority"]}}))
    got = parse_ca("Comodo Certification Authority: late revocation", load_aliases(f))
    assert (got.name, got.owner, got.subject_kind) == ("Comodo CA", "Sectigo", "ca")
    # a new name with no known spelling is its own owner
    f.write_text(json.dumps({"aliases": {"Northwind PKI": ["Northwind"]}}))
    got = parse_ca("Northwind: late CRL", load_aliases(f))
    assert (got.name, got.owner) == ("Northwind PKI", "Northwind PKI")


def test_v2_preliminary_that_promises_the_full_report_is_not_a_full_report() -> None:
    """§3 and docs/parsing.md: a v2.0 "Incident Report" with fewer than 3 sections that speaks of the full report
    to come (without the word preliminary) is a preliminary report, not a full one."""
    text = (
        "Incident Report\n\nSummary\n\n"
        "We found 3 certificates with a bad OU on 2024-10-21 and stopped issuance. "
        "We will post the full report by 2024-11-08.\n\n"
        "Impact\n\n3 OV certificates, all revoked.\n"
    )
    res = parse_text(text)
    assert [r.kind for r in res.reports] == ["preliminary"]
    rep = res.reports[0]
    assert rep.is_full() is False and rep.fields["full_report_promised_by"] == "2024-11-08"
    # the same report with a third section is a full v2.0 report
    full = parse_text(text + "\nTimeline\n\n- 2024-10-21 10:00 UTC: found.\n")
    assert [r.kind for r in full.reports] == ["v2_full"] and full.reports[0].is_full()


def test_parse_edges_read_by_hand() -> None:
    """docs/parsing.md and §2/§3: a full report needs 4 of the 7 answers; ISO dates with one-digit month and day; a
    two-word name loses its legal suffix; a long sentence before a colon names no CA; "Self" alone is self."""
    qs = [
        "1. How your CA first became aware of the problem.\n\nA researcher told us.\n",
        "2. A timeline of the actions your CA took in response.\n\n2025-03-30 09:12 UTC received.\n",
        "3. Whether your CA has stopped, or has not yet stopped, certificate issuance.\n\nStopped.\n",
        "4. In a case involving certificates, a summary of the problematic certificates.\n\n12 certificates.\n",
    ]
    four = parse_text("Incident report.\n\n" + "\n".join(qs)).reports
    assert [r.kind for r in four] == ["seven_questions"] and four[0].is_full()
    three = parse_text("Incident report.\n\n" + "\n".join(qs[:3])).reports
    assert [r.kind for r in three] == ["seven_questions"] and not three[0].is_full()
    assert parse_date("due 2025-3-1") == date(2025, 3, 1)
    assert ca_key("Acme Ltd") == "acme" and ca_key("Acme Trust Services GmbH") == "acmetrustservices"
    al = load_aliases()
    long_head = (
        "Please note that the following certificates were found to be wrong in several ways by our team"
    )
    assert len(long_head) > 80 and parse_ca(long_head + ": details", al).raw is None
    # bug references have 5 to 8 digits (docs/parsing.md); a CA's own ticket numbers are not Bugzilla bugs
    assert find_bug_refs("Fixed in our bug 4321 and ticket 98765; see bug 1886467.") == [1886467]
    assert find_bug_refs("bug 12345678 and bug 123456789") == [12345678]
    assert [normalise_disclosure(x) for x in ("Self", "Self-detected", "Audit", "Third party")] == [
        "self",
        "self",
        "audit",
        "third_party",
    ]


def test_every_mutant_of_make_mutate_still_applies() -> None:
    """`make mutate` tests these boundaries by mutating the code; a mutant whose text the code no longer holds would
    silently test nothing (two did, after a view was rewritten for speed), so the catalogue is checked with the suite."""
    from tests import mutate

    assert mutate.check(mutate.CATALOGUE) == []
