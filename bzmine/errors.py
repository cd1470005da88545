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
    """Bugzilla blocked this address; the run stopped and can be resumed later."""


class SchemaError(BzmineError):
    """The database file is missing, locked, corrupted or from a newer bzmine."""


class ParseError(BzmineError):
    """Text could not be parsed (parsers return failures; this is for CLI input)."""
