"""bzmine: Mozilla Bugzilla CA compliance bugs as a queryable incident database.

Importing bzmine does no I/O. The notebook API lives in :mod:`bzmine.metrics`.
"""

__version__ = "0.1.0"


def connect(path: str = "data/bzmine.duckdb", read_only: bool = True):  # type: ignore[no-untyped-def]
    """Open a bzmine database or snapshot directory for analysis (read-only by default, views applied)."""
    from bzmine.snapshot import is_snapshot, open_snapshot
    from bzmine.store.db import connect as _connect
    from bzmine.store.db import open_for_reading

    if is_snapshot(path):
        return open_snapshot(path)
    return open_for_reading(path) if read_only else _connect(path)


__all__ = ["__version__", "connect"]
