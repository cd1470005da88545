"""Broken servers: a sync ends with one clear line, exit 1, nothing written, the watermark where it was."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from bzmine.cli import cli


def _state(db: Path) -> tuple[Any, ...]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return (con.execute("SELECT bug_id, last_change_time FROM raw_bugs ORDER BY ALL").fetchall(),
                con.execute("SELECT count(*) FROM raw_comments").fetchone(),
                con.execute("SELECT value FROM sync_state WHERE key = 'watermark'").fetchone())  # fmt: skip
    finally:
        con.close()


@pytest.mark.faults
@pytest.mark.parametrize("kind,message", [
    ("hang", "no answer within 2 s"),
    ("repeat-page", "returned the same bugs again"),
    ("bad-types", "invalid bug id 'abc"),
])
def test_misbehaving_server_ends_the_sync_cleanly(kind: str, message: str, make_server: Any, tmp_path: Path) -> None:
    good = make_server()
    db = tmp_path / "m.duckdb"
    first = CliRunner().invoke(cli, ["sync", "--url", good.url, "--db", str(db), "--no-cache", "-q"])
    assert first.exit_code == 0, first.output
    before = _state(db)
    bad = make_server(misbehave=frozenset({kind}), page_cap=10)
    started = time.monotonic()
    res = CliRunner().invoke(cli, ["sync", "--url", bad.url, "--db", str(db), "--no-cache", "--full", "--timeout", "2",
                                   "--retries", "2", "-q"])  # fmt: skip
    assert time.monotonic() - started < 60
    assert res.exit_code == 1, res.output
    assert message in res.output and "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1
    assert _state(db) == before
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT status FROM sync_runs ORDER BY run_id DESC LIMIT 1").fetchone() == ("failed",)
    con.close()


def test_nothing_listening_is_said_quickly_and_leaves_no_file(tmp_path: Path) -> None:
    db = tmp_path / "none.duckdb"
    started = time.monotonic()
    res = CliRunner().invoke(cli, ["sync", "--url", "http://127.0.0.1:9", "--db", str(db), "--no-cache"])
    assert time.monotonic() - started < 10
    assert res.exit_code == 1 and "connection refused" in res.output.lower(), res.output
    assert not db.exists() and not Path(str(db) + ".wal").exists()


@pytest.mark.parametrize("args,message", [
    (["--timeout", "-1"], "--timeout must be"),
    (["--timeout", "nan"], "--timeout must be"),
    (["--url", "http://[::1"], "--url is not a valid URL"),
])
def test_bad_sync_options_are_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    full = ["sync", "--db", str(tmp_path / "x.duckdb"), *args]
    if "--url" not in args:
        full += ["--url", "http://127.0.0.1:9"]
    res = CliRunner().invoke(cli, full)
    assert res.exit_code in (1, 2) and message in res.output and "Traceback" not in res.output, res.output
    assert not (tmp_path / "x.duckdb").exists()
