"""Broken servers: a sync ends with one clear line, exit 1, nothing written, the watermark where it was."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from bzmine.cli import cli


def _state(db: Path) -> tuple[Any, ...]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return (
            con.execute("SELECT bug_id, last_change_time FROM raw_bugs ORDER BY ALL").fetchall(),
            con.execute("SELECT count(*) FROM raw_comments").fetchone(),
            con.execute("SELECT value FROM sync_state WHERE key = 'watermark'").fetchone(),
        )
    finally:
        con.close()


@pytest.mark.faults
@pytest.mark.parametrize(
    "kind,message",
    [
        ("hang", "no answer within 2 s"),
        ("repeat-page", "returned the same bugs again"),
        ("bad-types", "invalid bug id 'abc"),
        ("trickle", "answer not finished within 2 s"),
        ("gzip-bomb", "grew past the 256 MiB limit (after decompression)"),
        ("huge", "announced a 300 MiB answer"),
    ],
)
def test_misbehaving_server_ends_the_sync_cleanly(
    kind: str, message: str, make_server: Any, tmp_path: Path
) -> None:
    good = make_server()
    db = tmp_path / "m.duckdb"
    first = CliRunner().invoke(cli, ["sync", "--url", good.url, "--db", str(db), "--no-cache", "-q"])
    assert first.exit_code == 0, first.output
    before = _state(db)
    bad = make_server(misbehave=frozenset({kind}), page_cap=10)
    # only hang and trickle are about time; the others get a timeout no busy machine reaches, so that the
    # answer (inflating 256 MiB, reading 300 MiB) is judged for what it is, not for how fast this machine is
    timeout = "2" if kind in ("hang", "trickle") else "120"
    res = CliRunner().invoke(
        cli,
        [
            "sync",
            "--url",
            bad.url,
            "--db",
            str(db),
            "--no-cache",
            "--full",
            "--timeout",
            timeout,
            "--retries",
            "2",
            "-q",
        ],
    )
    # what bzmine printed: its error on stderr, nothing on stdout (-q); the servers run in this process, so
    # this also proves that they printed nothing (a client hanging up mid-body is not their error to report)
    assert res.exit_code == 1, res.output
    assert res.stdout == "", res.stdout
    assert message in res.stderr and "Traceback" not in res.stderr, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert bad.app.errors == [] and good.app.errors == []
    assert _state(db) == before
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT status FROM sync_runs ORDER BY run_id DESC LIMIT 1").fetchone() == ("failed",)
    con.close()


def test_size_limit_is_configurable_and_bombs_stay_small(make_server: Any, tmp_path: Path) -> None:
    """A 1 MiB limit refuses the 300 MiB bomb early: the memory a refused answer costs stays near the limit."""
    import subprocess
    import sys

    bad = make_server(misbehave=frozenset({"gzip-bomb"}))
    # VmHWM, not ru_maxrss: the latter keeps the forking parent's (this test run's) high-water mark across exec
    code = (
        "import re,sys; from bzmine.cli import cli as main; sys.argv=['bzmine','sync','--url',sys.argv[1],'--db',"
        "sys.argv[2],'--no-cache','-q','--retries','0','--max-response-mb','1']\n"
        "try: main()\nexcept SystemExit as e: print('exit', e.code, "
        "re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())[1])"
    )
    res = subprocess.run(
        [sys.executable, "-c", code, bad.url, str(tmp_path / "b.duckdb")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "grew past the 1 MiB limit" in res.stderr, res.stderr
    exit_code, peak_kb = res.stdout.split()[1:]
    assert exit_code == "1" and int(peak_kb) < 400_000, res.stdout  # the bomb is 300 MiB inflated


def test_invalid_utf8_is_replaced_and_counted(make_server: Any, tmp_path: Path) -> None:
    srv = make_server(misbehave=frozenset({"bad-utf8"}))
    db = tmp_path / "u.duckdb"
    res = CliRunner().invoke(cli, ["sync", "--url", srv.url, "--db", str(db), "--no-cache", "--no-parse"])
    assert res.exit_code == 0, res.output
    assert "answers had invalid UTF-8 (replaced)" in res.output
    con = duckdb.connect(str(db), read_only=True)
    try:
        bad = con.execute(
            "SELECT count(*) FROM raw_comments WHERE data->>'text' LIKE '\ufffd\ufffd%'"
        ).fetchone()[0]
        counted = con.execute("SELECT invalid_utf8 FROM sync_runs ORDER BY run_id DESC LIMIT 1").fetchone()[0]
    finally:
        con.close()
    assert bad > 0 and counted > 0


def test_nothing_listening_is_said_quickly_and_leaves_no_file(tmp_path: Path) -> None:
    db = tmp_path / "none.duckdb"
    res = CliRunner().invoke(cli, ["sync", "--url", "http://127.0.0.1:9", "--db", str(db), "--no-cache"])
    assert res.exit_code == 1 and "connection refused" in res.output.lower(), res.output
    assert not db.exists() and not Path(str(db) + ".wal").exists()


@pytest.mark.parametrize(
    "args,message",
    [
        (["--timeout", "-1"], "--timeout must be"),
        (["--timeout", "nan"], "--timeout must be"),
        (["--url", "http://[::1"], "--url is not a valid URL"),
    ],
)
def test_bad_sync_options_are_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    full = ["sync", "--db", str(tmp_path / "x.duckdb"), *args]
    if "--url" not in args:
        full += ["--url", "http://127.0.0.1:9"]
    res = CliRunner().invoke(cli, full)
    assert res.exit_code in (1, 2) and message in res.output and "Traceback" not in res.output, res.output
    assert not (tmp_path / "x.duckdb").exists()


def test_a_corrupted_block_is_one_line_saying_so(tmp_path: Path) -> None:
    """Damage each 256 KiB block of a database in turn: every command that trips over it says the file is corrupted
    and how to recover, in one line (whether the damage is found on opening or in the middle of a query)."""
    import shutil

    from tests.helpers import build_db, mk_bug

    good = tmp_path / "good.duckdb"
    bugs = [
        mk_bug(
            2000 + i,
            f"CA {i % 4}: incident {i}",
            "2024-03-01T10:00:00Z",
            "ca@example.com",
            "ca@example.com",
            comments=[("ca@example.com", "2024-03-02T10:00:00Z", "## Summary\n" + "long text " * 400)] * 3,
        )
        for i in range(60)
    ]
    build_db(good, bugs).close()
    failures = []
    for offset in range(3 * 4096, good.stat().st_size, 262144):
        bad = tmp_path / f"bad{offset}.duckdb"
        shutil.copy(good, bad)
        with open(bad, "r+b") as fh:
            fh.seek(offset + 8)
            fh.write(b"\xde\xad\xbe\xef" * 512)
        for cmd in (["status"], ["sql", "SELECT count(*), max(length(data)) FROM raw_comments"]):
            res = CliRunner().invoke(cli, [*cmd, "--db", str(bad)])
            if res.exit_code:
                failures.append((offset, cmd[0], res.exit_code, res.stderr))
    assert failures, "no block of the test database mattered; make it larger"
    assert any("corrupted (" in err for *_, err in failures)  # damage found in the middle of a query
    for offset, cmd, code, err in failures:
        assert code == 1 and len(err.strip().splitlines()) == 1, (offset, cmd, err)
        assert "corrupt" in err.lower() and "bzmine sync --full" in err and "bzmine bug" not in err, (
            offset,
            cmd,
            err,
        )


def test_a_client_hanging_up_mid_body_is_not_printed(
    make_server: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    """socketserver prints a traceback to stderr when a handler's write fails; a test running bzmine in-process
    would read it as bzmine's output. The server says nothing when a client resets the connection mid-answer."""
    import socket
    import struct
    import threading

    srv = make_server(misbehave=frozenset({"gzip-bomb"}))
    earlier = set(threading.enumerate())  # other tests' servers may still hold keep-alive connections
    for _ in range(3):
        sock = socket.create_connection((srv.host, srv.port))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(b"GET /rest/bug?product=x HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(64).startswith(b"HTTP/1.1 200")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # hang up with a reset
        sock.close()
    # event order, not time: wait until every request thread has finished (a generous bound only against a hang)
    for t in [t for t in set(threading.enumerate()) - earlier if "process_request" in t.name]:
        t.join(120)
        assert not t.is_alive()
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert srv.app.errors == []
    assert [e["status"] for e in srv.app.requests] == [200, 200, 200]
