"""Every command driven with generated hostile options: exit 0, 1 or 2, never a traceback, and a failure is one
line on stderr (usage errors, exit 2, are click's own short block). No "this is a bzmine bug" either: a bad option
is the user's mistake, and it must be said as one."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bzmine.cli import cli
from tests.helpers import build_db, mk_bug

HOSTILE = [
    "",
    "0",
    "-1",
    "nan",
    "inf",
    "1e309",
    "99999999999999999999",
    "2025-13-01",
    "2024-02-30",
    "1900-01-01",
    "\x1b]0;owned\x07\x1b[31m",
    "Trust $$ ^_\\",
    "ünï\u202ecode",
    "x" * 300,
    "out/deeper/file",
    "/proc/x",
    "/dev/null/x",
    "BINARY",
    "DIR",
    "owner",
    "filed",
    "json",
    "csv",
    "table",
    "year",
    "tag",
    "rule",
    "1",
    "4000000000",
    "bugs_total",
    "Let's Encrypt",
    "Nonexistent CA",
]
# serve-corpus serves forever by design (its options are checked in test_server); demo runs the whole pipeline, too
# slow for 40 examples (tests/test_install.py runs it and checks that a failing step is one line)
SKIP = {"serve-corpus", "demo"}


def _leaves(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    out = []
    for name, cmd in sorted(group.commands.items()):
        if name in SKIP:
            continue
        if isinstance(cmd, click.Group):
            out += _leaves(cmd, prefix + (name,))
        else:
            out.append((prefix + (name,), cmd))
    return out


COMMANDS = _leaves(cli)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fuzz") / "tiny.duckdb"
    bugs = [
        mk_bug(
            1000 + i,
            f"CA {i % 3}: incident {i}",
            f"2024-0{1 + i % 9}-10T10:00:00Z",
            "ca@example.com",
            "ca@example.com",
            comments=[("ca@example.com", f"2024-0{1 + i % 9}-10T10:00:00Z", "## Summary\nx")],
        )
        for i in range(6)
    ]
    build_db(path, bugs).close()
    return path


def _value(draw: Any, where: Path) -> str:
    # argv can hold neither NUL nor lone surrogates (execve takes C strings of UTF-8)
    v = draw(
        st.sampled_from(HOSTILE)
        | st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=12)
    )
    if v == "BINARY":
        return str(where / "binary.bin")
    if v == "DIR":
        return str(where)
    return v


@st.composite
def invocations(draw: Any, cmd: click.Command, where: Path) -> list[str]:
    args: list[str] = []
    for p in cmd.params:
        if p.name == "db" or not draw(st.booleans()):
            continue
        if isinstance(p, click.Argument):
            args.append(_value(draw, where))
        elif isinstance(p, click.Option):
            args.append(p.opts[-1] if p.opts[-1].startswith("--") else p.opts[0])
            if not p.is_flag:
                args.append(_value(draw, where))
    return args


@pytest.mark.parametrize("path,cmd", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_hostile_options_are_one_line_never_a_traceback(
    path: tuple[str, ...], cmd: click.Command, tiny_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    (work / "binary.bin").write_bytes(bytes(range(256)) * 4)
    monkeypatch.chdir(work)
    monkeypatch.delenv("BUGZILLA_API_KEY", raising=False)

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(invocations(cmd, work))
    def run(args: list[str]) -> None:
        db = work / "t.duckdb"
        shutil.copy(tiny_db, db)
        tail = ["--db", str(db)] if any(p.name == "db" for p in cmd.params) else []
        if path == ("sync",):
            tail += ["--url", "http://127.0.0.1:9", "--no-cache", "--retries", "0"]
        res = CliRunner().invoke(cli, [*path, *args, *tail])
        shown = f"bzmine {' '.join([*path, *args])!r}: exit {res.exit_code}\n{res.stdout}\n{res.stderr}"
        assert res.exit_code in (0, 1, 2), shown
        assert res.exception is None or isinstance(res.exception, SystemExit), shown
        assert "Traceback" not in res.output and "bzmine bug" not in res.stderr, shown
        if (
            res.exit_code != 2
        ):  # click's usage errors echo what the user typed; bzmine's own lines never carry ESC
            assert "\x1b" not in res.stderr, shown
        if res.exit_code == 1:
            lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
            assert len(lines) == 1 and lines[0].startswith("Error: "), shown

    run()
