"""`bzmine sql`: one read-only SELECT, never a write (statement type checked, database opened read-only)."""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from bzmine import metrics
from bzmine.errors import ConfigError
from bzmine.store.db import connect

ALLOWED = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}


def run_select(db: str, query: str, as_of: Any = None) -> pd.DataFrame:
    """Run one SELECT; refuse anything else with a clear message."""
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as exc:
        raise ConfigError(f"not valid SQL: {str(exc).splitlines()[0]}") from None
    if len(statements) != 1:
        raise ConfigError("bzmine sql runs exactly one statement")
    if statements[0].type not in ALLOWED:
        raise ConfigError(f"bzmine sql is read-only: {statements[0].type.name} statements are refused (use SELECT)")
    # views are refreshed by a read-write open first, then the query runs on a read-only connection
    connect(db).close()
    con = connect(db, read_only=True)
    try:
        lowered = query.lower()
        used = tuple(name for name in metrics.LAYERS if name in lowered)
        if used:
            metrics.snapshot(con, as_of, need=used)
        return con.execute(query).df()
    except duckdb.Error as exc:
        raise ConfigError(f"query failed: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()
