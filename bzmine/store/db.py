"""Open the database, apply migrations (append-only files) and re-create views."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from importlib import resources
from pathlib import Path

import duckdb

from bzmine.config import env_number
from bzmine.errors import SchemaError
from bzmine.store.config import BUILTIN_FILES, builtin_text, load_builtin
from bzmine.store.tx import transaction

log = logging.getLogger(__name__)


def sql_files(folder: str) -> list[tuple[str, str]]:
    """bzmine's own SQL files of one folder (`migrations` or `views`) as (file name, text), in the order they apply:
    the view registry other layers read (metrics' layer closure, the data dictionary)."""
    root = resources.files("bzmine.store").joinpath(folder)
    files = sorted((p.name, p.read_text(encoding="utf-8")) for p in root.iterdir() if p.name.endswith(".sql"))
    return files


def view_name(statement: str) -> str | None:
    """The view a `CREATE [OR REPLACE] VIEW name` statement creates (None for any other statement)."""
    m = _VIEW_NAME.search(statement)
    return m[1] if m else None


def open_database(path: str | Path, read_only: bool, wait: float = 0.0) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file as it is (no migration, no views, no writes): the only opening the read path uses.

    wait: seconds to keep trying while another process holds the file (readers during a sync)."""
    p = str(path)
    if p != ":memory:":
        if read_only and not Path(p).exists():
            raise SchemaError(f"{p}: no such database. Run `bzmine sync` (or pass --db) first.")
        if not read_only:
            Path(p).parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait
    while True:
        try:
            con = _open(p, read_only)
            break
        except SchemaError as exc:
            # a sync writes in short bursts and lets go of the file while it waits on the network: wait for it
            if "in use" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.1)
    con.execute("SET TimeZone = 'UTC'")
    if read_only:
        # A reader writes only its TEMP tables (metrics.snapshot), which die with the connection. DuckDB's automatic
        # checkpoint (after 16 MB of writes) would compress them all in the main thread, once, in the middle of a
        # command (0.2 s of `scorecard` at 100,000 bugs), for nothing.
        con.execute("SET checkpoint_threshold = '1TB'")
    try:
        con.execute("SET enable_progress_bar = false")
    except duckdb.Error:
        pass  # inside Jupyter DuckDB refuses to touch the setting without ipywidgets; harmless
    return con


def connect(
    path: str | Path, read_only: bool = False, wait: float = 0.0, check: bool = True
) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) a bzmine database for writing: migrations, built-in tables and views brought up to
    this bzmine. read_only=True opens an existing file as it is (check: refuse an older schema)."""
    con = open_database(path, read_only, wait)
    if not read_only:
        migrate(con)
        load_builtin(con)
        apply_views(con)
    elif check:
        try:
            check_schema(con, str(path))
        except BaseException:
            con.close()
            raise
    return con


class Writer:
    """The write connection of a long job that can let go of the file while it waits (a sync waiting on the
    network), so reading commands can open it in between: DuckDB lets one process hold a file, readers included.

    The job keeps an flock on the file for its whole life, so a second sync or parse fails at once instead of
    slipping in while the file is let go. `con` reopens on demand (waiting while a reader holds the file). A
    connection given by the caller (tests, notebooks) is used as it is and never let go.
    """

    WAIT_S = 600.0  # how long a reopen waits for readers to finish

    def __init__(self, target: str | Path | duckdb.DuckDBPyConnection) -> None:
        self._fd: int | None = None
        if isinstance(target, duckdb.DuckDBPyConnection):
            self.path: str | None = None
            self._con: duckdb.DuckDBPyConnection | None = target
            return
        self.path = str(target)
        self._con = connect(self.path)
        if self.path == ":memory:":
            return
        import fcntl

        # flock and DuckDB's own fcntl lock are independent on Linux; this fd is closed only after DuckDB's
        # connection (closing any fd of a file drops the process's fcntl locks on it)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._con.close()
            os.close(fd)
            raise SchemaError(
                f"{self.path} is being written by another `bzmine sync` or `bzmine parse`; wait for it "
                "to finish, then run the command again."
            ) from None
        self._fd = fd

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            assert self.path is not None
            self._con = connect(self.path, wait=self.WAIT_S)  # a reader may have the file for a moment
        return self._con

    def release(self) -> None:
        """Let go of the file until the next write (a no-op for a caller's connection or an in-memory database)."""
        if self._fd is not None and self._con is not None:
            self._con.close()
            self._con = None

    def close(self) -> None:
        if self._con is not None and self.path is not None:
            self._con.close()
            self._con = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _open(p: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        try:
            return duckdb.connect(p, read_only=read_only)
        except duckdb.ConnectionException as exc:
            if "different configuration" not in str(exc):
                raise
            # this process already holds the file read-write (a notebook, a test): share that instance
            return duckdb.connect(p)
    except duckdb.IOException as exc:
        msg = str(exc)
        # first: DuckDB's lock message also mentions "read-only mode" (as a way around it)
        if "could not set lock" in msg.lower() or "conflicting lock" in msg.lower():
            raise SchemaError(
                f"{p} is in use by another process (a running `bzmine sync` or `parse`?). Wait for it "
                "to finish, or work on a copy of the file."
            ) from None
        if "permission denied" in msg.lower() or "read-only" in msg.lower():
            raise SchemaError(
                f"{p} is not writable ({msg.splitlines()[0]}): fix its permissions, or use --db "
                "to work on a copy. Nothing was changed."
            ) from None
        if "lock" in msg.lower():
            raise SchemaError(
                f"{p} is in use by another process (a running `bzmine sync` or `parse`?). Wait for it "
                "to finish, or work on a copy of the file."
            ) from None
        raise SchemaError(
            f"{p}: cannot open the database ({msg.splitlines()[0]}). If the file is corrupted, "
            "move it aside and rebuild it with `bzmine sync --full`."
        ) from None
    except duckdb.Error as exc:
        raise SchemaError(
            f"{p}: not a usable bzmine database ({str(exc).splitlines()[0]}). Move it aside and "
            "rebuild it with `bzmine sync --full`."
        ) from None


# rows about bugs that are private or no longer visible (the view hidden_bugs, one definition for every reader):
# left out of anything meant to be shared (export, snapshot, report, CLI tables, notebooks) unless asked for
PRIVATE_ROWS = "bug_id IN (SELECT bug_id FROM hidden_bugs)"


def base_tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Every table of the database (no views) with its columns, in name and column order (export, snapshot)."""
    out: dict[str, list[str]] = {}
    for table, column in con.execute(
        "SELECT c.table_name, c.column_name FROM information_schema.columns c "
        "JOIN information_schema.tables t ON t.table_name = c.table_name AND t.table_schema = c.table_schema "
        "WHERE t.table_type = 'BASE TABLE' AND t.table_schema = 'main' ORDER BY c.table_name, c.ordinal_position"
    ).fetchall():
        out.setdefault(table, []).append(column)
    return out


def _current(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the file's schema, views and built-in tables match this bzmine (nothing to refresh)."""
    try:
        have = con.execute("SELECT max(version) FROM schema_migrations").fetchone()
        views = _state(con, "views")
        accounts = _state(con, "accounts")
    except duckdb.CatalogException:  # a table of a later schema (a damaged file is reported as such)
        return False
    want = max(int(n.split("_", 1)[0]) for n, _ in sql_files("migrations"))
    files = sql_files("views")
    digest = _fingerprint([f"{n}\n{s}" for n, s in files])
    builtin = hashlib.sha256("\0".join(builtin_text(n) for n in BUILTIN_FILES).encode()).hexdigest()
    return bool(have and have[0] == want and views == digest and accounts == builtin)


def schema_outdated(con: duckdb.DuckDBPyConnection) -> str | None:
    """Why the file's schema, views or built-in tables are not this bzmine's (None: they are); the parsed layer's
    currency is bzmine.database's question (store knows no parser)."""
    try:
        have = con.execute("SELECT max(version) FROM schema_migrations").fetchone()
    except duckdb.CatalogException:  # a damaged file raises otherwise, and is reported as damaged
        return "is not a bzmine database (no schema_migrations table)"
    want = max(int(n.split("_", 1)[0]) for n, _ in sql_files("migrations"))
    if have is None or have[0] is None or have[0] < want:
        return f"was written by an older bzmine (schema {have[0] if have else None}; this one writes {want})"
    if have[0] > want:
        return f"was written by a newer bzmine (schema {have[0]}; this one knows {want}): upgrade bzmine"
    if not _current(con):
        return "has views or built-in tables from another bzmine version"
    return None


def read_wait() -> float:
    """How long (seconds) a reader waits for a sync's write burst, or a parse, to let go of the file:
    $BZMINE_READ_WAIT, default 30."""
    return env_number("BZMINE_READ_WAIT", 30.0, 0.0, 86400.0)


def migrate(con: duckdb.DuckDBPyConnection, upto: int | None = None) -> list[str]:
    """Apply pending migrations (those numbered up to `upto`, default all), each in one transaction together with
    its record."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)"
    )
    done = {r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()}
    files = sql_files("migrations")
    known = {int(name.split("_", 1)[0]) for name, _ in files}
    if done - known:
        raise SchemaError(
            f"the database has migrations {sorted(done - known)} this bzmine does not know: upgrade bzmine."
        )
    applied = []
    for name, sql in files:
        version = int(name.split("_", 1)[0])
        if version in done or (upto is not None and version > upto):
            continue
        with transaction(con):
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, now())", [version, name])
        applied.append(name)
        log.info("applied migration %s", name)
    return applied


def check_schema(con: duckdb.DuckDBPyConnection, path: str) -> None:
    try:
        have = con.execute("SELECT max(version) FROM schema_migrations").fetchone()
    except duckdb.CatalogException:
        raise SchemaError(f"{path} is not a bzmine database (no schema_migrations table).") from None
    want = max(int(n.split("_", 1)[0]) for n, _ in sql_files("migrations"))
    if have is None or have[0] is None or have[0] < want:
        raise SchemaError(f"{path} has an older schema; run `bzmine upgrade --db {path}` once.")


def _fingerprint(texts: list[str]) -> str:
    return hashlib.sha256("\0".join(texts).encode()).hexdigest()


def _state(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    rows = con.execute("SELECT value FROM schema_state WHERE key = ?", [key]).fetchall()
    return rows[0][0] if rows else None


def apply_views(con: duckdb.DuckDBPyConnection, force: bool = False) -> bool:
    """Re-create every view when their SQL changed (they hold no data, so they change freely).

    DuckDB binds a view's whole dependency tree when it is created, so a view over five views over ten costs the sum
    of every subtree (about 3 s for the metric layers). Each view is therefore followed by an empty temporary table
    of its name and shape: later views bind against those flat stand-ins (temp comes first in the search path), and
    once the stand-ins are dropped the stored view text resolves to the real views, as at every later query.
    """
    files = sql_files("views")
    digest = _fingerprint([f"{n}\n{s}" for n, s in files])
    if not force and _state(con, "views") == digest:
        return False
    taken = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()}
    stand_ins: list[str] = []
    try:
        for name, sql in files:
            try:
                for stmt in con.extract_statements(sql):
                    con.execute(stmt.query)
                    view = view_name(stmt.query)
                    if view and view not in taken:
                        # names come from bzmine's own view files, never from data
                        con.execute(
                            f"CREATE OR REPLACE TEMP TABLE {view} AS SELECT * FROM main.{view} LIMIT 0"
                        )
                        stand_ins.append(view)
            except duckdb.Error as exc:
                raise SchemaError(f"view file {name} failed: {exc}") from exc
    finally:
        for stand_in in stand_ins:
            con.execute(f"DROP TABLE IF EXISTS temp.{stand_in}")
    con.execute("INSERT OR REPLACE INTO schema_state VALUES ('views', ?)", [digest])
    return True


_VIEW_NAME = re.compile(r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+(\w+)\s", re.IGNORECASE | re.MULTILINE)
