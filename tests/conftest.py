"""Shared fixtures: synthetic corpora, the local Bugzilla-compatible server, databases."""

from __future__ import annotations

import contextlib
import copy
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import hypothesis
import pytest

from bzmine.corpus import Record
from bzmine.server import LocalBugzilla, ServerOptions
from bzmine.synth import synth


@contextlib.contextmanager
def db_held_elsewhere(db: Path, read_only: bool = False) -> Iterator[None]:
    """Another process holds the DuckDB file open read-write (as a running sync would), or read-only (as another
    reader would), for the block's duration."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb,time; c=duckdb.connect({str(db)!r}, read_only={read_only}); "
            "print('ok', flush=True); time.sleep(120)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        yield
    finally:
        holder.kill()
        holder.wait()


SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REALDATA = SHARED / "realdata"
API_KEY = "test-key-0123456789abcdef"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--regenerate", action="store_true", help="Rewrite golden parser expectations.")
    parser.addoption(
        "--load",
        action="store_true",
        help="Run the suite beside one CPU-bound process per core (a busy machine; CI uses this, `make test-load`).",
    )


# a property test's speed is no assertion: no per-example deadline, on any machine
hypothesis.settings.register_profile("bzmine", deadline=None)
hypothesis.settings.load_profile("bzmine")

_LOAD: list[subprocess.Popen[bytes]] = []


def pytest_configure(config: pytest.Config) -> None:
    """--load: start the busy neighbours before the first test (they end in pytest_sessionfinish)."""
    if config.getoption("--load", default=False) and not _LOAD:
        import os

        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        for _ in range(cores):
            _LOAD.append(subprocess.Popen([sys.executable, "-c", "while True: pass"]))


def pytest_report_header(config: pytest.Config) -> str | None:
    return f"load: {len(_LOAD)} CPU-bound processes beside the suite" if _LOAD else None


def _stop_load() -> None:
    while _LOAD:
        proc = _LOAD.pop()
        proc.kill()
        proc.wait()


def realdata(sub: str) -> Path:
    """A folder of ../shared/realdata, or skip the test cleanly when it is absent."""
    p = REALDATA / sub
    if not p.exists():
        pytest.skip(f"../shared/realdata/{sub} is not present")
    return p


@pytest.fixture(scope="session")
def small_corpus() -> dict[int, Record]:
    """40 synthetic bugs (a few private), shared read-only across tests."""
    records = synth(40, seed=7)
    for i in (3, 11):  # make sure private bugs exist in the searched product
        records[i].bug["groups"] = ["ca-confidential"]
        records[i].bug["product"] = "CA Program"
    return {r.id: r for r in records}


@pytest.fixture
def corpus(small_corpus: dict[int, Record]) -> dict[int, Record]:
    """A private copy tests may change."""
    return copy.deepcopy(small_corpus)


@pytest.fixture
def make_server(corpus: dict[int, Record]) -> Iterator:
    """Factory: start a local server on a real loopback socket with given options."""
    servers: list[LocalBugzilla] = []

    def _make(records: dict[int, Record] | None = None, **opts: object) -> LocalBugzilla:
        opts.setdefault("api_keys", (API_KEY,))
        srv = LocalBugzilla(records if records is not None else corpus, ServerOptions(**opts))  # type: ignore[arg-type]
        servers.append(srv.start())
        return srv

    yield _make
    for s in servers:
        s.stop()


@pytest.fixture
def bmo_server(make_server) -> LocalBugzilla:  # type: ignore[no-untyped-def]
    return make_server()


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """520 synthetic bugs synced through the local server (with a key) and parsed; returns (db path, truth)."""
    from bzmine.config import Settings
    from bzmine.parsing import reparse
    from bzmine.store.db import connect
    from bzmine.sync import sync

    records = synth(520, seed=99)
    truth = {r.id: r.truth for r in records}  # type: ignore[attr-defined]
    path = tmp_path_factory.mktemp("sample") / "sample.duckdb"
    with LocalBugzilla({r.id: r for r in records}, ServerOptions(api_keys=(API_KEY,))) as srv:
        con = connect(path)
        sync(con, Settings(url=srv.url, db=str(path), cache_path=None, api_key=API_KEY), quiet=True)
        reparse(con, quiet=True)
        con.close()
    return path, truth


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The suite leaves no process behind: every child this test process started has ended (up to 60 s grace, for
    a busy machine; the wait ends as soon as they have)."""
    import os
    import time

    _stop_load()
    if not Path("/proc/self/task").exists():
        return
    from tests.helpers import child_pids

    def children() -> set[int]:
        # multiprocessing's resource tracker (started once a spawned pool, e.g. the report's plot workers, ran in this
        # process) lives exactly as long as this process and ends with it by design: it is not left behind
        out = set()
        for pid in child_pids(os.getpid()):
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"multiprocessing.resource_tracker" not in cmd:
                out.add(pid)
        return out

    deadline = time.monotonic() + 60
    left = children()
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = children()
    if left:
        cmds = []
        for pid in sorted(left):
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                cmds.append(f"{pid}: {cmd[:120]}")
            except OSError:
                pass
        print("\nprocesses left behind by the test suite:\n  " + "\n  ".join(cmds))
        session.exitstatus = 1


def pytest_unconfigure(config: pytest.Config) -> None:
    _stop_load()  # in case the session ended before pytest_sessionfinish (an error while collecting)
