"""bzmine: Mozilla Bugzilla CA compliance bugs as a queryable incident database.

Importing bzmine does no I/O. The notebook API lives in :mod:`bzmine.metrics`.
"""

from bzmine.version import __version__


def connect(path: str = "data/bzmine.duckdb", read_only: bool = True):  # type: ignore[no-untyped-def]
    """Open a bzmine database or snapshot directory for analysis (read-only by default; read_only=False opens a
    database file for writing, brought up to this bzmine; a snapshot always opens read-only, in memory)."""
    from bzmine.database import open_for_reading, open_for_writing
    from bzmine.snapshot import is_snapshot

    # a snapshot is read-only whatever is asked: it opens in memory, and nothing done there reaches its files
    return open_for_reading(path) if read_only or is_snapshot(path) else open_for_writing(path)


__all__ = ["__version__", "connect"]
