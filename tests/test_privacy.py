"""Private stays private (issue 27, 32): a bug restricted to a group, or no longer visible since a later sync, is in
nothing shared (export in each format, snapshots, the report, the CLI tables) unless --include-private, and marked
wherever it is included. Everything runs through the CLI against the local server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from bzmine.cli import cli
from bzmine.corpus import load_corpus
from bzmine.server import LocalBugzilla, ServerOptions
from bzmine.store.db import base_tables, migrate
from bzmine.synth import synth
from tests.conftest import API_KEY

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-01"
# public at the first sync, restricted to a group before the second (the first leaves rows in 15 tables, the second
# has something due at AS_OF)
TURNED = (1800028, 1800027)
LEFT = (
    1800029,
    1800013,
)  # public at the first sync, gone from the server before the second (no longer visible)
PRIVATE = (1800003, 1800011)  # restricted from the start (seen only with the key)


def _bug_tables() -> list[str]:
    """Every table of this bzmine's schema with a bug_id column, from the migrations themselves."""
    con = duckdb.connect()
    migrate(con)
    try:
        return sorted(t for t, cols in base_tables(con).items() if "bug_id" in cols)
    finally:
        con.close()


BUG_TABLES = _bug_tables()


def _run(*args: str) -> Any:
    res = CliRunner().invoke(cli, list(args))
    assert res.exit_code == 0, (args, res.output)
    return res


@pytest.fixture(scope="module")
def keyholder_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A key holder's database after two syncs: two bugs private from the start, one made private between the
    syncs (as an administrator does on BMO), one gone from the bug set."""
    records = synth(40, seed=7)
    for i in (3, 11):
        records[i].bug["groups"] = ["ca-confidential"]
        records[i].bug["product"] = "CA Program"
    db = tmp_path_factory.mktemp("priv") / "k.duckdb"
    old = os.environ.get("BUGZILLA_API_KEY")
    os.environ["BUGZILLA_API_KEY"] = API_KEY
    try:
        with LocalBugzilla({r.id: r for r in records}, ServerOptions(api_keys=(API_KEY,))) as srv:
            _run("sync", "--url", srv.url, "--db", str(db), "--no-cache", "-q")
            for b in TURNED:
                srv.app.make_private(b)
            for b in LEFT:
                srv.app.remove(b)
            _run("sync", "--url", srv.url, "--db", str(db), "--no-cache", "-q")
    finally:
        if old is None:
            os.environ.pop("BUGZILLA_API_KEY", None)
        else:
            os.environ["BUGZILLA_API_KEY"] = old
    yield db


HIDDEN = {*TURNED, *LEFT, *PRIVATE}


def test_the_fixture_holds_every_kind_of_hidden_bug(keyholder_db: Path) -> None:
    con = duckdb.connect(str(keyholder_db), read_only=True)
    try:
        rows = dict(con.execute("SELECT bug_id, hidden FROM hidden_bugs").fetchall())
        assert rows == {
            **{b: "private" for b in (*TURNED, *PRIVATE)},
            **{b: "no longer visible" for b in LEFT},
        }
        # the bugs leave rows in (nearly) every table with a bug_id: the checks below are not vacuous
        holding = [
            t
            for t in BUG_TABLES
            if con.execute(
                f'SELECT count(*) FROM "{t}" WHERE bug_id IN (SELECT bug_id FROM hidden_bugs)'
            ).fetchone()[0]
        ]
        assert len(holding) >= 15, holding
    finally:
        con.close()


def _shared(keyholder_db: Path, root: Path, mode: str, include: bool) -> Path:
    """Export (parquet, csv) or snapshot the database into root, once per mode and flag."""
    out = root / f"{mode}-{'all' if include else 'shared'}"
    if not out.exists():
        flag = ["--include-private"] if include else []
        if mode == "snapshot":
            _run("snapshot", "--db", str(keyholder_db), "--out", str(out), "--as-of", AS_OF, *flag)
        else:
            _run("export", "--db", str(keyholder_db), "--out", str(out), "--format", mode, *flag)
    return out


@pytest.fixture(scope="module")
def shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shared")


def _ids(folder: Path, table: str, mode: str) -> list[int]:
    ext = "csv" if mode == "csv" else "parquet"
    f = folder / f"{table}.{ext}"
    reader = "read_csv" if mode == "csv" else "read_parquet"
    if not f.exists():  # partitioned by year: <table>/year=.../*.ext
        f = folder / table / "**" / f"*.{ext}"
    con = duckdb.connect()
    try:
        cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {reader}(?)", [str(f)]).fetchall()]
        if "bug_id" not in cols:  # a CSV of an empty table has only its header
            return []
        return [r[0] for r in con.execute(f"SELECT bug_id FROM {reader}(?)", [str(f)]).fetchall()]
    finally:
        con.close()


@pytest.mark.parametrize("mode", ["parquet", "csv", "snapshot"])
@pytest.mark.parametrize("table", BUG_TABLES)
def test_no_hidden_bug_in_anything_shared_unless_asked(
    keyholder_db: Path, shared_root: Path, table: str, mode: str
) -> None:
    """Every table with a bug_id, every export format and snapshots: no private or no longer visible id by default;
    with --include-private, every row of the database (hidden ones included)."""
    shared = _ids(_shared(keyholder_db, shared_root, mode, False), table, mode)
    assert not set(shared) & HIDDEN
    con = duckdb.connect(str(keyholder_db), read_only=True)
    try:
        everything = sorted(r[0] for r in con.execute(f'SELECT bug_id FROM "{table}"').fetchall())
        public = sorted(i for i in everything if i not in HIDDEN)
    finally:
        con.close()
    assert sorted(shared) == public
    assert sorted(_ids(_shared(keyholder_db, shared_root, mode, True), table, mode)) == everything


def test_snapshot_manifest_says_what_was_left_out(keyholder_db: Path, shared_root: Path) -> None:
    con = duckdb.connect(str(keyholder_db), read_only=True)
    stored = con.execute("SELECT count(*) FROM raw_bugs").fetchone()[0]
    con.close()
    m = json.loads((_shared(keyholder_db, shared_root, "snapshot", False) / "manifest.json").read_text())
    assert m["private_bugs"] == "left out" and m["bugs"] == stored - 6  # the six hidden bugs
    m = json.loads((_shared(keyholder_db, shared_root, "snapshot", True) / "manifest.json").read_text())
    assert m["private_bugs"] == "included" and m["bugs"] == stored


def _due_ids(db: Path, *flags: str) -> dict[int, str]:
    out = _run("due", "--db", str(db), "--as-of", AS_OF, "--days", "3650", "--format", "json", *flags).output
    return {r["bug_id"]: r["summary"] for r in json.loads(out)}


def test_cli_tables_leave_hidden_bugs_out_and_mark_them_when_included(keyholder_db: Path) -> None:
    shared = _due_ids(keyholder_db)
    assert shared and not set(shared) & HIDDEN
    everything = _due_ids(keyholder_db, "--include-private")
    shown = set(everything) & HIDDEN
    assert shown >= {1800027, 1800013}, "hidden bugs of both kinds have something due: the marks are checked"
    for b in shown:
        want = "[no longer visible] " if b in LEFT else "[private] "
        assert everything[b].startswith(want), everything[b]
    assert not any(s.startswith("[") for b, s in everything.items() if b not in HIDDEN)
    card = json.loads(
        _run("scorecard", "--db", str(keyholder_db), "--as-of", AS_OF, "--format", "json").output
    )
    assert "private_bugs" not in card[0]
    card_all = json.loads(
        _run(
            "scorecard", "--db", str(keyholder_db), "--as-of", AS_OF, "--format", "json", "--include-private"
        ).output
    )
    con = duckdb.connect(str(keyholder_db), read_only=True)
    per_ca = dict(
        con.execute(
            "SELECT coalesce(ca_owner, ca), count(*) FROM incidents WHERE list_contains(?, bug_id) "
            "AND subject_kind = 'ca' GROUP BY 1",
            [sorted(HIDDEN)],
        ).fetchall()
    )
    con.close()
    assert {r["ca"]: r["private_bugs"] for r in card_all if r["private_bugs"]} == per_ca
    assert sum(r["bugs_total"] for r in card_all) == sum(r["bugs_total"] for r in card) + sum(per_ca.values())
    # one CA beside its peers: a private_bugs row, only when included
    ca, n = sorted(per_ca.items())[0]
    one = ["scorecard", "--db", str(keyholder_db), "--as-of", AS_OF, "--format", "json", "--ca", ca]
    rows = {r["figure"]: r["value"] for r in json.loads(_run(*one, "--include-private").output)}
    assert rows["private_bugs"] == n
    assert "private_bugs" not in {r["figure"] for r in json.loads(_run(*one).output)}
    # the table form keeps the mark in its compact columns
    assert (
        "private_bugs"
        in _run("scorecard", "--db", str(keyholder_db), "--as-of", AS_OF, "--include-private").output
    )


def test_report_leaves_hidden_bugs_out_and_marks_them_when_included(
    keyholder_db: Path, tmp_path: Path
) -> None:
    for flag in ([], ["--include-private"]):
        out = tmp_path / f"r{len(flag)}"
        _run("report", "--db", str(keyholder_db), "--out", str(out), "--as-of", AS_OF, "-q", *flag)
        html = {p.name: p.read_text(encoding="utf-8") for p in out.rglob("*.html")}
        linked = {int(m) for page in html.values() for m in re.findall(r'id=(\d+)"', page)}
        if not flag:
            assert not linked & HIDDEN and "[private]" not in "".join(html.values())
            assert "Not for sharing" not in html["index.html"]
        else:
            assert linked & HIDDEN
            assert "Not for sharing" in html["index.html"]
            for page in html.values():  # every row of a hidden bug carries its mark
                for row in re.findall(r"<tr>.*?</tr>", page, flags=re.S):
                    for b in HIDDEN & {int(m) for m in re.findall(r'id=(\d+)"', row)}:
                        assert f">{b}</a> [{'no longer visible' if b in LEFT else 'private'}]" in row, row[
                            :300
                        ]


def test_a_bug_turning_private_between_two_syncs_leaves_every_figure(tmp_path: Path) -> None:
    """serve-corpus --turn-private BUG@2: the bug is public at the first sync and private (absent from searches,
    401 on reads) at the second, an incremental one; that sync says so and the bug leaves status, due, scorecard."""
    db = tmp_path / "t.duckdb"
    victim = 1800079  # a sample bug with something pending at AS_OF (a question since 2018)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bzmine",
            "serve-corpus",
            str(ROOT / "data" / "sample"),
            "--turn-private",
            f"{victim}@2",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = re.search(r"at (http://\S+)/rest/", proc.stdout.readline())
        assert url, "serve-corpus printed its address"
        env = {k: v for k, v in os.environ.items() if k != "BUGZILLA_API_KEY"}
        sync = [sys.executable, "-m", "bzmine", "sync", "--url", url[1], "--db", str(db), "--no-cache"]
        first = subprocess.run(sync, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert first.returncode == 0, first.stderr
        assert victim in _due_ids(db)
        second = subprocess.run(sync, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert second.returncode == 0, second.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert "sync incremental:" in second.stdout and "1 no longer visible" in second.stdout
    # nothing changed: version, time, the newest bug listed again (the watermark is never past it + 5 min) and an
    # empty page, then every id for visibility: 2 + 2 + ceil(77/1000) + 1 requests
    assert "6 requests" in second.stdout
    status = _run("status", "--db", str(db)).output
    assert f"no longer visible (private now, or left the bug set): {victim}" in status
    assert victim not in _due_ids(db)
    assert _due_ids(db, "--include-private")[victim].startswith("[no longer visible] ")
    card = _run("scorecard", "--db", str(db), "--as-of", AS_OF, "--format", "csv").output
    card_all = _run(
        "scorecard", "--db", str(db), "--as-of", AS_OF, "--format", "csv", "--include-private"
    ).output
    assert card != card_all


def test_turn_private_knob_answers_as_bmo_does() -> None:
    """From the Nth connection on: absent from anonymous searches, 401 on anonymous direct reads; a key holder
    still reads it, with its group and a moved last_change_time."""
    import requests

    records = {r.id: r for r in synth(10, seed=3)}
    victim = sorted(records)[2]
    opts = ServerOptions(api_keys=(API_KEY,), turn_private=((victim, 2),))
    with LocalBugzilla(records, opts) as srv:

        def ids() -> set[int]:
            q = {"id": ",".join(map(str, records)), "include_fields": "id"}
            bugs = requests.get(f"{srv.url}/rest/bug", params=q, timeout=10).json()
            return {b["id"] for b in bugs["bugs"]}

        before = records[victim].bug["last_change_time"]
        requests.get(f"{srv.url}/rest/version", timeout=10)
        assert victim in ids()
        assert requests.get(f"{srv.url}/rest/bug/{victim}", timeout=10).status_code == 200
        requests.get(f"{srv.url}/rest/version", timeout=10)  # the second sync connects: now private
        assert victim not in ids() and len(ids()) == len(records) - 1
        anon = requests.get(f"{srv.url}/rest/bug/{victim}", timeout=10)
        assert anon.status_code == 401 and anon.json()["code"] == 102
        keyed = requests.get(
            f"{srv.url}/rest/bug/{victim}", headers={"X-BUGZILLA-API-KEY": API_KEY}, timeout=10
        ).json()["bugs"][0]
        assert keyed["groups"] == ["ca-confidential"] and keyed["last_change_time"] > before


def test_a_bug_public_again_is_fetched_and_counted_again(tmp_path: Path) -> None:
    """Private at one sync, public again at the next with its old change time (an administrator undoing the
    restriction on a server that does not move it): the next sync fetches it again and it is back in every figure."""
    records = load_corpus(ROOT / "data" / "sample")
    victim = 1800079
    original = records[victim]
    db = tmp_path / "b.duckdb"
    with LocalBugzilla(records, ServerOptions()) as srv:
        sync = ("sync", "--url", srv.url, "--db", str(db), "--no-cache")
        _run(*sync, "-q")
        srv.app.make_private(victim)
        assert "1 no longer visible" in _run(*sync).output
        assert victim not in _due_ids(db)
        srv.app.put(original)  # public again, last_change_time as before
        srv.app.requests.clear()
        out = _run(*sync).output
        fetched = [
            v for e in srv.app.requests for k, v in e["query"] if k == "id" and e["path"] == "/rest/bug"
        ]
    assert fetched == [str(victim)] and "0 no longer visible" in out
    assert victim in _due_ids(db)
    assert "no longer visible (private now" not in _run("status", "--db", str(db)).output
