"""Errors bzmine reports to users. Each message says what went wrong and what to do next."""


class BzmineError(Exception):
    """Base class: the CLI turns these into a one-line message and a non-zero exit."""


class ConfigError(BzmineError):
    """Bad settings or arguments."""


class CorpusError(BzmineError):
    """A corpus file (for the local server or synth) has a broken shape."""


class FetchError(BzmineError):
    """Bugzilla could not be read (after retries)."""


class RateLimitedError(FetchError):
    """Bugzilla rate-limited this address; the run stopped and can be resumed later."""


class BlockedError(RateLimitedError):
    """Bugzilla blocked this address (HTTP 429 for every request, renewed by each one): stop at once."""


class SchemaError(BzmineError):
    """The database file is missing, locked, corrupted or from a newer bzmine."""


class ParseError(BzmineError):
    """Text could not be parsed (parsers return failures; this is for CLI input)."""


_DISK_WORDS = (
    "no space",
    "disk full",
    "enospc",
    "permission denied",
    "read-only file system",
    "could not write",
    "could not allocate",
    "out of disk",
    "no such file or directory",
)


class InternalError(BzmineError):
    """An error that is a defect in bzmine, not in the user's input or environment."""


def write_error(db: str, exc: Exception) -> BzmineError:
    """A database error while writing: out of space or permission gets the disk message (nothing is half-written);
    anything else is reported as itself, as a bzmine bug."""
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if any(w in str(exc).lower() for w in _DISK_WORDS):
        return SchemaError(
            f"could not write to {db} ({first}). Free disk space or fix the file's permissions, then run "
            "the command again: every batch written so far is whole, and the run resumes from there."
        )
    return InternalError(
        f"database error in {db} ({type(exc).__name__}: {first}). This is a bzmine bug: please report "
        "it; every batch written so far is whole, and the next run resumes from there."
    )


# Set by the CLI's signal handlers: DuckDB turns a Ctrl-C or SIGTERM that lands while it runs a query into its own
# error ("Query interrupted", or "transaction is aborted" on the next statement), losing the signal's exception.
SIGNALLED = {"received": False}


def was_interrupted(exc: BaseException) -> bool:
    """An error that only follows from a Ctrl-C or SIGTERM (raised while DuckDB ran a query or called back into
    Python), not a defect."""
    text = str(exc)
    return (
        SIGNALLED["received"]
        or isinstance(exc, KeyboardInterrupt)
        or "KeyboardInterrupt" in text
        or "_Terminated" in text
        or "Query interrupted" in text
    )
