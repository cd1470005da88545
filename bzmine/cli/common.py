"""What every command shares: the one error boundary (one line and exit 1 for a known error, 130/143 on Ctrl-C or
SIGTERM, output sanitised), the shared options (--db, the metric options) and how a table, CSV or JSON is printed."""

from __future__ import annotations

import functools
import logging
import os
import re
import signal
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from bzmine.errors import SIGNALLED, BzmineError, was_interrupted

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_DB = "data/bzmine.duckdb"


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that cleanup (transactions, run records) happens as for Ctrl-C."""


_SIGTERM = {"received": False}


def _on_sigterm(*_: Any) -> None:
    _SIGTERM["received"] = SIGNALLED["received"] = True
    raise _Terminated()


def _on_sigint(*_: Any) -> None:
    SIGNALLED["received"] = True
    raise KeyboardInterrupt()


def _stopped(code: int) -> None:
    click.echo(
        f"{'terminated' if code == 143 else 'interrupted'}: work committed so far is kept; "
        "run the same command again to finish it",
        err=True,
    )
    sys.exit(code)


NOTES: list[str] = []  # notes about the answer (what it left out), printed by the boundary after the answer


def boundary(fn: F) -> F:
    """The one error boundary: a known error is one line and exit 1; Ctrl-C exits 130 and SIGTERM 143 with one
    line; anything else is a bzmine bug, said so in one line (the traceback with -v).

    Also the one place output is sanitised (bzmine/terminal.py): stdout (but csv/json, which keep the data as
    Bugzilla gave it), stderr, log records and warnings lose control characters and bidi overrides."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import warnings

        from bzmine.terminal import SanitizingStream, guard_logging, install_warning_hook

        _SIGTERM["received"] = SIGNALLED["received"] = False
        out, err = sys.stdout, sys.stderr
        if kwargs.get("fmt") not in ("csv", "json") and fn.__name__ != "parse_report":
            sys.stdout = SanitizingStream(out)
        sys.stderr = SanitizingStream(err, keep_cr=True)  # the progress bar redraws with \r
        guard_logging()
        show = install_warning_hook()
        try:
            previous = signal.signal(signal.SIGTERM, _on_sigterm)
            previous_int = signal.signal(signal.SIGINT, _on_sigint)
        except ValueError:  # not the main thread (tests, notebooks): keep the default handlers
            previous = previous_int = None
        NOTES.clear()
        try:
            result = fn(*args, **kwargs)
            for note in NOTES:  # said once the answer stands: an error stays one line
                click.echo(note, err=True)
            return result
        except KeyboardInterrupt as exc:
            _stopped(143 if isinstance(exc, _Terminated) or _SIGTERM["received"] else 130)
        except click.exceptions.Exit:
            raise
        except click.ClickException as exc:  # usage errors raised by a command: click's own, one clean line
            exc.message = _one_line(exc.message)  # type: ignore[misc]  # Final in the stubs; a plain attribute
            raise
        except BrokenPipeError:  # `bzmine due | head`: the reader has what it wanted
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(0)
        except Exception as exc:
            if was_interrupted(exc):  # a Ctrl-C or SIGTERM that DuckDB turned into its own error
                _stopped(143 if _SIGTERM["received"] else 130)
            raise _one_error(exc) from None
        finally:
            sys.stdout, sys.stderr = out, err
            warnings.showwarning = show
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
            if previous_int is not None:
                signal.signal(signal.SIGINT, previous_int)

    return wrapper  # type: ignore[return-value]


def _one_error(exc: Exception) -> click.ClickException:
    """Any error as one line: bzmine's own as they are, a file problem with its path, a damaged database with what to
    do, anything else as a bzmine bug (the traceback with -v)."""
    if isinstance(exc, BzmineError):
        return click.ClickException(_one_line(str(exc)))
    if isinstance(exc, OSError):
        return click.ClickException(_one_line(f"{exc.strerror or exc} ({exc.filename or 'no file'})"))
    if _corrupt(exc):
        return click.ClickException(
            _one_line(
                f"the database file is corrupted ({str(exc).splitlines()[0]}). Move it aside and rebuild it with "
                "`bzmine sync --full`, or restore a copy or a snapshot (bzmine open-snapshot)"
            )
        )
    if logging.getLogger().isEnabledFor(logging.INFO):
        logging.getLogger("bzmine").exception("unexpected error")
    return click.ClickException(
        _one_line(
            f"unexpected {type(exc).__name__}: {exc}. This is a bzmine bug: please report it with the command "
            "you ran (rerun with -v for the traceback)"
        )
    )


def _corrupt(exc: BaseException) -> bool:
    """A DuckDB error that says the file itself is damaged (a bad block found while reading), not a defect."""
    text = str(exc).lower()
    return type(exc).__module__.startswith(("duckdb", "_duckdb")) and any(
        w in text
        for w in (
            "corrupt database file",
            "does not match stored checksum",
            "database has been invalidated",
            "could not read enough bytes",  # a truncated file
        )
    )


def _one_line(text: str) -> str:
    """One line, no control characters or bidi overrides (server or bug text may be inside), and never the API
    key. Never fails: it runs while an error is reported (an unreadable key file is reported by what read it)."""

    from bzmine.config import api_key_from_env
    from bzmine.terminal import sanitize

    try:
        key = api_key_from_env()
    except BzmineError:
        key = os.environ.get("BUGZILLA_API_KEY", "").strip() or None
    if key:
        text = text.replace(key, "REDACTED")
    return sanitize(re.sub(r"[\r\n\t]+", " ", text)).strip()


class Finite(click.FloatRange):
    """A float range that also refuses nan (click's ranges let it through: nan compares false to both ends)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        rv = super().convert(value, param, ctx)
        if rv != rv:
            self.fail(f"{value!r} is not a number.", param, ctx)
        return rv


def db_option(fn: F) -> F:
    return click.option(
        "--db",
        "db",
        default=lambda: os.environ.get("BZMINE_DB", DEFAULT_DB),
        show_default=f"$BZMINE_DB or {DEFAULT_DB}",
        type=click.Path(),
        help="DuckDB database file (reading commands also take a snapshot directory).",
    )(fn)


def include_private_option(fn: F) -> F:
    return click.option(
        "--include-private",
        "include_private",
        is_flag=True,
        help="Also count bugs that are private (seen with an API key) or no longer visible; they are marked "
        "([private], [no longer visible], a private_bugs column). Default: left out, as in anything shared.",
    )(fn)


def output_options(fn: F) -> F:
    """--db, --as-of, --ca (repeatable), --group, --exclude-resolution, --only-ca, --include-private, --format: the
    metric commands'."""
    fn = include_private_option(fn)
    fn = click.option(
        "--only-ca",
        is_flag=True,
        help="Leave out bugs that are not about a CA (auditors, the program, meta, none named) everywhere.",
    )(fn)
    fn = click.option(
        "--exclude-resolution",
        "exclude_resolution",
        default=None,
        metavar="LIST",
        help="Leave bugs with these resolutions (at --as-of) out of every figure, e.g. INVALID,DUPLICATE. "
        "Default: none, as in the notebooks and paper tables.",
    )(fn)
    fn = click.option(
        "--format",
        "fmt",
        type=click.Choice(["table", "csv", "json"]),
        default="table",
        show_default=True,
        help="Output format.",
    )(fn)
    fn = click.option(
        "--group",
        type=click.Choice(["owner", "filed"]),
        default="owner",
        show_default=True,
        help="What a CA is: its CCADB owner today (Comodo and QuoVadis bugs count for their owners), "
        "or the name as filed.",
    )(fn)
    fn = click.option(
        "--ca",
        "cas",
        multiple=True,
        help="Only this CA (repeatable): any spelling, the owner or a filed name, case-insensitive.",
    )(fn)
    fn = click.option(
        "--as-of",
        "as_of",
        help="Compute as of this UTC date or time (default: now; a snapshot's own as_of). A date means 00:00 UTC.",
    )(fn)
    return db_option(fn)


def clean_table(df: Any) -> Any:
    """Bug-derived text without control characters (terminal escapes), for terminal tables only; a DataFrame or
    bzmine.metrics.Rows."""
    bad = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
    if not hasattr(df, "iloc"):  # Rows: plain Python values
        from bzmine.metrics import Rows

        return Rows(
            [bad.sub("?", str(c)) for c in df.columns],
            # a printable string has none of those characters (str.isprintable: a scan in C, no regex)
            [
                tuple(bad.sub("?", v) if isinstance(v, str) and not v.isprintable() else v for v in r)
                for r in df.rows
            ],
        )
    import pandas as pd

    out = df.copy()
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]) and not pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].map(lambda v: bad.sub("?", v) if isinstance(v, str) else v)
    out.columns = [bad.sub("?", str(c)) for c in out.columns]
    return out


def emit(df: Any, fmt: str, floatfmt: str = "{:.1f}", empty: str = "(nothing)") -> None:
    """csv and json carry every value in full; a table fits the terminal (COLUMNS): bzmine/table.py. df: a
    DataFrame, or bzmine.metrics.Rows for a table (no pandas needed)."""
    if fmt == "csv":
        click.echo(df.to_csv(index=False), nl=False)
    elif fmt == "json":
        click.echo(df.to_json(orient="records", date_format="iso", indent=1))
    elif df.empty:
        click.echo(empty)
    else:
        from bzmine.table import render

        click.echo(render(clean_table(df), floatfmt=floatfmt))


def metrics_con(db: str, as_of: str | None = None) -> Any:
    """Open an existing database for reading (never creates one); warn about an as_of in the future; apply the
    exclusions given on the command line (--exclude-resolution, --only-ca)."""
    from bzmine.database import open_for_reading

    ctx = click.get_current_context(silent=True)
    params = ctx.params if ctx else {}

    if as_of:
        from datetime import datetime, timezone

        from bzmine.timeutil import to_timestamp

        at = to_timestamp(as_of)
        if at and at > datetime.now(timezone.utc).replace(tzinfo=None):
            click.echo(
                f"warning: --as-of {as_of} is in the future; figures treat every pending item as waiting until then",
                err=True,
            )
    con = open_for_reading(db)
    if params.get("include_private"):
        from bzmine.metrics import include_private

        include_private(con)
    if params.get("exclude_resolution") is not None or params.get("only_ca"):
        from bzmine.metrics import DEFAULT_EXCLUDE_RESOLUTIONS, set_exclusions

        res = params.get("exclude_resolution")
        try:
            used = set_exclusions(
                con,
                str(res).split(",") if res is not None else DEFAULT_EXCLUDE_RESOLUTIONS,
                bool(params.get("only_ca")),
            )
        except BaseException:
            con.close()
            raise
        left_out = []  # said on stderr: the default leaves nothing out
        if used["excluded_resolutions"]:
            left_out.append(f"resolutions {','.join(used['excluded_resolutions'])} (at as_of)")
        if used["only_ca_subjects"]:
            left_out.append("bugs not about a CA")
        if left_out:
            NOTES.append(f"note: left out {' and '.join(left_out)}")
    return con
