"""Reading never writes (issue 27 item 4): every reading command leaves the database file byte-identical in every
state a database can be in, and on a file that needs a writer says which command to run (exit 1, one line). Only
sync, parse and `bzmine upgrade` write."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from bzmine.cli import cli
from bzmine.corpus import load_corpus

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-01"


def _digest(db: Path) -> dict[str, str]:
    """Every file of the database (the .duckdb and a .wal if any), by name, with its SHA-256."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(db.parent.iterdir())
        if p.name.startswith(db.name)
    }


def _readers(db: Path, tmp: Path) -> list[list[str]]:
    d = str(db)
    return [
        ["status", "--db", d],
        ["scorecard", "--db", d, "--as-of", AS_OF],
        ["due", "--db", d, "--as-of", AS_OF, "--include-private"],
        ["trends", "--db", d],
        ["explain", "bugs_total", "--ca", "Lumen Sign", "--db", d],
        ["related", "1800045", "--db", d],
        ["review", "1800045", "--db", d],
        ["sql", "SELECT count(*) FROM raw_bugs", "--db", d],
        ["config", "show", "--db", d],
        ["export", "--db", d, "--out", str(tmp / "export")],
        ["snapshot", "--db", d, "--out", str(tmp / "snap")],
        ["report", "--db", d, "--out", str(tmp / "report"), "-q"],
    ]


def _sync(url: str, db: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bzmine", "sync", "--url", url, "--db", str(db), "--no-cache", "-q", *extra],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One database per state: fresh, interrupted first sync, synced without parsing, old parser version, old
    schema, views of another bzmine."""
    from bzmine.server import LocalBugzilla, ServerOptions

    root = tmp_path_factory.mktemp("states")
    out: dict[str, Path] = {}
    with LocalBugzilla(load_corpus(ROOT / "data" / "sample"), ServerOptions(latency_ms=20)) as srv:
        fresh = root / "fresh" / "db.duckdb"
        fresh.parent.mkdir()
        assert _sync(srv.url, fresh).wait(timeout=120) == 0
        out["fresh"] = fresh
        killed = root / "interrupted" / "db.duckdb"
        killed.parent.mkdir()
        env = {**os.environ, "BZMINE_TEST_PAUSE_IN_BATCH": "2"}
        proc = _sync(srv.url, killed, "--batch-size", "5", env=env)
        assert proc.stderr is not None
        assert "paused inside batch 2" in proc.stderr.readline()  # batch 1 committed, batch 2 half-written
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stderr.close()
        out["interrupted sync"] = killed
        unparsed = root / "unparsed" / "db.duckdb"
        unparsed.parent.mkdir()
        assert _sync(srv.url, unparsed, "--no-parse").wait(timeout=120) == 0
        out["synced with --no-parse"] = unparsed
    out["old schema"] = _old_schema(fresh, root / "old-schema" / "db.duckdb")
    for name, sql in (
        ("old parser version", "UPDATE parse_state SET value = 'parser 0.0' WHERE key = 'parser_version'"),
        ("views of another bzmine", "UPDATE schema_state SET value = 'old' WHERE key = 'views'"),
    ):
        db = root / name.replace(" ", "-") / "db.duckdb"
        db.parent.mkdir()
        shutil.copy(fresh, db)
        con = duckdb.connect(str(db))
        con.execute(sql)
        con.close()
        out[name] = db
    return out


def _old_schema(fresh: Path, db: Path) -> Path:
    """A database an older bzmine wrote: every migration but the last, the fresh database's harvest in its raw and
    sync tables, never parsed by this bzmine."""
    from bzmine.store.db import sql_files

    db.parent.mkdir()
    con = duckdb.connect(str(db))
    con.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)"
    )
    for name, sql in sql_files("migrations")[:-1]:
        con.execute(sql)
        con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [int(name.split("_", 1)[0]), name])
    con.execute(f"ATTACH '{fresh}' AS f (READ_ONLY)")
    for t in ("raw_bugs", "raw_comments", "raw_history", "sync_runs", "sync_state"):
        have = {r[1] for r in con.execute(f"PRAGMA table_info('{t}')").fetchall()}
        theirs = {r[1] for r in con.execute(f"PRAGMA table_info('f.{t}')").fetchall()}
        both = ", ".join(sorted(have & theirs))
        con.execute(f"INSERT INTO {t} ({both}) SELECT {both} FROM f.{t}")
    con.execute("DETACH f")
    con.close()
    return db


STATES = [
    "fresh",
    "interrupted sync",
    "synced with --no-parse",
    "old parser version",
    "old schema",
    "views of another bzmine",
]
FIX = {  # what a reader says to run, per state
    "interrupted sync": "bzmine parse --db",
    "synced with --no-parse": "bzmine parse --db",
    "old parser version": "bzmine upgrade --db",
    "old schema": "bzmine upgrade --db",
    "views of another bzmine": "bzmine upgrade --db",
}


@pytest.mark.parametrize("state", STATES)
def test_reading_commands_leave_the_file_byte_identical(
    states: dict[str, Path], state: str, tmp_path: Path
) -> None:
    db = states[state]
    before = _digest(db)
    assert before, "the database exists"
    runner = CliRunner()
    for args in _readers(db, tmp_path):
        res: Any = runner.invoke(cli, args)
        assert _digest(db) == before, (state, args)  # not one byte written, no file added or removed
        if state == "fresh":
            assert res.exit_code == 0, (args, res.output)
        elif args[0] == "status":  # status reads any state and says what the file needs
            assert res.exit_code == 0 and f"needs: {db}" in res.output and FIX[state] in res.output
            assert "bugs:" in res.output and "run 1:" in res.output
        else:
            assert res.exit_code == 1, (state, args, res.output)
            lines = res.output.strip().splitlines()
            assert len(lines) == 1 and FIX[state] in lines[0] and "never write" in lines[0], lines
            assert "Traceback" not in res.output


@pytest.mark.parametrize("state", STATES[1:])
def test_the_command_a_reader_names_makes_the_file_readable(
    states: dict[str, Path], state: str, tmp_path: Path
) -> None:
    db = tmp_path / "db.duckdb"
    for f in states[state].parent.iterdir():
        shutil.copy(f, tmp_path / f.name)
    fix = FIX[state].split()[1]  # parse | upgrade
    res = CliRunner().invoke(cli, [fix, "--db", str(db)])
    assert res.exit_code == 0, res.output
    card = CliRunner().invoke(cli, ["scorecard", "--db", str(db), "--as-of", AS_OF, "--format", "csv"])
    assert card.exit_code == 0 and card.output.count("\n") > 3, card.output
    again = CliRunner().invoke(cli, ["upgrade", "--db", str(db)])
    assert again.exit_code == 0 and "nothing to do" in again.output


def test_a_foreign_duckdb_file_is_refused_by_readers_and_upgrade_alike(tmp_path: Path) -> None:
    db = tmp_path / "other.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE t (a INTEGER)")
    con.close()
    before = _digest(db)
    for args in (["status", "--db", str(db)], ["scorecard", "--db", str(db)], ["upgrade", "--db", str(db)]):
        res = CliRunner().invoke(cli, args)
        lines = res.output.strip().splitlines()
        assert res.exit_code == 1 and len(lines) == 1 and "is not a bzmine database" in lines[0], res.output
        assert _digest(db) == before, args
