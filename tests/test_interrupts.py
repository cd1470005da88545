"""Interruptions inside an open write transaction: a parse killed (SIGKILL) or stopped (Ctrl-C) in the middle of a
chunk keeps none of that chunk's rows and the next parse completes the job; transaction() rolls back on a Ctrl-C."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from bzmine.store.db import connect
from bzmine.store.tx import transaction
from bzmine.synth import synth
from tests.helpers import build_db, migrated

ROOT = Path(__file__).resolve().parents[1]
TABLES = ("incidents", "reports", "action_items", "timeline_events", "whiteboard_changes", "history_changes")
N_BUGS = 60
CHUNK = 10


def _state(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            t: con.execute(f"SELECT * EXCLUDE (parser_version) FROM {t} ORDER BY ALL").fetchall()
            for t in TABLES
        }
    finally:
        con.close()


def _parse(db: Path, *extra: str, pause_in: int | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "BZMINE_TEST_PARSE_CHUNK": str(CHUNK), "BZMINE_PARSE_WORKERS": "1"}
    if pause_in is not None:
        env["BZMINE_TEST_PAUSE_IN_CHUNK"] = str(pause_in)
    return subprocess.Popen(
        [sys.executable, "-m", "bzmine", "parse", "--db", str(db), "-q", *extra],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )


def _paused(proc: subprocess.Popen[str], n: int) -> None:
    """Block until the parse reports it holds chunk n's transaction open (observed, not timed)."""
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert line.startswith(f"bzmine-test: paused inside chunk {n}"), line


@pytest.fixture(scope="module")
def parsed_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 synthetic bugs as raw rows, parsed once (the reference a completed parse must reproduce)."""
    db = tmp_path_factory.mktemp("intr") / "ref.duckdb"
    bugs = [{**r.bug, "comments": r.comments, "history": r.history} for r in synth(N_BUGS, seed=32)]
    build_db(db, bugs).close()
    return db


def test_parse_killed_or_stopped_inside_an_open_chunk_transaction_then_rerun(
    parsed_db: Path, tmp_path: Path
) -> None:
    reference = _state(parsed_db)
    ids = [r[0] for r in reference["incidents"]]
    assert len(ids) == N_BUGS and len(reference["reports"]) > 0
    db = tmp_path / "k.duckdb"
    shutil.copy(parsed_db, db)
    # 1. SIGKILL inside the first chunk of a full rebuild: that chunk's transaction also emptied every parsed table;
    # all of it is rolled back, the earlier parse's rows stand
    proc = _parse(db, "--full", pause_in=1)
    _paused(proc, 1)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert _state(db) == reference
    # 2. Ctrl-C inside the second chunk of a full rebuild: one line, exit 130; chunk 1 (wipe + 10 bugs) is kept,
    # nothing of chunk 2
    proc = _parse(db, "--full", pause_in=2)
    _paused(proc, 2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().startswith("interrupted:") and "Traceback" not in err
    kept = _state(db)
    assert [r[0] for r in kept["incidents"]] == ids[:CHUNK]
    assert {r[0] for t in TABLES for r in kept[t]} <= set(ids[:CHUNK])  # no row of chunk 2 in any table
    # 3. SIGKILL inside the third chunk of the plain parse that resumes it (the 50 bugs without rows): its chunks 1-2
    # are kept, nothing of chunk 3
    proc = _parse(db, pause_in=3)
    _paused(proc, 3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    kept = _state(db)
    assert [r[0] for r in kept["incidents"]] == ids[: 3 * CHUNK]
    assert {r[0] for t in TABLES for r in kept[t]} <= set(ids[: 3 * CHUNK])
    # 4. a plain rerun finishes the job: the same rows as the clean parse
    proc = _parse(db)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert _state(db) == reference


def test_ctrl_c_inside_transaction_rolls_back(tmp_path: Path) -> None:
    """store.tx.transaction(): a KeyboardInterrupt (Ctrl-C) raised between BEGIN and COMMIT rolls back and leaves
    no transaction open (`except BaseException`: a KeyboardInterrupt is not an Exception)."""
    con = connect(migrated(tmp_path / "t.duckdb"))
    with pytest.raises(KeyboardInterrupt):
        with transaction(con):
            con.execute("INSERT INTO sync_state VALUES ('ctrl-c', 'written')")
            raise KeyboardInterrupt()
    assert con.execute("SELECT count(*) FROM sync_state WHERE key = 'ctrl-c'").fetchone() == (0,)
    with transaction(con):  # no transaction was left open: a new one begins and commits
        con.execute("INSERT INTO sync_state VALUES ('after', 'ok')")
    assert con.execute("SELECT value FROM sync_state WHERE key = 'after'").fetchone() == ("ok",)
    # and an ordinary error rolls back the same way
    with pytest.raises(ValueError):
        with transaction(con):
            con.execute("INSERT INTO sync_state VALUES ('error', 'written')")
            raise ValueError("boom")
    assert con.execute("SELECT count(*) FROM sync_state WHERE key = 'error'").fetchone() == (0,)
    con.close()
