"""Transactions: the one way bzmine writes several statements as one (every writer in store/ and above)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import duckdb


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back if a transaction is still open: after a failed COMMIT (disk full) there is none, and the
    error to report is the COMMIT's, not "no transaction is active"."""
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN ... COMMIT, rolled back on any error (Ctrl-C included); the one way bzmine writes several statements
    as one."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise
