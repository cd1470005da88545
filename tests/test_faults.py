"""Fault and bad-input suite (run alone: pytest -m faults). Each case: no traceback, a clear message, the exit
code, and nothing lost."""

from __future__ import annotations

import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from bzmine.cli import cli
from bzmine.corpus import Record
from bzmine.store.db import connect
from bzmine.sync import sync
from tests.conftest import API_KEY, db_held_elsewhere
from tests.helpers import alive, child_pids
from tests.test_sync import db_snapshot, expected, settings

pytestmark = pytest.mark.faults
ROOT = Path(__file__).resolve().parents[1]


def test_truncated_and_non_json_bodies_are_retried(
    make_server: Any, corpus: dict[int, Record], tmp_path: Path
) -> None:
    srv = make_server(fault_rate=0.35, seed=5)
    con = connect(tmp_path / "t.duckdb")
    sync(con, settings(srv, tmp_path, batch_size=2, retries=12), quiet=True)
    assert db_snapshot(con) == expected(corpus)
    assert {1001, 1002} <= {e["status"] for e in srv.app.requests}
    # nothing broken was cached: a second full run through the same cache still equals the corpus
    sync(con, settings(srv, tmp_path, batch_size=2, retries=12), full=True, quiet=True)
    assert db_snapshot(con) == expected(corpus)


def test_unicode_oddities_nul_bytes_and_huge_comments(
    make_server: Any, corpus: dict[int, Record], tmp_path: Path
) -> None:
    bug_id = sorted(expected(corpus))[0]
    rec = copy.deepcopy(corpus[bug_id])
    odd = [
        "NUL\x00byte",
        "lone \ud800 surrogate",
        "RTL \u202e override, BOM \ufeff, emoji \U0001f600, zero\u200bwidth",
        "combining e\u0301\u0301\u0301",
        "## Full Incident Report\n" + "- **Incident description:** " + "x" * 5_000_000,
    ]
    for i, text in enumerate(odd):
        c = copy.deepcopy(rec.comments[-1])
        c.update(id=bug_id * 1000 + 900 + i, count=len(rec.comments), text=text, raw_text=text)
        rec.comments.append(c)
    srv = make_server({**corpus, bug_id: rec})
    db = tmp_path / "t.duckdb"
    res = CliRunner().invoke(cli, ["sync", "--url", srv.url, "--db", str(db), "-q"])
    assert res.exit_code == 0, res.output
    con = duckdb.connect(str(db), read_only=True)
    texts = {
        r[0]: r[1]
        for r in con.execute("SELECT comment_id, text FROM comments WHERE bug_id = ?", [bug_id]).fetchall()
    }
    assert texts[bug_id * 1000 + 900] == "NUL\x00byte"
    assert texts[bug_id * 1000 + 901] == "lone \ufffd surrogate"  # the one change ever made to raw text
    assert texts[bug_id * 1000 + 902] == odd[2] and len(texts[bug_id * 1000 + 904]) > 5_000_000
    kinds = con.execute("SELECT kind FROM reports WHERE comment_id = ?", [bug_id * 1000 + 904]).fetchall()
    assert kinds == [("v3_full",)]
    assert con.execute("SELECT count(*) FROM parse_failures").fetchone()[0] == 0
    con.close()


def _parsed_state(db: Path) -> tuple[Any, ...]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return tuple(
            con.execute(f"SELECT * EXCLUDE (parser_version) FROM {t} ORDER BY ALL").fetchall()
            for t in (
                "incidents",
                "reports",
                "action_items",
                "timeline_events",
                "whiteboard_changes",
                "history_changes",
            )
        )
    finally:
        con.close()


def test_sigkill_during_parse_then_rerun_equals_clean_parse(
    sample_db: tuple[Path, Any], tmp_path: Path
) -> None:
    """Kill a full rebuild after its 1st, 2nd and 3rd committed chunk (observed, not timed); rerun; compare."""
    clean = tmp_path / "clean.duckdb"
    shutil.copy(sample_db[0], clean)
    subprocess.run(
        [sys.executable, "-m", "bzmine", "parse", "--db", str(clean), "--full", "-q"], check=True, cwd=ROOT
    )
    reference = _parsed_state(clean)
    for after in (1, 2, 3):
        db = tmp_path / f"k{after}.duckdb"
        shutil.copy(sample_db[0], db)
        env = {**os.environ, "BZMINE_TEST_PARSE_CHUNK": "20", "BZMINE_TEST_PAUSE_AFTER_CHUNK": str(after)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "bzmine", "parse", "--db", str(db), "--full", "-q"],
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None
        line = proc.stderr.readline()  # blocks until the chunk is committed (or the process ends)
        assert f"committed chunk {after}" in line, line
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        partial = _parsed_state(db)
        assert len(partial[0]) == 20 * after < len(reference[0]), "the kill did not land mid-rebuild"
        subprocess.run([sys.executable, "-m", "bzmine", "parse", "--db", str(db), "-q"], check=True, cwd=ROOT)
        assert _parsed_state(db) == reference


def test_database_in_use_is_a_clear_error_for_every_command(bmo_server: Any, tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    assert CliRunner().invoke(cli, ["sync", "--url", bmo_server.url, "--db", str(db), "-q"]).exit_code == 0
    with db_held_elsewhere(db):
        for args in (
            ["status"],
            ["scorecard"],
            ["due"],
            ["parse"],
            ["sql", "SELECT 1"],
            ["report", "--out", str(tmp_path / "r")],
        ):
            out = subprocess.run(
                [sys.executable, "-m", "bzmine", *args, "--db", str(db)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=300,
                env={**os.environ, "BZMINE_READ_WAIT": "1"},
            )
            assert out.returncode == 1, args
            assert "in use by another process" in out.stderr and "Traceback" not in out.stderr, (
                args,
                out.stderr,
            )


@pytest.mark.parametrize(
    "args,message",
    [
        (["scorecard", "--as-of", "yesterday"], "not a date or time"),
        (
            ["status", "--db", "/nonexistent/x.duckdb"],
            "no database at /nonexistent/x.duckdb; run `bzmine sync` first",
        ),
        (["scorecard", "--ca", "Nobody At All"], "no CA named"),
        (["sql", "UPDATE raw_bugs SET data = NULL"], "read-only"),
        (["sql", "SELEC nonsense"], "not valid SQL"),
        (["sync", "--url", "ftp://example"], "--url must start with http"),
    ],
)
def test_bad_cli_input_is_one_clear_line(
    args: list[str], message: str, sample_db: tuple[Path, Any], tmp_path: Path
) -> None:
    db = tmp_path / "c.duckdb"
    shutil.copy(sample_db[0], db)
    full = args if "--db" in args else [*args, "--db", str(db)]
    res = CliRunner().invoke(cli, full)
    assert res.exit_code != 0
    assert message in res.output and "Traceback" not in res.output


def test_bad_corpus_is_one_line_naming_file_and_field(tmp_path: Path) -> None:
    good = {
        "bug": {
            "id": 5,
            "summary": "A: b",
            "whiteboard": "",
            "product": "CA Program",
            "component": "c",
            "status": "NEW",
            "resolution": "",
            "creation_time": "2024-01-01T00:00:00Z",
            "last_change_time": "2024-01-01T00:00:00Z",
            "creator": "a@b.c",
            "assigned_to": "a@b.c",
            "groups": [],
            "flags": [],
            "is_open": True,
        },
        "comments": [],
        "history": [],
    }
    cases = {
        "5.json": {**good, "bug": {**good["bug"], "creation_time": "not a time"}},
        "x.jsonl": "{not json",
    }
    for name, content in cases.items():
        d = tmp_path / name.split(".")[0]
        d.mkdir()
        f = d / name
        f.write_text(content if isinstance(content, str) else json.dumps(content))
        target = str(d if name.endswith(".json") else f)
        out = subprocess.run(
            [sys.executable, "-m", "bzmine", "serve-corpus", target],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 1 and "Traceback" not in out.stderr
        err = out.stderr.strip().splitlines()
        assert len(err) == 1 and name in err[0], err
    assert (
        "creation_time"
        in subprocess.run(
            [sys.executable, "-m", "bzmine", "serve-corpus", str(tmp_path / "5")],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stderr
    )


def test_api_key_never_in_report_or_database(
    bmo_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUGZILLA_API_KEY", API_KEY)
    db = tmp_path / "k.duckdb"
    runner = CliRunner()
    assert runner.invoke(cli, ["-vv", "sync", "--url", bmo_server.url, "--db", str(db)]).exit_code == 0
    res = runner.invoke(cli, ["report", "--db", str(db), "--out", str(tmp_path / "rep"), "-q"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["export", "--db", str(db), "--out", str(tmp_path / "exp"), "--format", "csv"])
    assert res.exit_code == 0, res.output
    for f in tmp_path.rglob("*"):
        if f.is_file():
            assert API_KEY.encode() not in f.read_bytes(), f


def test_full_disk_is_a_clear_resumable_error(
    make_server: Any, corpus: dict[int, Record], tmp_path: Path
) -> None:
    """A sync that runs out of disk stops with a clear message; after freeing space the next run completes it."""
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs")
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)], capture_output=True
    ).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        big = copy.deepcopy(corpus)
        for rec in big.values():
            c = copy.deepcopy(rec.comments[-1])
            c.update(
                id=rec.id * 1000 + 990, count=len(rec.comments), text="x" * 300_000, raw_text="x" * 300_000
            )
            rec.comments.append(c)
        srv = make_server(big)
        db = mnt / "t.duckdb"
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "bzmine",
                "sync",
                "--url",
                srv.url,
                "--db",
                str(db),
                "--no-cache",
                "--batch-size",
                "5",
                "-q",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 1, out.stderr
        assert "Free disk space" in out.stderr and "Traceback" not in out.stderr, out.stderr
        subprocess.run(["mount", "-o", "remount,size=200m", str(mnt)], check=True)
        out = subprocess.run(
            [sys.executable, "-m", "bzmine", "sync", "--url", srv.url, "--db", str(db), "--no-cache", "-q"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr
        con = duckdb.connect(str(db), read_only=True)
        assert db_snapshot(con) == expected(big)
        con.close()
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_parse_workers_die_with_their_parent(sample_db: tuple[Path, Any], tmp_path: Path) -> None:
    db = tmp_path / "orphans.duckdb"
    shutil.copy(sample_db[0], db)
    env = {
        **os.environ,
        "BZMINE_TEST_PARSE_CHUNK": "20",
        "BZMINE_TEST_PAUSE_AFTER_CHUNK": "1",
        "BZMINE_PARSE_WORKERS": "2",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bzmine", "parse", "--db", str(db), "--full", "-q"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    assert "committed chunk 1" in proc.stderr.readline()
    workers = child_pids(proc.pid)
    assert workers, "the rebuild ran without worker processes, so this test proves nothing"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 120  # a bound against a hang only: the loop ends as soon as they are gone
    while time.monotonic() < deadline and any(alive(w) for w in workers):
        time.sleep(0.1)
    assert not [w for w in workers if alive(w)], "worker processes outlived the killed parse"
