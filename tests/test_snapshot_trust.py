"""A snapshot you cite is the data you cite (issue 27 items 5-7; issue 31 items 5-6): both ids are recomputed by
every reader, any edit of the manifest or of a file is refused with one line, readers default to the snapshot's
as_of, and data_id stays the same across a sync that changes nothing."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from bzmine.cli import cli
from bzmine.corpus import load_corpus
from bzmine.server import LocalBugzilla, ServerOptions
from bzmine.timeutil import format_bmo_time, utcnow

ROOT = Path(__file__).resolve().parents[1]
CUT = "2026-06-01T00:00:00"  # the snapshot's as_of


def _run(*args: str) -> Any:
    res = CliRunner().invoke(cli, list(args))
    assert res.exit_code == 0, (args, res.output)
    return res


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, LocalBugzilla]]:
    """The bundled sample synced through the local server (which stays up for further syncs)."""
    db = tmp_path_factory.mktemp("trust") / "s.duckdb"
    with LocalBugzilla(load_corpus(ROOT / "data" / "sample"), ServerOptions()) as srv:
        _run("sync", "--url", srv.url, "--db", str(db), "--no-cache", "-q")
        yield db, srv


@pytest.fixture(scope="module")
def snap(synced: tuple[Path, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("snaps") / "snap"
    _run("snapshot", "--db", str(synced[0]), "--out", str(out), "--as-of", CUT)
    return out


def _copy(snap: Path, tmp: Path) -> Path:
    dst = tmp / "copy"
    shutil.copytree(snap, dst)
    return dst


def _manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def _write(folder: Path, m: Any) -> None:
    (folder / "manifest.json").write_text(json.dumps(m, indent=1), encoding="utf-8")


def _refused(folder: Path, commands: tuple[str, ...] = ("open-snapshot", "cite", "scorecard")) -> list[str]:
    """Each command refuses the folder: exit 1, one line, no traceback; returns the lines."""
    lines = []
    for cmd in commands:
        args = [cmd, str(folder)] if cmd in ("open-snapshot", "cite") else [cmd, "--db", str(folder)]
        res = CliRunner().invoke(cli, args)
        out = res.output.strip().splitlines()
        assert res.exit_code == 1 and len(out) == 1 and "Traceback" not in res.output, (cmd, res.output)
        lines.append(out[0])
    return lines


def _edit(value: Any) -> Any:
    """Another value of the same kind: what a hand edit does."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value):
        return ("0" if value[0] != "0" else "1") + value[1:]
    if isinstance(value, str):
        return value[:-1] + ("1" if value[-1:] != "1" else "2")
    return "edited"


FIELDS = [
    "snapshot_id",
    "data_id",
    "format",
    "bzmine_version",
    "parser_version",
    "schema_version",
    "server",
    "synced_at",
    "as_of",
    "private_bugs",
    "bugs",
]


def test_the_manifest_holds_exactly_the_fields_tested(snap: Path) -> None:
    assert set(_manifest(snap)) == {*FIELDS, "tables"}
    _run("open-snapshot", str(snap))


@pytest.mark.parametrize("field", FIELDS)
def test_editing_any_manifest_field_is_refused(snap: Path, tmp_path: Path, field: str) -> None:
    folder = _copy(snap, tmp_path)
    m = _manifest(folder)
    m[field] = _edit(m[field])
    _write(folder, m)
    _refused(folder)


def test_editing_any_table_entry_or_deleting_it_is_refused(snap: Path, tmp_path: Path) -> None:
    folder = _copy(snap, tmp_path)
    original = _manifest(folder)
    for name in sorted(original["tables"]):
        for key in ("file", "rows", "sha256"):
            m = copy.deepcopy(original)
            m["tables"][name][key] = _edit(m["tables"][name][key])
            _write(folder, m)
            _refused(folder, ("open-snapshot",))
        m = copy.deepcopy(original)
        del m["tables"][name]
        _write(folder, m)
        _refused(folder, ("open-snapshot",))
    _write(folder, original)
    _run("open-snapshot", str(folder))


def test_editing_or_removing_any_file_or_adding_one_is_refused(snap: Path, tmp_path: Path) -> None:
    folder = _copy(snap, tmp_path)
    for f in sorted(folder.glob("*.parquet")):
        data = f.read_bytes()
        f.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
        assert "changed since the snapshot was made" in _refused(folder, ("open-snapshot",))[0]
        f.unlink()
        _refused(folder, ("open-snapshot",))
        f.write_bytes(data)
    (folder / "notes.parquet").write_bytes(b"x")
    assert "unknown file" in _refused(folder)[0]
    (folder / "notes.parquet").unlink()
    _run("open-snapshot", str(folder))


def _reseal(folder: Path, m: dict[str, Any]) -> str:
    """What a careful forger does: recompute both ids after an edit (the ids then name the edited data)."""
    from bzmine.snapshot import data_id, snapshot_id

    m["data_id"] = data_id(m["tables"])
    m["snapshot_id"] = snapshot_id(m)
    _write(folder, m)
    return str(m["snapshot_id"])


def test_a_resealed_edit_gets_another_id_and_cannot_drop_a_required_table(snap: Path, tmp_path: Path) -> None:
    """Issue 27's case: one bug removed from incidents.parquet, its hash and rows updated and the ids recomputed:
    the data is read, but cite names a new id, not the original one."""
    folder = _copy(snap, tmp_path)
    original = _manifest(folder)
    inc = folder / "incidents.parquet"
    con = duckdb.connect()
    con.execute(  # paths of this test's own temporary folder
        f"COPY (SELECT * FROM read_parquet('{inc}') WHERE bug_id <> (SELECT min(bug_id) FROM "
        f"read_parquet('{inc}')) ORDER BY ALL) TO '{folder / 'tmp.parquet'}' (FORMAT parquet)"
    )
    con.close()
    (folder / "tmp.parquet").replace(inc)
    m = copy.deepcopy(original)
    m["tables"]["incidents"]["rows"] -= 1
    m["tables"]["incidents"]["sha256"] = hashlib.sha256(inc.read_bytes()).hexdigest()
    new_id = _reseal(folder, m)
    cite = _run("cite", str(folder)).output
    assert new_id in cite and original["snapshot_id"] not in cite
    assert original["data_id"] not in cite
    # a required table dropped, ids recomputed: refused all the same
    m = copy.deepcopy(original)
    del m["tables"]["raw_comments"]
    _reseal(folder, m)
    assert "required table raw_comments is missing" in _refused(folder)[0]


@pytest.mark.parametrize(
    "change, says",
    [
        (lambda m: m["tables"].__setitem__("raw_bugs", 5), "is not {file, rows, sha256}"),
        (lambda m: m["tables"]["raw_bugs"].pop("file"), "is not {file, rows, sha256}"),
        (
            lambda m: m["tables"]["raw_bugs"].__setitem__("file", "../raw_bugs.parquet"),
            "outside the snapshot",
        ),
        (lambda m: m["tables"]["raw_bugs"].__setitem__("file", "/etc/passwd"), "outside the snapshot"),
        (lambda m: m["tables"]["raw_bugs"].__setitem__("file", "incidents.parquet"), "not raw_bugs.parquet"),
        (
            lambda m: m["tables"].__setitem__("evil", {**m["tables"]["raw_bugs"], "file": "evil.parquet"}),
            "does not know",
        ),
        (lambda m: m.__setitem__("note", "hello"), "is not one bzmine writes"),
        (lambda m: m.__setitem__("tables", []), "wrong type"),
        (lambda m: m.__setitem__("as_of", "yesterday"), "not a date"),
    ],
)
def test_malformed_manifests_are_refused_even_when_resealed(
    snap: Path, tmp_path: Path, change: Callable[[dict[str, Any]], Any], says: str
) -> None:
    folder = _copy(snap, tmp_path)
    m = _manifest(folder)
    change(m)
    from bzmine.snapshot import snapshot_id

    if isinstance(m.get("tables"), dict):
        try:
            _reseal(folder, m)
        except (AttributeError, TypeError):  # data_id cannot be computed over a broken entry
            m["snapshot_id"] = snapshot_id(m)
            _write(folder, m)
    else:
        _write(folder, m)
    assert says in _refused(folder)[0]


def test_a_symlinked_table_file_is_refused(snap: Path, tmp_path: Path) -> None:
    folder = _copy(snap, tmp_path)
    outside = tmp_path / "outside.parquet"
    (folder / "raw_bugs.parquet").replace(outside)
    os.symlink(outside, folder / "raw_bugs.parquet")
    assert "symbolic link" in _refused(folder, ("open-snapshot",))[0]


def test_readers_default_to_the_snapshots_as_of(synced: tuple[Path, Any], snap: Path) -> None:
    db = synced[0]
    for cmd in (["due"], ["scorecard"], ["trends"]):
        at_cut = _run(*cmd, "--db", str(db), "--as-of", CUT, "--format", "csv").output
        assert _run(*cmd, "--db", str(snap), "--format", "csv").output == at_cut, cmd
    # and not today's date: the sample has items pending at CUT that are long overdue now
    assert (
        _run("due", "--db", str(db), "--format", "csv").output
        != _run("due", "--db", str(snap), "--format", "csv").output
    )
    assert "figures as of 2026-06-01T00:00:00" in _run("cite", str(snap)).output
    import bzmine
    from bzmine import metrics

    con = bzmine.connect(str(snap))  # notebooks: the same default
    try:
        assert metrics.default_as_of(con).isoformat() == CUT
        assert metrics.due(con).to_csv() == metrics.due(con, CUT).to_csv()
    finally:
        con.close()


def test_data_id_survives_a_sync_that_changes_nothing(
    synced: tuple[Path, LocalBugzilla], tmp_path: Path
) -> None:
    db, srv = synced
    work = tmp_path / "w.duckdb"
    shutil.copy(db, work)

    def cut(name: str) -> dict[str, Any]:
        _run("snapshot", "--db", str(work), "--out", str(tmp_path / name), "--as-of", CUT)
        return _manifest(tmp_path / name)

    first = cut("a")
    _run("sync", "--url", srv.url, "--db", str(work), "--no-cache", "-q")
    second = cut("b")
    assert second["data_id"] == first["data_id"]  # the same data
    assert second["snapshot_id"] != first["snapshot_id"]  # another harvest (its sync log is in the snapshot)
    rec = srv.app.records[min(srv.app.records)]
    now = format_bmo_time(utcnow())
    changed = copy.deepcopy(rec)
    changed.bug["last_change_time"] = now
    changed.comments.append(
        {
            **rec.comments[-1],
            "id": 99_999_999,
            "count": len(rec.comments),
            "text": "x",
            "raw_text": "x",
            "time": now,
            "creation_time": now,
        }
    )
    srv.app.put(changed)
    _run("sync", "--url", srv.url, "--db", str(work), "--no-cache", "-q")
    assert cut("c")["data_id"] != first["data_id"]
