"""What a `--db` path is and how each kind of command may open it: the one door above the storage floor.

A path is a database file or a snapshot folder. Readers (every command but sync, parse, upgrade and config) open it
with `open_for_reading`, which reaches no migration, view, built-in-table or parse code: a file whose schema, views,
built-in tables or parsed tables are not this bzmine's is refused with the command that fixes it. Writers open it
with `open_for_writing` (migrations, built-in tables and views brought up to date) and `upgrade` re-parses when the
parser changed. Used by the CLI, the notebooks (`bzmine.connect`) and the research helpers.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from bzmine.errors import SchemaError
from bzmine.parse import parser_stamp
from bzmine.snapshot import is_snapshot, open_snapshot
from bzmine.store.db import Writer, connect, open_database, read_wait, schema_outdated


def require_db(path: str | Path) -> None:
    """Only sync and parse create a database: every other command needs an existing one."""
    p = str(path)
    if p != ":memory:" and not Path(p).is_file() and not is_snapshot(p):
        raise SchemaError(f"no database at {p}; run `bzmine sync` first (or pass --db / set $BZMINE_DB)")


def open_for_reading(path: str | Path, check: bool = True) -> duckdb.DuckDBPyConnection:
    """Open an existing database or snapshot read-only: nothing a reader does can change the file.

    Readers never wait for a running sync (beyond its write bursts) and never upgrade: a file whose schema, views,
    built-in tables or parsed tables are not this bzmine's is refused with the command to run (`bzmine upgrade`,
    `sync` or `parse`, the only writers). check=False opens it as it is (`bzmine status` says what it needs).
    """
    require_db(path)
    if is_snapshot(path):
        return open_snapshot(path)
    con = open_database(path, read_only=True, wait=read_wait())
    if check:
        try:
            need = upgrade_needed(con)
        except BaseException:
            con.close()
            raise
        if need:
            con.close()
            raise SchemaError(upgrade_message(str(path), need))
    return con


def open_for_writing(path: str | Path) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) a database for a writer: migrations, built-in tables and views applied."""
    return connect(path)


def upgrade_needed(con: duckdb.DuckDBPyConnection) -> str | None:
    """Why a reader cannot use this database as it is (None: it can): what only a writer may fix."""
    need = schema_outdated(con)
    if need or not parse_stale(con):
        return need
    row = con.execute("SELECT value FROM parse_state WHERE key = 'parser_version'").fetchone()
    if row is None:
        return "holds bugs not parsed yet (a first sync interrupted, or run with --no-parse)"
    return "was parsed by another parser version"


def upgrade_message(path: str, need: str) -> str:
    """One line: what is wrong with the file for a reader, and the command that fixes it (readers never write)."""
    if "not parsed yet" in need:
        return f"{path} {need}: run `bzmine parse --db {path}` (or finish the sync); reading commands never write"
    if "not a bzmine database" in need or "newer bzmine" in need:
        return f"{path} {need}."
    return f"{path} {need}: run `bzmine upgrade --db {path}` once (reading commands never write)"


def upgrade(path: str | Path) -> list[str]:
    """Bring a database up to this bzmine: migrations, views, built-in tables (a read-write open does them) and a
    re-parse when the parsed tables are another parser's or missing. The explicit writer behind `bzmine upgrade`."""
    require_db(path)
    probe = open_database(path, read_only=True, wait=read_wait())
    try:
        need = upgrade_needed(probe)
    finally:
        probe.close()
    if need is None:
        return [f"{path} is up to date for this bzmine: nothing to do"]
    if "not a bzmine database" in need or "newer bzmine" in need:
        raise SchemaError(upgrade_message(str(path), need))
    done = [f"{path} {need}: upgraded"]
    w = Writer(path)  # migrations, views, built-in tables; the write lock refuses a running sync or parse
    try:
        if parse_stale(w.con):
            from bzmine.parsing import (
                reparse,  # the worker pool and tqdm: only when there is something to parse
            )

            done.append(reparse(w.con, quiet=True).summary())
    finally:
        w.close()
    return done


def parse_stale(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the parsed tables were written by another parser version (and there is something to parse)."""
    try:
        row = con.execute("SELECT value FROM parse_state WHERE key = 'parser_version'").fetchone()
        has_bugs = con.execute("SELECT count(*) > 0 FROM raw_bugs").fetchone()
    except duckdb.CatalogException:
        return False
    return bool(has_bugs and has_bugs[0]) and (row is None or row[0] != parser_stamp())
