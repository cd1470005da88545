"""Frozen snapshots: every table as Parquet plus a manifest, opened read-only without the network.

A snapshot is what a researcher cites: the same figures months later, whatever Bugzilla has become. The manifest
records versions, the as_of the snapshot was cut for (readers default to it), what was left out (private bugs),
where and when the data was harvested, and per table its file, row count and SHA-256.

Two ids, both recomputed by every reader, which refuses any difference:
- `snapshot_id`: SHA-256 over the manifest's whole content (every field but the id itself), so editing any field
  or any file (and updating its hash) gives another id, and a citation names exactly the data that is there;
- `data_id`: SHA-256 over the raw and parsed tables' entries only (not the sync log, sync state or config
  bookkeeping): a sync that changes nothing keeps it, while `snapshot_id` names that harvest.
A manifest with a field or table this bzmine does not know, a file outside the folder, a file the manifest does not
list or a missing required table is refused too, each with one line.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

from bzmine.errors import ConfigError, SchemaError
from bzmine.parse import PARSER_VERSION
from bzmine.store.db import PRIVATE_ROWS, apply_views, base_tables, migrate
from bzmine.timeutil import to_timestamp
from bzmine.version import __version__

MANIFEST = "manifest.json"
FORMAT = 2
_HEX64 = re.compile(r"[0-9a-f]{64}")
# field -> accepted JSON types (the manifest holds these and nothing else)
_FIELDS: dict[str, tuple[type, ...]] = {
    "snapshot_id": (str,),
    "data_id": (str,),
    "format": (int,),
    "bzmine_version": (str,),
    "parser_version": (int, str),
    "schema_version": (int,),
    "server": (str, type(None)),
    "synced_at": (str, type(None)),
    "as_of": (str,),
    "private_bugs": (str,),
    "bugs": (int,),
    "tables": (dict,),
}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _digest(obj: Any) -> str:
    """SHA-256 of a canonical JSON text (sorted keys, no spaces, ASCII): the same content, the same id."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def is_data_table(name: str) -> bool:
    """Raw and parsed tables: what the data is. The sync log and state, schema and parse bookkeeping and the
    config tables (their effect is in the parsed tables) change with every run, the data only with the data."""
    return not name.startswith(("sync_", "schema_", "config_")) and name != "parse_state"


def snapshot_id(manifest: dict[str, Any]) -> str:
    return _digest({k: v for k, v in manifest.items() if k != "snapshot_id"})


def data_id(tables: dict[str, Any]) -> str:
    return _digest({name: e for name, e in tables.items() if is_data_table(name)})


def is_snapshot(path: str | Path) -> bool:
    return Path(path).is_dir() and (Path(path) / MANIFEST).is_file()


def write_snapshot(
    con: duckdb.DuckDBPyConnection, out: str | Path, as_of: Any = None, include_private: bool = False
) -> dict[str, Any]:
    """Write every base table as Parquet into `out` with a manifest; private and no longer visible bugs are left out
    unless asked. Without as_of the snapshot is cut at this second: its figures never move."""
    outdir = Path(out)
    if outdir.exists() and any(outdir.iterdir()):
        raise ConfigError(f"{outdir} is not empty: a snapshot goes into a new directory")
    outdir.mkdir(parents=True, exist_ok=True)
    entries: dict[str, Any] = {}
    for t, cols in base_tables(con).items():
        where = f"WHERE NOT ({PRIVATE_ROWS})" if "bug_id" in cols and not include_private else ""
        # t comes from the catalog; ORDER BY ALL makes the same data give the same bytes (and the same ids)
        rel = con.sql(f'SELECT * FROM "{t}" {where} ORDER BY ALL')
        path = outdir / f"{t}.parquet"
        rel.write_parquet(str(path))
        entries[t] = {"file": path.name, "rows": rel.count("*").fetchall()[0][0], "sha256": _sha256(path)}
    run = con.execute(
        "SELECT url, finished_at FROM sync_runs WHERE status = 'ok' ORDER BY run_id DESC LIMIT 1"
    ).fetchall()
    schema = con.execute("SELECT max(version) FROM schema_migrations").fetchall()[0][0]
    at = to_timestamp(as_of) or datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "data_id": data_id(entries),
        "bzmine_version": __version__,
        "parser_version": PARSER_VERSION,
        "schema_version": int(schema),
        "server": run[0][0] if run else None,
        "synced_at": run[0][1].isoformat() if run and run[0][1] else None,
        "as_of": at.isoformat(),
        "private_bugs": "included" if include_private else "left out",
        "bugs": entries.get("raw_bugs", {}).get("rows", 0),
        "tables": entries,
    }
    manifest = {"snapshot_id": snapshot_id(manifest), **manifest}
    (outdir / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


def _refuse(folder: Path, what: str) -> SchemaError:
    return SchemaError(f"{folder}: {what}; this is not the snapshot that was cut: use an intact copy.")


def read_manifest(path: str | Path, verify: bool = True) -> dict[str, Any]:
    """The manifest of a snapshot directory, checked: its shape, both ids recomputed, every table this bzmine
    requires present, no file outside the folder or unlisted, and (verify) every file's SHA-256 and row count."""
    folder = Path(path)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise SchemaError(
            f"{folder}: not a bzmine snapshot ({type(exc).__name__}); make one with `bzmine snapshot --out DIR`"
        ) from None
    _check_shape(folder, manifest)
    if snapshot_id(manifest) != manifest["snapshot_id"]:
        raise _refuse(folder, "manifest.json differs from what its snapshot_id was computed over (edited)")
    if data_id(manifest["tables"]) != manifest["data_id"]:
        raise _refuse(folder, "the table entries differ from what data_id was computed over (edited)")
    tables = manifest["tables"]
    known, required = _catalog(manifest["schema_version"])
    for name in tables:
        if name not in known:
            raise _refuse(folder, f"the manifest lists table {name!r}, which this bzmine does not know")
    missing = sorted(required - set(tables))
    if missing:
        raise _refuse(folder, f"required table {missing[0]} is missing from the manifest")
    listed = {e["file"] for e in tables.values()} | {MANIFEST}
    extra = sorted(p.name for p in folder.iterdir() if p.name not in listed)
    if extra:
        raise _refuse(folder, f"{extra[0]} is not listed in the manifest (unknown file)")
    if tables.get("raw_bugs", {}).get("rows") != manifest["bugs"]:
        raise _refuse(folder, "the manifest's bug count differs from its raw_bugs rows")
    if verify:
        con = duckdb.connect(":memory:")
        try:
            for name, e in sorted(tables.items()):
                f = folder / e["file"]
                if f.is_symlink():
                    raise _refuse(
                        folder, f"{e['file']} is a symbolic link (its data may be outside the folder)"
                    )
                if not f.is_file() or _sha256(f) != e["sha256"]:
                    raise SchemaError(
                        f"{folder}: {e['file']} (table {name}) is missing or changed since the snapshot was "
                        "made (SHA-256 differs); use an intact copy."
                    )
                try:
                    rows = con.execute("SELECT count(*) FROM read_parquet(?)", [str(f)]).fetchall()[0][0]
                except duckdb.Error:
                    rows = None
                if rows != e["rows"]:
                    raise _refuse(folder, f"{e['file']} holds {rows} rows, the manifest says {e['rows']}")
        finally:
            con.close()
    return manifest


def _check_shape(folder: Path, m: Any) -> None:
    """Every field present with its type and nothing else; table entries exactly {file, rows, sha256} with the file
    `<table>.parquet` inside the folder."""
    if not isinstance(m, dict):
        raise _refuse(folder, "manifest.json is not a JSON object")
    if "format" not in m and "snapshot_id" in m and "tables" in m:
        raise SchemaError(
            f"{folder}: a snapshot in the first manifest format (its id covers only the table entries); cut it "
            "again with `bzmine snapshot` to cite it."
        )
    for k in m:
        if k not in _FIELDS:
            raise _refuse(folder, f"manifest field {k!r} is not one bzmine writes")
    for k, types in _FIELDS.items():
        if k not in m:
            raise _refuse(folder, f"manifest field {k!r} is missing")
        v = m[k]
        if not isinstance(v, types) or (isinstance(v, bool) and bool not in types):
            raise _refuse(folder, f"manifest field {k!r} has the wrong type ({type(v).__name__})")
    if m["format"] != FORMAT:
        raise _refuse(folder, f"manifest format {m['format']} is not {FORMAT}")
    for k in ("snapshot_id", "data_id"):
        if not _HEX64.fullmatch(m[k]):
            raise _refuse(folder, f"{k} is not a SHA-256")
    if m["private_bugs"] not in ("left out", "included"):
        raise _refuse(folder, "private_bugs is neither 'left out' nor 'included'")
    try:
        datetime.fromisoformat(m["as_of"])
    except ValueError:
        raise _refuse(folder, "as_of is not a date and time") from None
    for name, e in m["tables"].items():
        if not isinstance(e, dict) or set(e) != {"file", "rows", "sha256"}:
            raise _refuse(folder, f"table entry {name!r} is not {{file, rows, sha256}}")
        f = e["file"]
        if not isinstance(f, str) or Path(f).is_absolute() or Path(f).name != f or f in (".", ".."):
            raise _refuse(folder, f"table {name!r} points outside the snapshot folder ({f!r})")
        if f != f"{name}.parquet":
            raise _refuse(folder, f"table {name!r} names file {f!r}, not {name}.parquet")
        if not isinstance(e["rows"], int) or isinstance(e["rows"], bool) or e["rows"] < 0:
            raise _refuse(folder, f"table {name!r} has no row count")
        if not isinstance(e["sha256"], str) or not _HEX64.fullmatch(e["sha256"]):
            raise _refuse(folder, f"table {name!r} has no SHA-256")


def _catalog(schema_version: int) -> tuple[set[str], set[str]]:
    """This bzmine's tables, and those a snapshot of this schema version must hold (every table that version has)."""
    con = duckdb.connect(":memory:")
    try:
        migrate(con)
        known = set(base_tables(con))
        have = con.execute("SELECT max(version) FROM schema_migrations").fetchall()[0][0]
        if schema_version > have:
            raise SchemaError(
                f"the snapshot was cut by a newer bzmine (schema {schema_version}; this one knows {have}): "
                "upgrade bzmine."
            )
        if schema_version == have:
            return known, known
        old = duckdb.connect(":memory:")
        try:
            migrate(old, upto=schema_version)
            return known, set(base_tables(old))
        finally:
            old.close()
    finally:
        con.close()


def open_snapshot(path: str | Path) -> duckdb.DuckDBPyConnection:
    """An in-memory database holding the snapshot's tables, with bzmine's views: every command works on it, and
    nothing it does can change the snapshot. Its figures default to the snapshot's as_of."""
    folder = Path(path)
    manifest = read_manifest(folder)
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    migrate(con)  # this bzmine's tables, with their keys; the snapshot's rows go into them by column name
    for name, e in manifest["tables"].items():
        if name == "schema_migrations":
            continue  # names were checked against the catalog of this bzmine (read_manifest)
        con.execute(f'DELETE FROM "{name}"')
        con.execute(f'INSERT INTO "{name}" BY NAME SELECT * FROM read_parquet(?)', [str(folder / e["file"])])
    apply_views(con, force=True)
    con.execute("SET VARIABLE bzmine_default_as_of = CAST(? AS TIMESTAMP)", [manifest["as_of"]])
    return con


def citation(manifest: dict[str, Any]) -> str:
    """How to cite a snapshot: a sentence and a BibTeX entry."""
    sid = manifest["snapshot_id"]
    did = manifest.get("data_id", "")
    as_of = manifest.get("as_of") or manifest.get("synced_at") or "unknown"
    year = str(as_of)[:4]
    server = manifest.get("server") or "Bugzilla"
    text = (
        f"Mozilla Bugzilla CA compliance incidents, bzmine snapshot {sid[:12]} (SHA-256 {sid}; data {did}), "
        f"{manifest.get('bugs', 0)} bugs harvested from {server} at {manifest.get('synced_at')}, figures as of {as_of}; "
        f"private bugs {manifest.get('private_bugs')}; "
        f"bzmine {manifest.get('bzmine_version')}, parser {manifest.get('parser_version')}, "
        f"schema {manifest.get('schema_version')}."
    )
    bib = (
        f"@misc{{bzmine_{sid[:12]},\n  title = {{Mozilla Bugzilla CA compliance incidents (bzmine snapshot {sid[:12]})}},\n"
        f"  year = {{{year}}},\n  note = {{{manifest.get('bugs', 0)} bugs from {server}, as of {as_of}; "
        f"bzmine {manifest.get('bzmine_version')}, parser {manifest.get('parser_version')}; SHA-256 {sid}; "
        f"data {did}}}\n}}"
    )
    return text + "\n\n" + bib
