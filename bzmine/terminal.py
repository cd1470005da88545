"""The one sanitiser for what bzmine prints: bug text, server messages and file contents reach the terminal only
without control characters (ESC and so OSC/CSI sequences, BEL, 8-bit CSI and the other C0/C1 codes) and without
bidirectional overrides (U+202E and its kin, which make text read differently from what it is).

The CLI's boundary applies it to every line: stdout (except the csv/json machine formats, which keep the data as
Bugzilla gave it), stderr, log records and warnings (matplotlib's "Glyph 27 missing" quotes the character).
"""

from __future__ import annotations

import io
import logging
import re
import warnings
from typing import Any, TextIO

# C0 but tab and newline, DEL, C1 (8-bit CSI is \x9b), and the bidi controls: embeddings, overrides, isolates, marks
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
_UNSAFE_KEEP_CR = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}]")


def sanitize(text: str, keep_cr: bool = False) -> str:
    """text with every unsafe character replaced by '?' (one for one, so table columns stay aligned)."""
    return (_UNSAFE_KEEP_CR if keep_cr else UNSAFE).sub("?", text)


class SanitizingStream(io.TextIOBase):
    """A text stream that sanitises what is written to the stream it wraps. keep_cr: let carriage returns through
    (stderr, where the progress bar redraws itself; bzmine's own messages are sanitised strictly before that)."""

    def __init__(self, inner: TextIO, keep_cr: bool = False) -> None:
        self._inner = inner
        self._keep_cr = keep_cr

    def write(self, s: Any) -> int:
        if isinstance(s, str):
            self._inner.write(sanitize(s, self._keep_cr))
            return len(s)
        return self._inner.write(s)  # bytes (click probes with b""): passed on as they are

    def flush(self) -> None:
        self._inner.flush()

    def isatty(self) -> bool:
        return self._inner.isatty()

    def fileno(self) -> int:
        return self._inner.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._inner, "encoding", "utf-8")

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self._inner, "errors", "strict")

    def __getattr__(self, name: str) -> Any:
        if name == "buffer":  # no way around the sanitiser (click writes bytes to a stream's buffer)
            raise AttributeError(name)
        return getattr(self._inner, name)


class SanitizingFilter(logging.Filter):
    """On a handler: each record's message is formatted and sanitised before the handler writes it (a server
    message quoted in a warning, a file name, ...)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: logging reports it when it formats it, not here
            return True
        record.msg = sanitize(message)
        record.args = None
        return True


def guard_logging() -> None:
    """Add the filter to every handler of the root logger (once)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, SanitizingFilter) for f in handler.filters):
            handler.addFilter(SanitizingFilter())


def show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """warnings.showwarning for the CLI: one sanitised line, without the source line."""
    import sys

    out = file or sys.stderr
    try:
        out.write(f"warning: {sanitize(str(message))} ({category.__name__})\n")
    except OSError:
        pass


def install_warning_hook() -> Any:
    """Route warnings through show_warning; returns the previous hook to restore."""
    previous = warnings.showwarning
    warnings.showwarning = show_warning
    return previous
