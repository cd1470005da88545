"""Snapshots: a frozen copy gives the database's figures, offline and read-only; its id changes with the data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from bzmine import metrics as M
from bzmine.cli import cli

AS_OF = "2026-11-01"


def _figures(db: str | Path) -> tuple[Any, ...]:
    import bzmine

    con = bzmine.connect(str(db))
    try:
        return (
            M.scorecard(con, AS_OF).round(6).to_csv(),
            M.due(con, AS_OF).to_csv(),
            M.trends(con, AS_OF, "year", "ca").to_csv(),
            M.yearly(con, AS_OF).round(6).to_csv(),
        )
    finally:
        con.close()


def test_snapshot_round_trip_gives_the_same_figures(sample_db: tuple[Path, Any], tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    shutil.copy(sample_db[0], db)
    run = CliRunner()
    res = run.invoke(
        cli,
        ["snapshot", "--db", str(db), "--out", str(tmp_path / "snap"), "--as-of", AS_OF, "--include-private"],
    )
    assert res.exit_code == 0, res.output
    shared = run.invoke(
        cli, ["snapshot", "--db", str(db), "--out", str(tmp_path / "shared"), "--as-of", AS_OF]
    )
    assert shared.exit_code == 0, shared.output
    private = (
        duckdb.connect(str(db), read_only=True)
        .execute("SELECT count(*) FROM raw_bugs WHERE json_array_length(data->'groups') > 0")
        .fetchone()[0]
    )
    assert private > 0  # the default snapshot (to share) leaves them out
    assert (
        json.loads((tmp_path / "shared" / "manifest.json").read_text())["bugs"]
        == json.loads((tmp_path / "snap" / "manifest.json").read_text())["bugs"] - private
    )
    manifest = json.loads((tmp_path / "snap" / "manifest.json").read_text())
    assert (
        manifest["as_of"].startswith(AS_OF)
        and manifest["tables"]["raw_bugs"]["rows"] == manifest["bugs"] > 50
    )
    assert {"bzmine_version", "parser_version", "schema_version", "server", "synced_at"} <= set(manifest)
    assert _figures(tmp_path / "snap") == _figures(db)
    import bzmine

    mem = bzmine.connect(
        str(tmp_path / "snap"), read_only=False
    )  # a snapshot opens read-only whatever is asked
    try:
        assert mem.execute("SELECT count(*) FROM raw_bugs").fetchone()[0] == manifest["bugs"]
    finally:
        mem.close()
    # the CLI reads it like a database, and cannot change it
    card = run.invoke(cli, ["scorecard", "--db", str(tmp_path / "snap"), "--as-of", AS_OF, "--format", "csv"])
    assert (
        card.exit_code == 0
        and card.output
        == run.invoke(cli, ["scorecard", "--db", str(db), "--as-of", AS_OF, "--format", "csv"]).output
    )
    before = {p.name: p.read_bytes() for p in (tmp_path / "snap").iterdir()}
    run.invoke(
        cli, ["report", "--db", str(tmp_path / "snap"), "--out", str(tmp_path / "r"), "--as-of", AS_OF, "-q"]
    )
    assert {p.name: p.read_bytes() for p in (tmp_path / "snap").iterdir()} == before
    cite = run.invoke(cli, ["cite", str(tmp_path / "snap")])
    assert manifest["snapshot_id"] in cite.output and "@misc{" in cite.output and AS_OF in cite.output
    # the same data gives the same id; changed data another one
    again = run.invoke(
        cli,
        [
            "snapshot",
            "--db",
            str(db),
            "--out",
            str(tmp_path / "snap2"),
            "--as-of",
            AS_OF,
            "--include-private",
        ],
    )
    assert again.exit_code == 0
    assert (
        json.loads((tmp_path / "snap2" / "manifest.json").read_text())["snapshot_id"]
        == manifest["snapshot_id"]
    )
    con = duckdb.connect(str(db))
    con.execute("DELETE FROM raw_comments WHERE comment_id = (SELECT min(comment_id) FROM raw_comments)")
    con.close()
    run.invoke(
        cli,
        [
            "snapshot",
            "--db",
            str(db),
            "--out",
            str(tmp_path / "snap3"),
            "--as-of",
            AS_OF,
            "--include-private",
        ],
    )
    assert (
        json.loads((tmp_path / "snap3" / "manifest.json").read_text())["snapshot_id"]
        != manifest["snapshot_id"]
    )


def test_a_tampered_snapshot_is_refused(sample_db: tuple[Path, Any], tmp_path: Path) -> None:
    run = CliRunner()
    assert (
        run.invoke(cli, ["snapshot", "--db", str(sample_db[0]), "--out", str(tmp_path / "t")]).exit_code == 0
    )
    assert run.invoke(cli, ["open-snapshot", str(tmp_path / "t")]).exit_code == 0
    with (tmp_path / "t" / "incidents.parquet").open("ab") as fh:
        fh.write(b"x")
    res = run.invoke(cli, ["scorecard", "--db", str(tmp_path / "t")])
    assert res.exit_code == 1 and "changed since the snapshot was made" in res.output


@pytest.mark.parametrize("args", [["snapshot", "--out", "NONEMPTY"], ["cite", "MISSING"]])
def test_snapshot_input_errors(args: list[str], sample_db: tuple[Path, Any], tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    args = [
        str(tmp_path / "full") if a == "NONEMPTY" else str(tmp_path / "nope") if a == "MISSING" else a
        for a in args
    ]
    if args[0] == "snapshot":
        args += ["--db", str(sample_db[0])]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code in (1, 2) and "Traceback" not in res.output


@pytest.mark.realdata
def test_real_bug_list_per_year_totals_and_report(make_server: Any, tmp_path: Path) -> None:
    """The 1,688 real bugs (a saved /rest/bug list, served as BMO would): the per-year table adds up to the bugs per
    creation year, and the report builds quickly and stays small."""
    import collections

    from bzmine.corpus import load_corpus
    from tests.conftest import realdata

    path = realdata("webpki-observatory") / "bugs_raw.json"
    records = load_corpus(path)
    srv = make_server(records)
    db = tmp_path / "real.duckdb"
    assert (
        CliRunner().invoke(cli, ["sync", "--url", srv.url, "--db", str(db), "--no-cache", "-q"]).exit_code
        == 0
    )
    import bzmine

    con = bzmine.connect(str(db))
    from bzmine.research import paper_tables

    tables = paper_tables(con)
    con.close()
    per_year = collections.Counter(r.bug["creation_time"][:4] for r in records.values())
    by_subject = tables["incidents_by_subject"]  # long form: one row per year x subject
    assert {str(y): int(n) for y, n in by_subject.groupby("period").figure.sum().items()} == dict(per_year)
    assert int(by_subject.figure.sum()) == 1688
    # its speed is measured in benchmarks/ (make bench), not asserted here: the suite runs on busy machines
    res = CliRunner().invoke(cli, ["report", "--db", str(db), "--out", str(tmp_path / "r"), "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "r" / "index.html").stat().st_size < 1_000_000
