"""Metrics: exact numbers on hand-built bugs (every edge METRICS.md names), and the planted truth of a corpus."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from bzmine import metrics as M
from bzmine.parsing import reparse
from bzmine.store import raw
from bzmine.store.db import connect
from tests.helpers import mk_bug

ACME = "compliance@acme.example"
OPS = "pki.ops@acme.example"
RP = "rp@mozilla.com"
COMMUNITY = "watcher@gmail.com"


def table(*rows: str) -> str:
    return "### Action Items\n| Action Item | Kind | Due Date | Status |\n|---|---|---|---|\n" + "\n".join(
        rows
    )


BUGS = [
    # 1: third-party report; folding, needinfo cleared, closure cuts a request, reopen starts a new period
    mk_bug(
        1,
        "Acme: problem one",
        "2025-01-01T00:00:00Z",
        COMMUNITY,
        ACME,
        comments=[
            (COMMUNITY, "2025-01-01T00:00:00Z", "I found bad certificates."),
            (RP, "2025-01-02T00:00:00Z", "Please also explain the scope."),  # folds into the first request
            (ACME, "2025-01-03T12:00:00Z", "We are looking at it."),  # answers after 60 h
            (RP, "2025-01-05T00:00:00Z", "When is the full report due?"),  # question + needinfo
            (ACME, "2025-01-10T00:00:00Z", "Full report next week."),  # answers the question after 120 h
            (COMMUNITY, "2025-01-20T00:00:00Z", "What about the other profile?"),  # closed unanswered
            (RP, "2025-01-30T00:00:00Z", "Closing."),  # stamped with the closing: not a request
            (OPS, "2025-02-01T00:00:00Z", "Late reply."),  # after the closure: answers nothing
            (RP, "2025-02-06T00:00:00Z", "Reopened: one more question."),  # pending at as_of
        ],
        history=[
            (
                "2025-01-01T01:00:00Z",
                RP,
                [("assigned_to", "nobody@mozilla.org", ACME), ("status", "NEW", "ASSIGNED")],
            ),
            ("2025-01-05T00:00:00Z", RP, [("flagtypes.name", "", f"needinfo?({ACME})")]),
            (
                "2025-01-06T00:00:00Z",
                ACME,
                [("flagtypes.name", f"needinfo?({ACME})", "")],
            ),  # cleared after 24 h
            ("2025-01-30T00:00:00Z", RP, [("status", "ASSIGNED", "RESOLVED"), ("resolution", "", "FIXED")]),
            ("2025-02-05T00:00:00Z", RP, [("status", "RESOLVED", "REOPENED"), ("resolution", "FIXED", "")]),
        ],
        status="REOPENED",
    ),
    # 2: self-reported; next-update obligations met on the day, superseded, missed, pending
    mk_bug(
        2,
        "Acme: problem two",
        "2025-03-01T00:00:00Z",
        ACME,
        ACME,
        comments=[
            (ACME, "2025-03-01T00:00:00Z", "Preliminary report."),
            (ACME, "2025-03-10T23:59:59Z", "Update on the last second of the day."),
            (ACME, "2025-03-28T12:00:00Z", "Late update."),
        ],
        history=[
            (
                "2025-03-02T00:00:00Z",
                RP,
                [("whiteboard", "[ca-compliance]", "[ca-compliance] Next update 2025-03-10")],
            ),
            (
                "2025-03-11T00:00:00Z",
                RP,
                [
                    (
                        "whiteboard",
                        "[ca-compliance] Next update 2025-03-10",
                        "[ca-compliance] Next update 2025-03-20",
                    )
                ],
            ),
            (
                "2025-03-15T00:00:00Z",
                RP,
                [
                    (
                        "whiteboard",
                        "[ca-compliance] Next update 2025-03-20",
                        "[ca-compliance] Next update 25-Mar-2025",
                    )
                ],
            ),
            (
                "2025-03-16T00:00:00Z",
                RP,
                [
                    (
                        "whiteboard",
                        "[ca-compliance] Next update 25-Mar-2025",
                        "[ca-compliance] [dv-misissuance] Next update 2025-03-25",
                    )
                ],
            ),  # same date: nothing new
            (
                "2025-03-29T00:00:00Z",
                RP,
                [
                    (
                        "whiteboard",
                        "[ca-compliance] [dv-misissuance] Next update 2025-03-25",
                        "[ca-compliance] [dv-misissuance] Next update 2025-04-05",
                    )
                ],
            ),
        ],
    ),
    # 3: action items: latest CA table wins; vocabulary; due dates; slips; a root-program table is ignored
    mk_bug(
        3,
        "Acme: problem three",
        "2025-04-01T00:00:00Z",
        ACME,
        ACME,
        comments=[
            (ACME, "2025-04-01T00:00:00Z", "Report follows."),
            (
                ACME,
                "2025-04-02T00:00:00Z",
                table(
                    "| Fix the linter | Prevent | 2025-04-20 | Ongoing |",
                    "| Train staff | Mitigate | 2025-04-10 | Done |",
                    "| Monitor queue | Detect | 2025-05-01 | Delayed |",
                ),
            ),
            (
                ACME,
                "2025-04-15T00:00:00Z",
                table(
                    "| Fix the linter | Prevent | 2025-05-15 | Delayed |",
                    "| Train staff | Mitigate | 2025-04-10 | Completed |",
                    "| Monitor queue | Detect | TBD | Wibble |",
                    "| New check | Detect | 2025-04-16 | In progress |",
                ),
            ),
            (RP, "2025-04-16T00:00:00Z", table("| Something else | Prevent | 2025-01-01 | Ongoing |")),
        ],
        history=[("2025-04-25T00:00:00Z", RP, [("status", "ASSIGNED", "RESOLVED")])],
        status="RESOLVED",
    ),
    # 4: roles: a free-mail assignee is ca on its own bug only; a bot never asks
    mk_bug(
        4,
        "Acme: problem four",
        "2025-05-01T00:00:00Z",
        "ca.person@gmail.com",
        "ca.person@gmail.com",
        comments=[
            (COMMUNITY, "2025-05-02T00:00:00Z", "Another gmail user asks."),
            ("triage-bot@mozilla.tld", "2025-05-03T00:00:00Z", "Reminder."),
            ("ca.person@gmail.com", "2025-05-04T00:00:00Z", "Answer."),
        ],
    ),
]


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    c = connect(tmp_path_factory.mktemp("m") / "m.duckdb")
    c.execute("BEGIN TRANSACTION")
    raw.upsert_bugs(c, BUGS, run_id=1)
    c.execute("COMMIT")
    reparse(c, quiet=True)
    return c


def events(con: duckdb.DuckDBPyConnection, bug: int, as_of: str) -> list[tuple[Any, ...]]:
    df = M.response_events(con, as_of)
    df = df[df.bug_id == bug]
    return [
        (
            r.kind,
            str(r.asked_at),
            r.asked_by,
            r.state,
            None if pd.isna(r.answered_at) else str(r.answered_at),
            round(r.wait_hours, 4),
            bool(r.breach_7d),
        )
        for r in df.itertuples()
    ]


def test_requests_fold_answer_clear_close_reopen(con: duckdb.DuckDBPyConnection) -> None:
    assert events(con, 1, "2025-02-10") == [
        ("question", "2025-01-01 00:00:00", COMMUNITY, "answered", "2025-01-03 12:00:00", 60.0, False),
        ("question", "2025-01-05 00:00:00", RP, "answered", "2025-01-10 00:00:00", 120.0, False),
        ("needinfo", "2025-01-05 00:00:00", RP, "answered", "2025-01-06 00:00:00", 24.0, False),
        ("question", "2025-01-20 00:00:00", COMMUNITY, "closed_unanswered", None, 240.0, True),
        ("question", "2025-02-06 00:00:00", RP, "pending", None, 96.0, False),
    ]
    df = M.response_events(con, "2025-02-10")
    ni = df[(df.bug_id == 1) & (df.kind == "needinfo")].iloc[0]
    assert ni.answered_by == ACME  # cleared by the CA before any comment


def test_as_of_hides_the_future_and_time_zones_agree(con: duckdb.DuckDBPyConnection) -> None:
    # at 2025-01-04 only the first request exists, answered; the second is not asked yet
    assert [e[:4] for e in events(con, 1, "2025-01-04")] == [
        ("question", "2025-01-01 00:00:00", COMMUNITY, "answered")
    ]
    # a pending request at as_of: waiting 2 days
    assert events(con, 1, "2025-01-22")[-1] == (
        "question",
        "2025-01-20 00:00:00",
        COMMUNITY,
        "pending",
        None,
        48.0,
        False,
    )
    assert events(con, 1, "2025-02-10T01:00:00+01:00") == events(con, 1, "2025-02-10T00:00:00Z")


def test_bug_metrics_close_reopen_first_response(con: duckdb.DuckDBPyConnection) -> None:
    bm = M.bug_metrics(con, "2025-02-01").set_index("bug_id")
    assert bm.loc[1, "self_reported"] == False  # noqa: E712
    assert bm.loc[1, "first_ca_response_hours"] == 60.0
    assert str(bm.loc[1, "closed_at"]) == "2025-01-30 00:00:00" and bm.loc[1, "days_to_close"] == 29.0
    assert 2 not in bm.index  # created after as_of: does not exist yet
    after = M.bug_metrics(con, "2025-03-05").set_index("bug_id")
    assert after.loc[2, "self_reported"] == True and pd.isna(after.loc[2, "first_ca_response_hours"])  # noqa: E712
    assert after.loc[1, "is_open"] == True and pd.isna(after.loc[1, "closed_at"])  # noqa: E712  reopened


def test_update_obligations(con: duckdb.DuckDBPyConnection) -> None:
    ob = M.obligations(con, "2025-04-01")
    ob = ob[ob.bug_id == 2]
    got = [
        (str(r.set_at), str(r.due)[:10], r.state, None if pd.isna(r.days_late) else round(r.days_late, 6))
        for r in ob.itertuples()
    ]
    late = (datetime(2025, 3, 28, 12) - datetime(2025, 3, 25, 23, 59, 59)).total_seconds() / 86400
    assert got == [
        ("2025-03-02 00:00:00", "2025-03-10", "met", None),  # met on the last second of the day
        ("2025-03-11 00:00:00", "2025-03-20", "superseded", None),
        ("2025-03-15 00:00:00", "2025-03-25", "missed", round(late, 6)),  # the same-date edit started nothing
        ("2025-03-29 00:00:00", "2025-04-05", "pending", None),
    ]
    M.snapshot(con, "2025-03-27")
    overdue = con.execute("SELECT bug_id, due FROM next_update_overdue").fetchall()
    assert overdue == [(2, date(2025, 3, 25))]
    M.snapshot(con, "2025-04-01")
    assert con.execute("SELECT count(*) FROM next_update_overdue").fetchone()[0] == 0


def test_action_items(con: duckdb.DuckDBPyConnection) -> None:
    ai = M.action_items(con, "2025-04-20")
    ai = ai[ai.bug_id == 3]
    got = [
        (
            r.action,
            str(r.due_date)[:10] if not pd.isna(r.due_date) else None,
            r.status,
            bool(r.is_open),
            bool(r.is_overdue),
            int(r.due_date_slips),
        )
        for r in ai.itertuples()
    ]
    assert got == [
        ("Fix the linter", "2025-05-15", "delayed", True, False, 1),
        ("Train staff", "2025-04-10", "complete", False, False, 0),
        ("Monitor queue", None, "unknown", False, False, 0),
        ("New check", "2025-04-16", "ongoing", True, True, 0),
    ]
    sc = M.scorecard(con, "2025-04-26").set_index("ca")
    assert sc.loc["Acme", "closed_with_open_items"] == 1  # bug 3 closed with two open items
    assert sc.loc["Acme", "open_action_items"] == 0  # P2: only bugs open at as_of count here
    assert sc.loc["Acme", "unknown_status_items"] == 1


def test_roles(con: duckdb.DuckDBPyConnection) -> None:
    M.snapshot(con, "2025-06-01")
    roles = {(b, a): r for b, a, r in con.execute("SELECT bug_id, account, role FROM roles").fetchall()}
    assert roles[(1, ACME)] == "ca" and roles[(1, OPS)] == "ca"  # assignee; same domain as an Acme assignee
    assert roles[(1, RP)] == "root_program" and roles[(1, COMMUNITY)] == "community"
    assert roles[(4, "ca.person@gmail.com")] == "ca"  # assignee of its own bug
    assert roles[(4, COMMUNITY)] == "community"  # gmail is free-mail: no domain rule
    assert roles[(4, "triage-bot@mozilla.tld")] == "bot"
    assert [e[:2] for e in events(con, 4, "2025-06-01")] == [("question", "2025-05-02 00:00:00")]


def test_sql_refuses_writes_and_sees_as_of(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from bzmine.cli import cli

    db = str(
        con.execute(
            "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchone()[0]
    )
    runner = CliRunner()
    for bad in (
        "DELETE FROM raw_bugs",
        "CREATE TABLE x AS SELECT 1",
        "SELECT 1; DROP TABLE raw_bugs",
        "COPY raw_bugs TO 'x.csv'",
    ):
        res = runner.invoke(cli, ["sql", bad, "--db", db])
        assert res.exit_code == 1 and "Error" in res.output, bad
    res = runner.invoke(
        cli,
        [
            "sql",
            "SELECT count(*) AS n FROM response_events WHERE bug_id = ?".replace("?", "1"),
            "--db",
            db,
            "--as-of",
            "2025-01-04",
            "--format",
            "csv",
        ],
    )
    assert res.exit_code == 0 and res.output.strip().splitlines() == ["n", "1"]


# -- planted truth of a synthetic corpus --

AS_OF = "2026-11-01"


def _ts(s: str | None) -> str | None:
    return s.replace("T", " ").replace("Z", "") if s else None


def test_metrics_match_planted_truth(sample_db: tuple[Path, dict[int, Any]]) -> None:
    path, truth = sample_db
    assert len(truth) >= 500
    con = duckdb.connect(str(path))
    M.include_private(con)  # the truth covers every planted bug, the private ones (synced with a key) too
    M.snapshot(con, AS_OF)
    # response events
    got = sorted(
        (r[0], r[1], str(r[2]), r[3], r[4], str(r[5]) if r[5] else None)
        for r in con.execute(
            "SELECT bug_id, kind, asked_at, asked_by, state, answered_at FROM response_events"
        ).fetchall()
    )
    want = []
    for b in truth.values():
        for q in b["requests"]:
            state = (
                "answered"
                if q.get("answered_at")
                else "closed_unanswered"
                if q.get("closed_unanswered_at")
                else "pending"
            )
            want.append(
                (b["id"], q["kind"], _ts(q["asked_at"]), q["asked_by"], state, _ts(q.get("answered_at")))
            )
    assert got == sorted(want)
    # obligations: state and lateness follow from what was planted
    closings = {
        r[0]: [x[0] for x in r[1]]
        for r in con.execute(
            "SELECT bug_id, list((changed_at,) ORDER BY changed_at) FROM history WHERE field_name='status' "
            "AND added IN ('RESOLVED','VERIFIED','CLOSED') AND removed NOT IN ('RESOLVED','VERIFIED','CLOSED') GROUP BY 1"
        ).fetchall()
    }

    def expected(at: str) -> list[tuple[Any, ...]]:
        """Each obligation's state at `at` from what was planted (times, and the planted superseded/closed)."""
        as_of = datetime.fromisoformat(at)
        out = []
        for b in truth.values():
            obs = b["obligations"]
            for k, o in enumerate(obs):
                set_at = datetime.fromisoformat(o["set_at"][:-1])
                if set_at > as_of:
                    continue
                end = datetime.fromisoformat(o["due"]) + timedelta(seconds=86399)
                nxt = datetime.fromisoformat(obs[k + 1]["set_at"][:-1]) if k + 1 < len(obs) else None
                ans = datetime.fromisoformat(o["answered_at"][:-1]) if o["answered_at"] else None
                ans = ans if ans and ans <= as_of else None
                cl = [c for c in closings.get(b["id"], []) if set_at < c <= as_of]
                if o.get("state") == "superseded" and nxt is not None and nxt <= as_of:
                    state, late = "superseded", None
                elif ans and ans <= end:
                    state, late = "met", None
                elif cl and cl[0] <= end:
                    state, late = "closed", None
                elif end > as_of:
                    state, late = "pending", None
                else:
                    stop = min(
                        [x for x in (ans, next((c for c in cl if c > end), None), as_of) if x is not None]
                    )
                    state, late = "missed", round((stop - end).total_seconds() / 86400, 6)
                out.append((b["id"], str(set_at), o["due"], state, late))
        return sorted(out)

    def got() -> list[tuple[Any, ...]]:
        return sorted(
            (r[0], str(r[1]), str(r[2]), r[3], None if r[4] is None else round(r[4], 6))
            for r in con.execute(
                "SELECT bug_id, set_at, due, state, days_late FROM update_obligations"
            ).fetchall()
        )

    want_ob = expected(AS_OF)
    assert got() == want_ob
    planted = {o.get("state") for b in truth.values() for o in b["obligations"]}
    assert {"superseded", "closed"} <= planted
    assert {"met", "missed", "superseded", "closed"} <= {s for *_, s, _ in want_ob}  # each planted
    seen = set()
    for at in ("2019-03-01", "2020-09-15", "2022-02-01", "2023-07-01", "2024-06-01", "2025-09-15"):
        M.snapshot(
            con, at
        )  # earlier as_of: dates still to come are pending, answers after it do not count yet
        earlier = expected(at)
        assert got() == earlier, at
        seen |= {s for *_, s, _ in earlier}
    assert "pending" in seen
    M.snapshot(con, AS_OF)
    # action items: the latest table each CA posted, by due date and normalised status
    # (phrases planted by meaning have the truth "not_complete": any reading but complete is right; an item written
    # as a line "action - status - due" keeps the whole line as its action)
    want_ai = {
        (b["id"], it["action"]): (it["due"], it["status"]) for b in truth.values() for it in b["action_items"]
    }
    by_bug: dict[int, list[str]] = {}
    for bug_id, action in want_ai:
        by_bug.setdefault(bug_id, []).append(action)
    got_ai = {}
    for bug_id, action, due, status in con.execute(
        "SELECT bug_id, action, due_date, status FROM action_item_status"
    ).fetchall():
        planted = next((a for a in by_bug.get(bug_id, []) if action.startswith(a)), action)
        if want_ai.get((bug_id, planted), (None, None))[1] == "not_complete" and status in (
            "ongoing",
            "delayed",
            "unknown",
        ):
            status = "not_complete"
        got_ai[(bug_id, planted)] = (str(due), status)
    assert got_ai == want_ai
    assert (
        sum(s == "not_complete" for _, s in want_ai.values()) >= 5
        and sum(s == "canceled" for _, s in want_ai.values()) >= 5
    )
    con.close()


def test_percentiles_follow_p10(sample_db: tuple[Path, dict[int, Any]]) -> None:
    con = duckdb.connect(str(sample_db[0]))
    sc = M.scorecard(con, AS_OF)
    peers = sc[sc.bugs_total >= 5]
    for figure, better_high in (
        ("median_response_hours", False),
        ("self_reported_share", True),
        ("breaches_7d", False),
    ):
        vals = peers[["ca", figure]].dropna()
        n = len(vals)
        assert n > 2
        for ca, v in vals.itertuples(index=False):
            # P10 with "higher is better": count the peers this CA is strictly better than
            better = (vals[figure] < v).sum() if better_high else (vals[figure] > v).sum()
            equal = (vals[figure] == v).sum() - 1
            expected = 100 * (better + 0.5 * equal) / (n - 1)
            assert sc.set_index("ca").loc[ca, f"{figure}_pct"] == pytest.approx(expected)
    small = sc[sc.bugs_total < 5]
    assert small.filter(like="_pct").isna().all().all()
    con.close()


def test_layer_dependencies_come_from_the_view_sql_in_order() -> None:
    """DEPS is read off the SQL: every layer is a view, each reads only layers listed before it (LAYERS is a
    topological order), and edges a reader can check by eye are there."""
    assert set(M.DEPS) == set(M.LAYERS)
    pos = {n: i for i, n in enumerate(M.LAYERS)}
    for layer, deps in M.DEPS.items():
        assert all(pos[d] < pos[layer] for d in deps), (layer, deps)
    assert {
        "metric_scope",
        "response_events",
        "update_obligations",
        "metric_current_items",
        "repeats",
        "report_review",
    } <= set(M.DEPS["scorecard"])
    # the scorecard, duties and due never compute the due-date slips (the costly part of action_item_status)
    assert "action_item_status" not in M._closure(("scorecard", "duties", "metric_current_items"))
    assert M.DEPS["scorecard_percentiles"] == ("scorecard",) and M.DEPS["metric_status_changes"] == ()


def test_a_single_use_snapshot_leaves_layers_read_once_as_views(
    sample_db: tuple[Path, dict[int, Any]],
) -> None:
    """once=True (a CLI command) materialises what is read more than once, and gives the same figures."""
    keep = M._single_use(("scorecard",))
    assert (
        "scorecard" in keep and "duties" not in keep and "repeats" not in keep
    )  # read once, by the scorecard
    assert {"metric_bugs", "roles", "metric_comments", "response_events", "update_obligations"} <= set(keep)
    assert "update_obligations" in M._single_use(("due",))  # duties reads it twice
    assert "due" not in M._single_use(("due",)) and "duties" not in M._single_use(("due",))
    assert M._reads()["roles"]["metric_rule1b"] == 2  # directly and through metric_operator_accounts
    path, _ = sample_db
    for at in ("2024-06-01", AS_OF):
        got = []
        for once in (False, True):
            con = duckdb.connect(str(path), read_only=True)
            card = M.scorecard_rows(con, at, once=once).rows
            due = M.due(con, at, rows=True, once=once).rows
            program = M.due(
                duckdb.connect(str(path), read_only=True), at, waiting_on="program", rows=True, once=once
            )
            got.append((card, due, program.rows))
            if once:  # only what is read more than once became a table
                tables = {
                    r[0]
                    for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
                }
                assert "duties" not in tables and "roles" in tables
                # roles without its why/program text; a later caller that reads them gets the whole layer
                assert [d[0] for d in con.execute("SELECT * FROM temp.roles LIMIT 0").description] == [
                    "bug_id",
                    "account",
                    "role",
                ]
                assert "comment_id" not in [
                    d[0] for d in con.execute("SELECT * FROM temp.metric_comments LIMIT 0").description
                ]
                assert "owner_status" not in [
                    d[0] for d in con.execute("SELECT * FROM temp.metric_bugs LIMIT 0").description
                ]
                assert "answered_by" not in [
                    d[0] for d in con.execute("SELECT * FROM temp.response_events LIMIT 0").description
                ]
                M.snapshot(con, at, need=("roles",))
                whole = con.execute("SELECT * FROM roles ORDER BY ALL").fetchall()
                con.execute("SELECT count(*) FROM root_program_inferred").fetchone()
                fresh = duckdb.connect(str(path), read_only=True)
                M.snapshot(fresh, at, need=("roles",))
                assert whole == fresh.execute("SELECT * FROM roles ORDER BY ALL").fetchall() and whole
                fresh.close()
            con.close()
        assert got[0] == got[1] and got[0][0] and got[0][1]


def test_layer_dependencies_match_the_statements_duckdb_splits() -> None:
    """view_deps() scans the view files as text (no SQL parser, so it costs nothing at startup): it must find
    exactly the edges that reading each CREATE VIEW statement, as DuckDB splits the files, finds; and DEPS is
    not computed at import."""
    import re

    from bzmine.store.db import sql_files, view_name

    exact: dict[str, tuple[str, ...]] = {}
    for _, sql in sql_files("views"):
        for stmt in duckdb.extract_statements(sql):
            name = view_name(stmt.query)
            if name and name in M.LAYERS:
                words = set(re.findall(r"\b[a-z_][a-z0-9_]*\b", re.sub(r"--[^\n]*", "", stmt.query).lower()))
                exact[name] = tuple(n for n in M.LAYERS if n in words and n != name)
    assert M.view_deps() == exact
    assert set(exact) == set(M.LAYERS)
    assert "DEPS" not in vars(M) and M.DEPS == exact  # a module attribute computed on first access


@pytest.mark.parametrize("group", ["owner", "filed"])
def test_a_single_use_snapshot_gives_every_cli_path_the_same_answer(
    sample_db: tuple[Path, dict[int, Any]], group: str
) -> None:
    """Every path the CLI's scorecard and due take with once=True (some layers written with only the columns their
    readers use, metrics._ONCE_COLUMNS) binds and answers as the whole layers do: with private bugs included,
    resolutions excluded, percentiles, CAs named and program-side waits."""
    path, _ = sample_db
    got = []
    for once in (False, True):
        answers = []
        for private in (False, True):
            con = duckdb.connect(str(path), read_only=True)
            M.include_private(con, private)
            M.set_exclusions(con, ["INVALID", "DUPLICATE"], only_ca=private)
            card = M.scorecard(con, AS_OF, group=group, once=once)
            cas = list(card["ca"][:2])
            answers.append(card.to_csv())
            con.close()
            con = duckdb.connect(str(path), read_only=True)
            M.include_private(con, private)
            answers.append(M.scorecard_rows(con, AS_OF, cas=cas, group=group, once=once).rows)
            con.close()
            for waiting in ("ca", "program"):
                con = duckdb.connect(str(path), read_only=True)
                M.include_private(con, private)
                answers.append(
                    M.due(
                        con,
                        AS_OF,
                        30,
                        cas,
                        group=group,
                        stale_days=3,
                        waiting_on=waiting,
                        rows=True,
                        once=once,
                    ).rows
                )
                con.close()
        got.append(answers)
    assert got[0] == got[1] and got[0][0] and got[0][1]


def test_due_computes_only_open_bugs_duties_and_leaves_the_duties_of_every_bug_to_later_readers(
    sample_db: tuple[Path, dict[int, Any]],
) -> None:
    """due (once=True) computes duties for open bugs only, the ones it lists (same rows as from every bug's duties);
    the switch is reset after its query, so a later reader on the connection gets the duties of closed bugs too."""
    path, _ = sample_db
    con = duckdb.connect(str(path), read_only=True)
    fresh = duckdb.connect(str(path), read_only=True)
    try:
        quick = M.due(con, AS_OF, rows=True, once=True).rows
        later = M.duties(con, AS_OF)
        every = M.duties(fresh, AS_OF)
        assert quick == M.due(fresh, AS_OF, rows=True).rows and quick
        assert later.equals(every)
        closed = set(con.execute("SELECT bug_id FROM metric_bugs WHERE NOT is_open").fetchall())
        assert {
            (b,) for b in every["bug_id"]
        } & closed  # the sample's closed bugs have duties, and they are kept
        assert con.execute("SELECT getvariable('bzmine_duties_open_only')").fetchone() == (None,)
    finally:
        con.close()
        fresh.close()
