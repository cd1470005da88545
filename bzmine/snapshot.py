"""Frozen snapshots: every table as Parquet plus a manifest, opened read-only without the network.

A snapshot is what a researcher cites: the same figures months later, whatever Bugzilla has become. The manifest
records versions, where and when the data was harvested, the as_of the snapshot was cut for, row counts and a
SHA-256 per file; `snapshot_id` is the SHA-256 of the manifest's table entries, so it changes when any data does.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import duckdb

from bzmine import __version__
from bzmine.errors import ConfigError, SchemaError

MANIFEST = "manifest.json"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def is_snapshot(path: str | Path) -> bool:
    return Path(path).is_dir() and (Path(path) / MANIFEST).is_file()


def write_snapshot(
    con: duckdb.DuckDBPyConnection, out: str | Path, as_of: Any = None, include_private: bool = False
) -> dict[str, Any]:
    """Write every base table as Parquet into `out` with a manifest; private bugs are left out unless asked."""
    from bzmine.metrics import to_timestamp
    from bzmine.parse import PARSER_VERSION
    from bzmine.store.db import PRIVATE_ROWS, base_tables

    outdir = Path(out)
    if outdir.exists() and any(outdir.iterdir()):
        raise ConfigError(f"{outdir} is not empty: a snapshot goes into a new directory")
    outdir.mkdir(parents=True, exist_ok=True)
    entries: dict[str, Any] = {}
    for t, cols in base_tables(con).items():
        where = f"WHERE NOT ({PRIVATE_ROWS})" if "bug_id" in cols and not include_private else ""
        # t comes from the catalog; ORDER BY ALL makes the same data give the same bytes (and the same snapshot_id)
        rel = con.sql(f'SELECT * FROM "{t}" {where} ORDER BY ALL')
        path = outdir / f"{t}.parquet"
        rel.write_parquet(str(path))
        entries[t] = {"file": path.name, "rows": rel.count("*").fetchall()[0][0], "sha256": _sha256(path)}
    run = con.execute(
        "SELECT url, finished_at FROM sync_runs WHERE status = 'ok' ORDER BY run_id DESC LIMIT 1"
    ).fetchall()
    schema = con.execute("SELECT max(version) FROM schema_migrations").fetchall()[0][0]
    at = to_timestamp(as_of)
    manifest = {
        "snapshot_id": hashlib.sha256(json.dumps(entries, sort_keys=True).encode()).hexdigest(),
        "bzmine_version": __version__,
        "parser_version": PARSER_VERSION,
        "schema_version": schema,
        "server": run[0][0] if run else None,
        "synced_at": run[0][1].isoformat() if run and run[0][1] else None,
        "as_of": at.isoformat() if at else None,
        "private_bugs": "included" if include_private else "left out",
        "bugs": entries.get("raw_bugs", {}).get("rows", 0),
        "tables": entries,
    }
    (outdir / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


def read_manifest(path: str | Path, verify: bool = True) -> dict[str, Any]:
    """The manifest of a snapshot directory; with verify, every file's SHA-256 is checked."""
    folder = Path(path)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SchemaError(
            f"{folder}: not a bzmine snapshot ({exc}); make one with `bzmine snapshot --out DIR`"
        ) from None
    if verify:
        for name, e in manifest.get("tables", {}).items():
            f = folder / e["file"]
            if not f.is_file() or _sha256(f) != e["sha256"]:
                raise SchemaError(
                    f"{folder}: {e['file']} (table {name}) is missing or changed since the snapshot was "
                    "made (SHA-256 differs); use an intact copy."
                )
    return manifest


def open_snapshot(path: str | Path) -> duckdb.DuckDBPyConnection:
    """An in-memory database holding the snapshot's tables, with bzmine's views: every command works on it, and
    nothing it does can change the snapshot."""
    from bzmine.store.db import apply_views, migrate

    folder = Path(path)
    manifest = read_manifest(folder)
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    migrate(con)  # this bzmine's tables, with their keys; the snapshot's rows go into them by column name
    known = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
        ).fetchall()
    }
    for name, e in manifest["tables"].items():
        if name not in known or name == "schema_migrations":
            continue  # names come from the catalog of this bzmine, never from the manifest's text
        con.execute(f'DELETE FROM "{name}"')
        con.execute(f'INSERT INTO "{name}" BY NAME SELECT * FROM read_parquet(?)', [str(folder / e["file"])])
    apply_views(con, force=True)
    return con


def citation(manifest: dict[str, Any]) -> str:
    """How to cite a snapshot: a sentence and a BibTeX entry."""
    sid = manifest["snapshot_id"]
    as_of = manifest.get("as_of") or manifest.get("synced_at") or "unknown"
    year = str(as_of)[:4]
    server = manifest.get("server") or "Bugzilla"
    text = (
        f"Mozilla Bugzilla CA compliance incidents, bzmine snapshot {sid[:12]} (SHA-256 {sid}), "
        f"{manifest.get('bugs', 0)} bugs harvested from {server} at {manifest.get('synced_at')}, figures as of {as_of}; "
        f"bzmine {manifest.get('bzmine_version')}, parser {manifest.get('parser_version')}, "
        f"schema {manifest.get('schema_version')}."
    )
    bib = (
        f"@misc{{bzmine_{sid[:12]},\n  title = {{Mozilla Bugzilla CA compliance incidents (bzmine snapshot {sid[:12]})}},\n"
        f"  year = {{{year}}},\n  note = {{{manifest.get('bugs', 0)} bugs from {server}, as of {as_of}; "
        f"bzmine {manifest.get('bzmine_version')}, parser {manifest.get('parser_version')}; SHA-256 {sid}}}\n}}"
    )
    return text + "\n\n" + bib
