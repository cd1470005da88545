"""bzmine: Mozilla Bugzilla CA compliance bugs as a queryable incident database.

Importing bzmine does no I/O. The notebook API lives in :mod:`bzmine.metrics`.
"""

__version__ = "0.1.0"


def connect(path: str = "data/bzmine.duckdb", read_only: bool = True):  # type: ignore[no-untyped-def]
    """Open a bzmine database for analysis (read-only by default, views applied)."""
    from bzmine.store.db import connect as _connect

    return _connect(path, read_only=read_only)


__all__ = ["__version__", "connect"]
