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
from hypothesis import HealthCheck, example, given, settings
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
    "CORPUS",
    "DEEP",
    "UTF16",
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
# serve-corpus is fuzzed too (its serve_forever is replaced by a no-op below); demo runs the whole pipeline, too slow
# for 40 examples (tests/test_install.py runs it and checks that a failing step is one line)
SKIP = {"demo"}


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
    if v in ("CORPUS", "DEEP", "UTF16"):
        return str(where / FILES[v][0])
    return v


# hostile files a command may be given (or find in a config place): a valid corpus, JSON nested 200,000 deep, UTF-16
FILES = {
    "CORPUS": ("corpus.jsonl", b""),  # written from a synthetic bug in _files
    "DEEP": ("deep.json", b"[" * 200_000 + b"]" * 200_000),
    "UTF16": ("utf16.json", '{"aliases": {}}'.encode("utf-16")),
}


def _files(work: Path) -> None:
    from bzmine.corpus import write_corpus
    from bzmine.synth import synth

    (work / "binary.bin").write_bytes(bytes(range(256)) * 4)
    for name, content in FILES.values():
        if content:
            (work / name).write_bytes(content)
    write_corpus(synth(3, seed=1), work / FILES["CORPUS"][0])


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
    from bzmine.server import LocalBugzilla

    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    _files(work)
    monkeypatch.chdir(work)
    monkeypatch.delenv("BUGZILLA_API_KEY", raising=False)
    monkeypatch.setattr(LocalBugzilla, "serve_forever", lambda self: None)  # serve-corpus returns once bound

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


ENV_VALUES = [
    "",
    "abc",
    "-1",
    "0",
    "nan",
    "1e309",
    "99999999999999999999",
    "\x1b]0;owned\x07",
    "ünï\u202ecode",
    "x" * 300,
]
KEY_FILES = ["missing", "DIR", "BINARY", "UTF16", "DEEP", "EMPTY", "ESCAPES"]
ENV_COMMANDS = [
    ["status"],
    ["scorecard"],
    ["parse", "-q"],
    ["sql", "SELECT count(*) FROM raw_bugs"],
    ["sync", "--url", "http://127.0.0.1:9", "--no-cache", "--retries", "0", "-q"],
]


@pytest.mark.parametrize("command", ENV_COMMANDS, ids=[c[0] for c in ENV_COMMANDS])
def test_hostile_environment_and_config_files_are_one_line_never_a_traceback(
    command: list[str], tiny_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The environment variables bzmine reads ($BZMINE_DB, $BZMINE_READ_WAIT, $BZMINE_PARSE_WORKERS,
    $BUGZILLA_API_KEY) and its config file (~/.config/bzmine/api_key), each set to hostile values."""
    from bzmine import config

    work = tmp_path / "w"
    work.mkdir()
    _files(work)
    (work / "empty").write_bytes(b"")
    (work / "escapes").write_text("\x1b]0;owned\x07\u202e\n", encoding="utf-8")
    monkeypatch.chdir(work)
    key_paths = {
        "missing": work / "nothing-here",
        "DIR": work,
        "BINARY": work / "binary.bin",
        "UTF16": work / FILES["UTF16"][0],
        "DEEP": work / FILES["DEEP"][0],
        "EMPTY": work / "empty",
        "ESCAPES": work / "escapes",
    }

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(
        st.fixed_dictionaries(
            {},
            optional={
                "BZMINE_READ_WAIT": st.sampled_from(ENV_VALUES),
                "BZMINE_PARSE_WORKERS": st.sampled_from(ENV_VALUES),
                "BUGZILLA_API_KEY": st.sampled_from(ENV_VALUES),
                "BZMINE_DB": st.sampled_from([*ENV_VALUES, "DIR", "BINARY"]),
            },
        ),
        st.sampled_from(KEY_FILES),
    )
    @example({"BZMINE_READ_WAIT": "abc"}, "missing")
    @example({"BZMINE_PARSE_WORKERS": "abc"}, "missing")
    @example({"BUGZILLA_API_KEY": "\x1b]0;owned\x07"}, "missing")
    def run(env: dict[str, str], key_file: str) -> None:
        run_one(env, key_file)

    def run_one(env: dict[str, str], key_file: str) -> None:
        db = work / "t.duckdb"
        shutil.copy(tiny_db, db)
        for name in ("BZMINE_READ_WAIT", "BZMINE_PARSE_WORKERS", "BUGZILLA_API_KEY", "BZMINE_DB"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, str(key_paths.get(value, value)) if name == "BZMINE_DB" else value)
        monkeypatch.setattr(config, "CONFIG_FILE", key_paths[key_file])
        tail = [] if "BZMINE_DB" in env else ["--db", str(db)]
        res = CliRunner().invoke(cli, [*command, *tail])
        shown = f"{env} key file {key_file}: bzmine {' '.join(command)}: exit {res.exit_code}\n{res.output}"
        assert res.exit_code in (0, 1, 2), shown
        assert res.exception is None or isinstance(res.exception, SystemExit), shown
        assert "Traceback" not in res.output and "bzmine bug" not in res.stderr, shown
        assert "\x1b" not in res.output and "\u202e" not in res.output, shown
        if res.exit_code == 1:
            lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
            assert len(lines) == 1 and lines[0].startswith("Error: "), shown

    for kind in KEY_FILES:  # each key file, on a command that fails (its error line scrubs the key)
        run_one({"BZMINE_DB": "DIR"}, kind)
    run()
