"""`bzmine sql`: one read-only query, never a write, a file outside the database, an extension or the network.

The statement type is checked (SELECT, WITH ... SELECT, DESCRIBE, SUMMARIZE, SHOW, plain EXPLAIN), the database
is opened read-only, and the connection has external access and extension auto-loading turned off before the
query runs (read_csv('/etc/passwd'), COPY ... TO, INSTALL httpfs all fail).
"""

from __future__ import annotations

import re
from typing import Any

import duckdb
import pandas as pd

from bzmine import metrics
from bzmine.database import open_for_reading
from bzmine.errors import ConfigError

ALLOWED = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
# EXPLAIN ANALYZE, EXPLAIN/**/ANALYZE, EXPLAIN (ANALYZE), EXPLAIN (FORMAT json, ANALYSE) ... (comments read as space)
_ANALYZE = re.compile(r"^\s*explain\s*(?:\([^)]*\banaly[sz]e\b|analy[sz]e\b)", re.I)


def check_query(query: str) -> None:
    """Refuse anything but one plain read statement, with a message saying what is allowed."""
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise ConfigError(f"not valid SQL: {str(exc).splitlines()[0]}") from None
    if len(statements) != 1:
        raise ConfigError("bzmine sql runs exactly one statement")
    if statements[0].type not in ALLOWED:
        raise ConfigError(
            f"bzmine sql is read-only: {statements[0].type.name} statements are refused (use SELECT)"
        )
    if statements[0].type == duckdb.StatementType.EXPLAIN and _ANALYZE.match(_COMMENT.sub(" ", query)):
        raise ConfigError("bzmine sql refuses EXPLAIN ANALYZE (it runs the statement); use plain EXPLAIN")


def lock_down(con: duckdb.DuckDBPyConnection) -> None:
    """No files, no network, no extensions for the rest of this connection's life."""
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def run_select(db: str, query: str, as_of: Any = None, group: str = "owner") -> pd.DataFrame:
    """Run one read query; refuse anything else with a clear message."""
    check_query(query)
    con = open_for_reading(db)
    try:
        lowered = query.lower()
        used = tuple(name for name in metrics.LAYERS if name in lowered)
        if "due" in lowered:
            used += ("response_events", "duties", "metric_current_items", "bug_metrics")
        metrics.snapshot(con, as_of, need=used or ("metric_bugs",), group=group)
        lock_down(con)
        return con.execute(query).df()
    except duckdb.Error as exc:
        if any(w in str(exc) for w in ("checksum", "invalidated", "Could not read enough bytes")):
            raise  # a damaged file, not a bad query: the CLI boundary says so
        raise ConfigError(f"query failed: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()
