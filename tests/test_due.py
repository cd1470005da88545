"""The due list a reviewer acts on, closed-means-closed with partial history, and the CLI's refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from bzmine import metrics as M
from bzmine.cli import cli
from tests.helpers import build_db, mk_bug

ACME = "compliance@acme.example"
RP = "rp@mozilla.com"
AS_OF = "2025-06-01"

BUGS = [
    # history missing (as in a bug list saved by another tool): closed per cf_last_resolved
    mk_bug(
        21,
        "Acme: partial history",
        "2025-01-01T00:00:00Z",
        ACME,
        ACME,
        status="RESOLVED",
        whiteboard="[ca-compliance] Next update 2025-03-01",
        comments=[(RP, "2025-01-10T00:00:00Z", "Why did this happen?")],
    ),
    mk_bug(
        22,
        "Acme: open one",
        "2025-05-01T00:00:00Z",
        ACME,
        ACME,
        whiteboard="[ca-compliance] [close on 2025-05-20]",
        comments=[
            (ACME, "2025-05-01T00:00:00Z", "Preliminary report."),
            (RP, "2025-05-10T00:00:00Z", "Please post the full report."),
        ],
    ),
    mk_bug(
        23,
        "[meta] tracking bug",
        "2025-05-01T00:00:00Z",
        RP,
        "nobody@mozilla.org",
        comments=[(RP, "2025-05-02T00:00:00Z", "Question nobody answers.")],
    ),
    mk_bug(
        24,
        "Acme: stale",
        "2025-01-01T00:00:00Z",
        ACME,
        ACME,
        comments=[(ACME, "2025-01-02T00:00:00Z", "Preliminary report.")],
    ),
]
BUGS[0]["cf_last_resolved"] = "2025-02-01T00:00:00Z"


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    return build_db(tmp_path_factory.mktemp("due") / "due.duckdb", BUGS)


def _db(con: duckdb.DuckDBPyConnection) -> str:
    con.execute("CHECKPOINT")
    return str(
        con.execute(
            "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchone()[0]
    )


def test_closed_means_closed_without_history(con: duckdb.DuckDBPyConnection) -> None:
    bm = M.bug_metrics(con, AS_OF).set_index("bug_id")
    assert not bm.loc[21, "is_open"] and str(bm.loc[21, "closed_at"]) == "2025-02-01 00:00:00"
    assert bm.loc[21, "days_to_close"] == 31.0
    ev = M.response_events(con, AS_OF)
    assert ev[ev["bug_id"] == 21][["state", "wait_hours"]].values.tolist() == [
        ["closed_unanswered", 22 * 24.0]
    ]
    obl = M.obligations(con, AS_OF)
    assert obl[obl["bug_id"] == 21]["state"].tolist() == ["closed"]  # fell due after the bug closed
    card = M.scorecard(con, AS_OF).set_index("ca")
    assert card.loc["Acme", "next_updates_missed"] == 0  # the scorecard and the due list agree
    # before it was resolved, the bug was open
    early = M.bug_metrics(con, "2025-01-20").set_index("bug_id")
    assert early.loc[21, "is_open"]


def test_due_list_rows_and_order(con: duckdb.DuckDBPyConnection) -> None:
    df = M.due(con, AS_OF, stale_days=30)
    got = [(r.bug_id, r.what, str(r.due)[:10], r.days_overdue) for r in df.itertuples()]
    assert got == [
        (24, "full report missed", "2025-01-15", 137.0),
        (24, "stale", "2025-02-01", 120.0),
        # opened under v3.0: a CA comment at least every 7 days while no Next-update date is set
        (22, "routine update missed", "2025-05-08", 24.0),
        (22, "full report missed", "2025-05-15", 17.0),
        (22, "pending question", "2025-05-17", 15.0),
        (22, "close-on date passed", "2025-05-20", 12.0),
        (
            22,
            "stale",
            "2025-05-31",
            1.0,
        ),  # a close-on date is not a next-update date; last CA word 2025-05-01
    ]
    assert set(df.columns) == {
        "bug_id",
        "ca",
        "summary",
        "status",
        "what",
        "due",
        "days_overdue",
        "detail",
        "kind",
        "version",
        "rule",
    }
    rules = {r.what: (r.version, r.rule) for r in df[df["bug_id"] == 22].itertuples()}
    assert rules["routine update missed"] == ("3.0", "CCADB IRG 3.0 §Updates, 7 days")
    assert rules["full report missed"] == ("3.0", "CCADB IRG 3.0 §Timing, 14 days")
    assert rules["pending question"] == ("3.0", "CCADB IRG 3.0 §Responding, 7 days")
    assert 23 not in set(df["bug_id"])  # meta bugs are nobody's to answer
    assert not (M.due(con, AS_OF)["what"] == "stale").any()  # stale rows only when asked


def test_due_formats_keep_numbers(con: duckdb.DuckDBPyConnection) -> None:
    res = CliRunner().invoke(cli, ["due", "--db", _db(con), "--as-of", AS_OF, "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert (rows[0]["bug_id"], rows[0]["what"], rows[0]["days_overdue"]) == (24, "full report missed", 137.0)
    assert rows[0]["due"].startswith("2025-01-15")


def test_trends_ca_filter_and_per_year_in_json(con: duckdb.DuckDBPyConnection) -> None:
    res = CliRunner().invoke(
        cli, ["trends", "--db", _db(con), "--as-of", AS_OF, "--by", "tag", "--ca", "acme", "--format", "json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["counts"] == [{"period": "2025", "ca-compliance": 3}]  # the meta bug is not Acme's
    assert [(y["year"], y["bugs"], y["bugs_closed"], y["still_open"]) for y in out["per_year"]] == [
        (2025, 3, 1, 2)
    ]


@pytest.mark.parametrize(
    "command",
    [
        ["scorecard"],
        ["due"],
        ["trends"],
        ["status"],
        ["sql", "SELECT 1"],
        ["report", "--out", "OUT"],
        ["export", "--out", "OUT"],
        ["config", "show"],
    ],
)
def test_missing_database_is_refused_and_not_created(command: list[str], tmp_path: Path) -> None:
    db = tmp_path / "typo.duckdb"
    args = [str(tmp_path / "out") if a == "OUT" else a for a in command]
    res = CliRunner().invoke(cli, [*args, "--db", str(db)])
    assert res.exit_code == 1
    assert f"no database at {db}; run `bzmine sync` first" in res.output
    assert not db.exists() and not (tmp_path / "out").exists()


def test_future_as_of_warns(con: duckdb.DuckDBPyConnection) -> None:
    res = CliRunner().invoke(cli, ["due", "--db", _db(con), "--as-of", "2999-01-01"])
    assert res.exit_code == 0 and "in the future" in res.stderr


def test_scorecard_and_due_run_read_only_while_the_file_is_held(con: Any, tmp_path: Path) -> None:
    import shutil

    from tests.conftest import db_held_elsewhere

    copy = tmp_path / "held.duckdb"
    shutil.copy(_db(con), copy)
    CliRunner().invoke(cli, ["status", "--db", str(copy)])
    with db_held_elsewhere(copy, read_only=True):
        for cmd in (["scorecard"], ["due"]):
            res = CliRunner().invoke(cli, [*cmd, "--db", str(copy), "--as-of", AS_OF])
            assert res.exit_code == 0, res.output


def test_every_scorecard_figure_declares_a_direction_and_can_be_explained(
    con: duckdb.DuckDBPyConnection,
) -> None:
    M.snapshot(con, AS_OF)
    figs = M.figures(con).set_index("figure")
    card_cols = set(M.scorecard(con, AS_OF).columns) - {"ca"}
    assert {c for c in card_cols if not c.endswith("_pct")} == set(figs.index)
    assert set(figs["direction"]) == {"lower_is_better", "higher_is_better", "not_ranked"}
    assert (
        figs.loc["bugs_total", "direction"] == "not_ranked"
        and figs.loc["self_reported_share", "direction"] == "higher_is_better"
    )
    assert set(M.EXPLAIN) == set(figs.index)


def test_explain_lists_the_rows_behind_a_figure(con: duckdb.DuckDBPyConnection) -> None:
    value, rows = M.explain(con, "acme", "pending_requests", AS_OF)
    assert value == 1 and rows["bug_id"].tolist() == [22] and rows["asked_by"].tolist() == [RP]
    value, rows = M.explain(con, "Acme", "requests_total", AS_OF)
    assert value == 2 and sorted(rows["state"]) == ["closed_unanswered", "pending"]
    res = CliRunner().invoke(
        cli, ["explain", "pending_rquests", "--ca", "Acme", "--db", _db(con), "--as-of", AS_OF]
    )
    assert res.exit_code == 1 and "did you mean pending_requests" in res.output


def test_percentile_is_no_data_when_peers_do_not_differ(tmp_path: Path) -> None:
    # five CAs with five bugs each, none with any request: requests_total is not ranked and breach_rate has no data;
    # bugs_open differs (one open bug at E) but sizes are not ranked either
    bugs = []
    for n, ca in enumerate("ABCDE"):
        for k in range(5):
            bugs.append(
                mk_bug(
                    100 + 10 * n + k,
                    f"CA {ca}: bug {k}",
                    "2025-01-01T00:00:00Z",
                    f"x@{ca.lower()}.example",
                    f"x@{ca.lower()}.example",
                    status="RESOLVED" if (ca != "E" or k) else "ASSIGNED",
                )
            )
    c = build_db(tmp_path / "p.duckdb", bugs)
    M.snapshot(c, AS_OF)
    pct = {
        (r[0], r[1]): r[2]
        for r in c.execute("SELECT ca, figure, percentile FROM scorecard_percentiles").fetchall()
    }
    assert pct[("CA A", "breach_rate")] is None and pct[("CA A", "requests_total")] is None
    assert pct[("CA E", "bugs_open")] is None and pct[("CA A", "self_reported_share")] is None
    res = CliRunner().invoke(
        cli, ["scorecard", "--ca", "ca a", "--db", str(tmp_path / "p.duckdb"), "--as-of", AS_OF]
    )
    assert res.exit_code == 0 and "no data" in res.output and " 50 " not in res.output
