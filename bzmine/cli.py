"""The `bzmine` command line: a thin layer over the library with one error boundary."""

from __future__ import annotations

import functools
import logging
import os
import re
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from bzmine.errors import SIGNALLED, BzmineError, ConfigError, was_interrupted
from bzmine.version import __version__

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


_NOTES: list[str] = []  # notes about the answer (what it left out), printed by the boundary after the answer


def _boundary(fn: F) -> F:
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
        _NOTES.clear()
        try:
            result = fn(*args, **kwargs)
            for note in _NOTES:  # said once the answer stands: an error stays one line
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
    import re

    from bzmine.config import api_key_from_env
    from bzmine.terminal import sanitize

    try:
        key = api_key_from_env()
    except BzmineError:
        key = os.environ.get("BUGZILLA_API_KEY", "").strip() or None
    if key:
        text = text.replace(key, "REDACTED")
    return sanitize(re.sub(r"[\r\n\t]+", " ", text)).strip()


class _Finite(click.FloatRange):
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bzmine")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
def cli(verbose: int) -> None:
    """bzmine: Mozilla Bugzilla CA compliance bugs as an incident database.

    Typical use: `bzmine sync` (harvest), `bzmine scorecard` / `bzmine due` / `bzmine trends` (metrics),
    `bzmine explain` (the rows behind a figure), `bzmine review` (incident reports against the guidelines),
    `bzmine related` (linked incidents), `bzmine report` (HTML), `bzmine snapshot` / `bzmine cite` (research).
    CA names and root-program people: `bzmine config`. Errors are one line; exit 1.
    """
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(
        level=max(level, logging.DEBUG), stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )


@cli.command("serve-corpus")
@click.argument("corpus", type=click.Path(exists=True))
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback only, please)."
)
@click.option(
    "--port",
    default=0,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port; 0 picks a free one and prints it.",
)
@click.option(
    "--latency-ms",
    default=0.0,
    type=_Finite(0, 600_000),
    show_default=True,
    help="Delay added to every response.",
)
@click.option(
    "--page-cap",
    default=10000,
    type=click.IntRange(1, 10_000_000),
    show_default=True,
    help="Silent cap on search page size (BMO: 10000; other Bugzillas cap lower).",
)
@click.option(
    "--rate-limit",
    default=0,
    type=click.IntRange(0, 10_000_000),
    show_default=True,
    help="Anonymous bug/comment reads allowed per 60 s; the next gets 400/32000, then 429 pages. 0 = off.",
)
@click.option(
    "--rate-limit-all",
    is_flag=True,
    help="Count every anonymous request against --rate-limit (searches too).",
)
@click.option(
    "--block-seconds",
    default=3600.0,
    type=_Finite(0, 86400 * 366),
    show_default=True,
    help="How long a rate-limited address stays blocked.",
)
@click.option(
    "--fault-rate",
    default=0.0,
    type=_Finite(0, 1),
    show_default=True,
    help="Share of requests answered with 500/502/503, a dropped connection, or a truncated or non-JSON 200 body (seeded).",
)
@click.option(
    "--seed", default=0, type=click.IntRange(0, 2**63 - 1), show_default=True, help="Seed for --fault-rate."
)
@click.option(
    "--api-key",
    "api_keys",
    multiple=True,
    help="An API key the server accepts (repeatable); key holders see private bugs.",
)
@click.option(
    "--poison-bug",
    "poison",
    multiple=True,
    type=click.IntRange(1, 2**31 - 1),
    help="Bug id whose pages fail with 400 when comments/history are asked.",
)
@click.option("--hide-emails", is_flag=True, help="Hide e-mail addresses from anonymous callers.")
@click.option(
    "--turn-private",
    "turn_private",
    multiple=True,
    metavar="BUG@N",
    help="Restrict BUG to a group from the Nth connection on (each sync connects once), as an administrator "
    "does between two syncs: absent from anonymous searches, 401 on anonymous reads. Repeatable.",
)
@click.option(
    "--request-log", type=click.Path(dir_okay=False), help="Append one JSON line per request to this file."
)
@click.option(
    "--misbehave",
    multiple=True,
    type=click.Choice(["hang", "repeat-page", "bad-types", "trickle", "gzip-bomb", "huge", "bad-utf8"]),
    help="Act as a broken server on /rest/bug (repeatable): hang, ignore offset, list ids as strings, trickle "
    "the body, send a 300 MiB gzip bomb or body, or put invalid UTF-8 in comments.",
)
@_boundary
def serve_corpus(
    corpus: str,
    host: str,
    port: int,
    latency_ms: float,
    page_cap: int,
    rate_limit: int,
    rate_limit_all: bool,
    block_seconds: float,
    fault_rate: float,
    seed: int,
    api_keys: tuple[str, ...],
    poison: tuple[int, ...],
    hide_emails: bool,
    request_log: str | None,
    misbehave: tuple[str, ...],
    turn_private: tuple[str, ...],
) -> None:
    """Serve CORPUS (directory of <id>.json, a .jsonl file, or a saved /rest/bug list .json) as a local Bugzilla REST API.

    Answers on /rest/... as bugzilla.mozilla.org does. Stop with Ctrl-C or SIGTERM.
    """
    from bzmine.server import ServerOptions
    from bzmine.server import serve_corpus as _serve

    turns = []
    for spec in turn_private:
        if not re.fullmatch(r"[0-9]{1,18}@[1-9][0-9]{0,8}", spec):
            raise click.UsageError(
                f"--turn-private {spec!r}: give BUG@N, e.g. 1234@2 (private from the 2nd sync on)"
            )
        bug, _, n = spec.partition("@")
        turns.append((int(bug), int(n)))
    opts = ServerOptions(
        latency_ms=latency_ms,
        page_cap=page_cap,
        rate_limit=rate_limit,
        rate_limit_all=rate_limit_all,
        block_seconds=block_seconds,
        fault_rate=fault_rate,
        seed=seed,
        api_keys=api_keys,
        poison_ids=frozenset(poison),
        hide_emails=hide_emails,
        request_log=request_log,
        misbehave=frozenset(misbehave),
        turn_private=tuple(turns),
    )
    srv = _serve(corpus, opts, host, port)
    click.echo(f"serving {len(srv.app.records)} bugs at {srv.url}/rest/", err=False)
    sys.stdout.flush()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.httpd.server_close()
        srv.app.close()


@cli.command()
@click.option(
    "--bugs", "n", default=80, type=click.IntRange(1, 1_000_000), show_default=True, help="Number of bugs."
)
@click.option("--seed", default=0, type=int, show_default=True, help="Random seed (same seed, same corpus).")
@click.option("--out", required=True, type=click.Path(), help="Output: a directory, or a file ending .jsonl.")
@click.option(
    "--start",
    default="2018-01-01",
    show_default=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="Earliest bug creation date.",
)
@click.option(
    "--end",
    default="2026-10-31",
    show_default=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="Latest activity date.",
)
@_boundary
def synth(n: int, seed: int, out: str, start: Any, end: Any) -> None:
    """Write a synthetic CA compliance corpus and the ground truth of what it planted."""
    from bzmine.synth import write_synth

    if start >= end:
        raise ConfigError(f"--start ({start:%Y-%m-%d}) must be before --end ({end:%Y-%m-%d})")
    count, truth = write_synth(n, seed, out, f"{start:%Y-%m-%d}", f"{end:%Y-%m-%d}")
    click.echo(f"wrote {count} bugs to {out} (truth: {truth})")


@cli.command()
@click.option("--url", default="https://bugzilla.mozilla.org", show_default=True, help="Bugzilla base URL.")
@db_option
@click.option(
    "--full", is_flag=True, help="Re-read every bug instead of only those changed since the last run."
)
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    help="Only bugs changed at or after this UTC time.",
)
@click.option(
    "--product",
    "products",
    multiple=True,
    help="Bug set: product (repeatable). Default: 'CA Program' and 'NSS'.",
)
@click.option(
    "--component",
    "components",
    multiple=True,
    help="Bug set: component (repeatable). Default: 'CA Certificate Compliance'.",
)
@click.option(
    "--batch-size",
    default=50,
    show_default=True,
    type=click.IntRange(1, 500),
    help="Bugs per detail request.",
)
@click.option(
    "--timeout",
    default=60.0,
    show_default=True,
    type=float,
    help="Seconds before a request is given up (then retried).",
)
@click.option(
    "--retries",
    default=6,
    show_default=True,
    type=click.IntRange(0, 20),
    help="Retries per request on 429/5xx/connection errors.",
)
@click.option(
    "--max-response-mb",
    default=256,
    show_default=True,
    type=click.IntRange(1, 65536),
    help="Refuse any answer larger than this many MiB (after decompression).",
)
@click.option("--no-cache", is_flag=True, help="Do not use the HTTP cache (data/http_cache.sqlite).")
@click.option("--no-parse", is_flag=True, help="Do not rebuild the parsed tables after syncing.")
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="No progress bar and no summary (for cron); errors still go to stderr.",
)
@_boundary
def sync(
    url: str,
    db: str,
    full: bool,
    since: Any,
    products: tuple[str, ...],
    components: tuple[str, ...],
    batch_size: int,
    timeout: float,
    retries: int,
    max_response_mb: int,
    no_cache: bool,
    no_parse: bool,
    quiet: bool,
) -> None:
    """Harvest CA compliance bugs (fields, flags, comments, history) into the database.

    The first run reads everything; later runs fetch only bugs changed since the last run's
    watermark (minus 5 minutes). The API key is read from $BUGZILLA_API_KEY (or
    ~/.config/bzmine/api_key) and sent only as the X-BUGZILLA-API-KEY header.
    """
    from datetime import timezone

    from bzmine import config
    from bzmine.store.db import Writer
    from bzmine.sync import sync as _sync

    cache = None if no_cache else str(Path(db).with_name("http_cache"))
    settings = config.check(
        config.Settings(
            url=url,
            db=db,
            products=products or config.DEFAULT_PRODUCTS,
            components=components or config.DEFAULT_COMPONENTS,
            api_key=config.api_key_from_env(),
            cache_path=cache,
            batch_size=batch_size,
            timeout=timeout,
            retries=retries,
            max_response_bytes=max_response_mb * 2**20,
        )
    )
    created = db != ":memory:" and not Path(db).exists()
    writer = Writer(db)  # lets go of the file while batches arrive slowly, so readers can use it meanwhile
    try:
        report = _sync(
            writer,
            settings,
            full=full,
            since=since.replace(tzinfo=timezone.utc) if since else None,
            quiet=quiet,
        )
    except BaseException:
        try:
            empty = created and writer.con.execute("SELECT count(*) FROM raw_bugs").fetchone() == (0,)
        except Exception:
            empty = False
        writer.close()
        if empty:  # nothing was harvested into the new file: leave no empty database behind
            for leftover in (Path(db), Path(db + ".wal")):
                leftover.unlink(missing_ok=True)
        raise
    try:
        if not quiet:
            click.echo(report.summary())
        if not no_parse:
            from bzmine.parsing import reparse

            pr = reparse(writer.con, quiet=quiet)
            if not quiet:
                click.echo(pr.summary())
    finally:
        writer.close()


@cli.command()
@db_option
@_boundary
def status(db: str) -> None:
    """What the database holds: bugs, comments, last sync, watermark, skipped bugs, warnings."""
    from bzmine.database import require_db
    from bzmine.status import status_lines

    require_db(db)
    for line in status_lines(db):
        click.echo(line)


@cli.command()
@db_option
@_boundary
def upgrade(db: str) -> None:
    """Bring a database written by an older bzmine up to this one (schema, views, built-in tables, a re-parse after a
    parser change). Reading commands never write: on an old database they say to run this."""
    from bzmine.database import upgrade as _upgrade

    for line in _upgrade(db):
        click.echo(line)


@cli.command()
@db_option
@click.option("--full", is_flag=True, help="Re-parse every bug, not only those fetched since the last parse.")
@click.option(
    "--aliases",
    type=click.Path(exists=True, dir_okay=False),
    help="CA aliases/owners file (JSON like bzmine/data/ca_owners.json); stored and applied from now on (bzmine config).",
)
@click.option(
    "--roles",
    type=click.Path(exists=True, dir_okay=False),
    help="Roles file (JSON like bzmine/data/accounts.json, plus 'people'); stored and applied from now on.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary.")
@_boundary
def parse(db: str, full: bool, aliases: str | None, roles: str | None, quiet: bool) -> None:
    """Rebuild the parsed tables (incidents, reports, action items, ...) from the raw tables, offline."""
    from bzmine.parsing import reparse
    from bzmine.store.config import load_user_accounts
    from bzmine.store.db import Writer

    writer = Writer(db)  # a running sync holds the write lock: say so at once
    try:
        if roles:
            n = load_user_accounts(writer.con, roles)
            if not quiet:
                click.echo(f"roles: {n} accounts from {roles}")
        rep = reparse(writer.con, full=full, quiet=quiet, aliases_file=aliases)
    finally:
        writer.close()
    if not quiet:
        click.echo(rep.summary())


@cli.command("parse-report")
@click.argument("source", type=click.File("r", encoding="utf-8", errors="replace"))
@click.option("--compact", is_flag=True, help="One line of JSON instead of indented output.")
@_boundary
def parse_report(source: Any, compact: bool) -> None:
    """Parse one text (a comment, or a pasted bug page; `-` for stdin) and print what was found as JSON.

    Keys: reports[] (kind, sections, fields, answers, action_items, timeline, related_incidents,
    contributing_factors), bug_refs, failures, action_items (a table outside any report).
    """
    import json

    from bzmine.parse.reports import parse_text

    result = parse_text(source.read())
    click.echo(json.dumps(result.to_json(), indent=None if compact else 2, ensure_ascii=False, default=str))


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


def _clean(df: Any) -> Any:
    """Bug-derived text without control characters (terminal escapes), for terminal tables only."""
    import re

    import pandas as pd

    bad = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
    out = df.copy()
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]) and not pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].map(lambda v: bad.sub("?", v) if isinstance(v, str) else v)
    out.columns = [bad.sub("?", str(c)) for c in out.columns]
    return out


def _emit(df: Any, fmt: str, floatfmt: str = "{:.1f}", empty: str = "(nothing)") -> None:
    """csv and json carry every value in full; a table fits the terminal (COLUMNS): bzmine/table.py."""
    if fmt == "csv":
        click.echo(df.to_csv(index=False), nl=False)
    elif fmt == "json":
        click.echo(df.to_json(orient="records", date_format="iso", indent=1))
    elif df.empty:
        click.echo(empty)
    else:
        from bzmine.table import render

        click.echo(render(_clean(df), floatfmt=floatfmt))


def _metrics_con(db: str, as_of: str | None = None) -> Any:
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
            _NOTES.append(f"note: left out {' and '.join(left_out)}")
    return con


@cli.command()
@output_options
@click.option("--since", help="Only bugs opened on or after this date.")
@click.option("--until", help="Only bugs opened before this date.")
@click.option(
    "--percentiles/--no-percentiles",
    default=False,
    help="Add each figure's percentile among peers (table gets wide).",
)
@click.option(
    "--all",
    "show_all",
    is_flag=True,
    help="Every figure (the table shows a compact set by default; csv/json always have all).",
)
@click.option(
    "--by",
    "by",
    type=click.Choice(["ca", "year"]),
    default="ca",
    show_default=True,
    help="year: one CA's figures per year of opening (needs one --ca).",
)
@_boundary
def scorecard(
    db: str,
    as_of: str | None,
    cas: tuple[str, ...],
    group: str,
    fmt: str,
    since: str | None,
    until: str | None,
    percentiles: bool,
    show_all: bool,
    by: str,
    **_exclusions: Any,
) -> None:
    """One row per CA: response delays, breaches, obligations, action items, time to close.

    The table shows a compact set of telling figures (--all for every one; docs/metrics.md lists each figure with
    its direction and unit). Only bugs about a CA count (not auditors, the program itself or meta bugs). With one --ca, shows that CA
    beside the peer median and its percentile for each figure (peers: CAs with at least 5 bugs; higher
    percentile is better).
    """
    import pandas as pd

    from bzmine import metrics

    if by == "year" and len(cas) != 1:
        raise click.UsageError("--by year shows one CA: give exactly one --ca")
    con = _metrics_con(db, as_of)
    try:
        compact = set(metrics.figures(con).query("compact")["figure"])
        if by == "year":
            df = metrics.scorecard_by_year(con, cas[0], as_of, group=group)
            if fmt == "table" and not show_all:
                df = df[[c for c in df.columns if c in ("year", "private_bugs") or c in compact]]
            _emit(df, fmt)
            return
        if len(cas) == 1:
            df = metrics.compare(con, cas[0], as_of, since, until, group=group)
            if fmt == "table":
                if not show_all:
                    df = df[df["figure"].isin(compact | {"private_bugs"})]
                df = df.assign(
                    percentile=df["percentile"].map(lambda v: "no data" if pd.isna(v) else f"{v:.0f}")
                )
                df = df[["label", "value", "peer_median", "percentile", "direction"]]
            _emit(df, fmt)
            return
        df = metrics.scorecard(con, as_of, since, until, list(cas) or None, group=group)
        if fmt == "table":
            keep = [
                c
                for c in df.columns
                if (
                    show_all
                    or c in ("ca", "private_bugs")
                    or c in compact
                    or c.removesuffix("_pct") in compact
                )
                and (percentiles or not c.endswith("_pct"))
            ]
            df = df[keep]
        _emit(df, fmt, empty="(no bugs about a CA at this as_of)")
    finally:
        con.close()


@cli.command()
@output_options
@click.option(
    "--days",
    default=7,
    show_default=True,
    type=click.IntRange(0, 3650),
    help="Next-update dates due within this many days.",
)
@click.option(
    "--stale",
    "stale",
    type=click.IntRange(1, 3650),
    help="Also list open bugs with no next-update date and no CA comment for this many days (a user threshold).",
)
@click.option(
    "--waiting-on",
    "waiting_on",
    type=click.Choice(["ca", "program"]),
    default="ca",
    show_default=True,
    help="program: the bugs whose CA requested closure and that are not closed yet, oldest first.",
)
@_boundary
def due(
    db: str,
    as_of: str | None,
    cas: tuple[str, ...],
    group: str,
    fmt: str,
    days: int,
    stale: int | None,
    waiting_on: str,
    **_exclusions: Any,
) -> None:
    """What waits on CAs now, most overdue first: every duty the guideline in force sets (initial disclosure, full
    report, routine, action-item and revocation-delay updates, next-update dates) that falls due within --days or
    was missed and is still unanswered, with its guideline version and rule; pending questions and needinfos (due
    7 days after asking); close-on dates passed; overdue action items. Duties waived by a closure summary are left
    out (docs/metrics.md, Duties).

    days_overdue is negative for items not yet due. Only open bugs about a CA are listed.
    """
    from bzmine import metrics

    con = _metrics_con(db, as_of)
    try:
        df = metrics.due(
            con, as_of, days, list(cas) or None, group=group, stale_days=stale, waiting_on=waiting_on
        )
        if waiting_on == "program":
            _emit(df, fmt, empty="no closure request is waiting on the program")
            return
        _emit(df, fmt, empty="nothing is due")
    finally:
        con.close()


@cli.command()
@output_options
@click.option("--period", type=click.Choice(["year", "quarter"]), default="year", show_default=True)
@click.option(
    "--by",
    "dimension",
    type=click.Choice(["tag", "ca", "owner_status", "subject_status", "subject", "all", "rule"]),
    default="tag",
    show_default=True,
    help="Split counts by whiteboard tag, CA, owner status (the owner today: included/distrusted), subject "
    "status (the CA the bug was filed about: Symantec distrusted though DigiCert owns it), subject kind, "
    "or not; rule: incident reports per period of posting that broke each review rule "
    "(bzmine review), beside the reports reviewed.",
)
@_boundary
def trends(
    db: str,
    as_of: str | None,
    cas: tuple[str, ...],
    group: str,
    fmt: str,
    period: str,
    dimension: str,
    **_exclusions: Any,
) -> None:
    """Bugs opened per year or quarter, then per year: bugs, closed, still open, median days to close,
    requests, median response hours, share answered within 7 days.

    --ca restricts both tables. With --format json the output is {"counts": [...], "per_year": [...]};
    with --format csv the two tables follow each other, separated by an empty line.
    """
    import json

    from bzmine import metrics

    con = _metrics_con(db, as_of)
    try:
        counts = metrics.trends(con, as_of, period, dimension, list(cas) or None, group=group).reset_index()
        per_year = metrics.yearly(con, as_of, list(cas) or None, group=group)
    finally:
        con.close()
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "counts": json.loads(counts.to_json(orient="records")),
                    "per_year": json.loads(per_year.to_json(orient="records")),
                },
                indent=1,
            )
        )
        return
    if counts.empty and dimension == "rule" and fmt == "table":
        # a right answer, said as one: no report was parsed (a bug list without comments, or nothing posted yet)
        click.echo("no incident reports in this database (posted at or before as_of) to count findings of")
    else:
        _emit(counts, fmt, "{:.0f}")
    click.echo("")
    _emit(per_year, fmt, "{:.2f}")


@cli.command()
@click.argument("figure")
@output_options
@click.option("--since", help="Only bugs opened on or after this date.")
@click.option("--until", help="Only bugs opened before this date.")
@_boundary
def explain(
    figure: str,
    db: str,
    as_of: str | None,
    cas: tuple[str, ...],
    group: str,
    fmt: str,
    since: str | None,
    until: str | None,
    **_exclusions: Any,
) -> None:
    """The bugs, requests, obligations or action items behind one scorecard FIGURE of one --ca, with the
    timestamps to check it by hand on Bugzilla. Example: bzmine explain breaches_7d --ca Sectigo"""
    from bzmine import metrics

    if len(cas) != 1:
        raise click.UsageError("explain shows one CA: give exactly one --ca")
    con = _metrics_con(db, as_of)
    try:
        value, rows = metrics.explain(con, cas[0], figure, as_of, since, until, group=group)
        base = metrics.bug_url_base(con)
    finally:
        con.close()
    if fmt == "table":
        shown = "no data" if value is None else (f"{value:.2f}" if isinstance(value, float) else str(value))
        click.echo(f"{figure} = {shown} for {cas[0]}; {len(rows)} row(s) behind it (bug pages: {base}BUG):")
    _emit(rows, fmt, "{:.2f}", empty="(no rows)")


@cli.command()
@click.argument("bug", type=int)
@click.option(
    "--depth", default=1, show_default=True, type=click.IntRange(1, 10), help="How many links away to follow."
)
@db_option
@click.option(
    "--as-of", "as_of", help="Only links and bugs that existed at this UTC date or time (default: now)."
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True
)
@include_private_option
@_boundary
def related(bug: int, depth: int, db: str, as_of: str | None, fmt: str, include_private: bool) -> None:
    """Bugs linked to BUG (bug N, #N, Incident N, links, depends/blocks/duplicate/see-also fields, Related Incidents
    tables; either direction), up to --depth links away, nearest first."""
    from bzmine import metrics

    con = _metrics_con(db, as_of)
    try:
        df = metrics.mark_hidden(con, metrics.related(con, bug, depth, as_of))
    finally:
        con.close()
    if fmt == "table":
        df = df.assign(summary=df["summary"].astype(str).str.slice(0, 70))
    _emit(df, fmt, empty=f"no bug in this database refers to {bug} or is referred to by it")


@cli.command()
@click.argument("source")
@db_option
@click.option(
    "--date",
    "posted",
    help="For a FILE or -: the day it was posted (decides the guideline version). Default: today.",
)
@click.option(
    "--opened",
    "opened",
    help="For a FILE or -: when the bug was opened or the CA became aware (YYYY-MM-DD[THH:MM]); runs the 72-hour "
    "and 14-day rules on the text.",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@_boundary
def review(source: str, db: str, posted: str | None, opened: str | None, fmt: str) -> None:
    """Check the incident reports in a bug (SOURCE = a bug id in the database), a FILE, or - (stdin) against the
    CCADB / Mozilla guidelines in force when each was posted: one row per finding (rule, must/should/quality, what
    the rule asks, evidence), each with the report's kind and the guideline version it was judged by. A report
    with no finding gets one `clean` row; a text with no recognised report says `not_recognised` (with the parse
    failure) or `not_a_report`. Exits 0 even with findings. Rules: docs/review.md."""
    import json
    from datetime import datetime, timezone

    import pandas as pd

    from bzmine.metrics import review_bug
    from bzmine.parse.review import BugContext, review_text

    if source.isdigit():
        con = _metrics_con(db)
        try:
            rows = review_bug(con, int(source))
        finally:
            con.close()
    else:
        try:
            text = (
                sys.stdin.read()
                if source == "-"
                else Path(source).read_text(encoding="utf-8", errors="replace")
            )
        except OSError as exc:
            raise click.ClickException(
                f"cannot read {source}: {exc.strerror}; give a bug id, a file or -"
            ) from None
        try:
            when = (
                datetime.fromisoformat(posted) if posted else datetime.now(timezone.utc).replace(tzinfo=None)
            )
        except ValueError:
            raise click.ClickException(f"--date {posted!r} is not a date (YYYY-MM-DD)") from None
        try:
            since = datetime.fromisoformat(opened) if opened else None
        except ValueError:
            raise click.ClickException(
                f"--opened {opened!r} is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM)"
            ) from None
        if since is not None and since.tzinfo is not None:
            since = since.astimezone(timezone.utc).replace(tzinfo=None)
        if when.tzinfo is not None:
            when = when.astimezone(timezone.utc).replace(tzinfo=None)
        rows = review_text(text, when, BugContext(opened_at=since) if since else None)
    if fmt == "json":
        click.echo(json.dumps(rows, indent=1, default=str))
        return
    df = pd.DataFrame(rows)
    for c in ("rule_id", "severity", "evidence", "span_start", "span_end", "kind", "version"):
        if c not in df.columns:
            df[c] = None
    df["span"] = [
        f"{int(a)}-{int(b)}" if pd.notna(a) and pd.notna(b) else ""
        for a, b in zip(df["span_start"], df["span_end"], strict=True)
    ]
    df = df.astype(object).where(df.notna(), "")
    cols = [
        c
        for c in (
            "comment",
            "kind",
            "version",
            "outcome",
            "rule_id",
            "severity",
            "span",
            "requirement",
            "evidence",
        )
        if c in df.columns
    ]
    _emit(df[cols], "table")


@cli.command()
@click.argument("query")
@db_option
@click.option("--as-of", "as_of", help="as_of for the metric views (default: now).")
@click.option(
    "--group",
    type=click.Choice(["owner", "filed"]),
    default="owner",
    show_default=True,
    help="CA grouping for the metric views.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True
)
@_boundary
def sql(query: str, db: str, as_of: str | None, group: str, fmt: str) -> None:
    """Run one read-only SELECT over the database (tables and metric views; --as-of sets as_of for the views).

    Only SELECT, WITH ... SELECT, DESCRIBE, SUMMARIZE and plain EXPLAIN are accepted; the database is opened
    read-only and files, extensions and the network are out of reach.

    Example: bzmine sql "SELECT ca_owner, count(*) FROM incidents GROUP BY 1 ORDER BY 2 DESC"
    """
    from bzmine.query import run_select

    _emit(run_select(db, query, as_of, group), fmt, "{:.2f}")


@cli.command()
@db_option
@click.option(
    "--out",
    default="data/report",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Output directory.",
)
@click.option("--as-of", "as_of", help="Compute as of this UTC date or time (default: now).")
@click.option(
    "--ca", "cas", multiple=True, help="Only pages for these CAs (repeatable); the overview keeps everyone."
)
@click.option(
    "--days",
    default=7,
    show_default=True,
    type=click.IntRange(0, 3650),
    help="Due page: next-update dates within this many days.",
)
@click.option(
    "--include-private",
    is_flag=True,
    help="Include private (group-restricted) bugs seen with an API key; they are marked. Default: left out.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    help="Processes drawing plots (default: one per core, at most 4; one for fewer than 12 plots).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary.")
@_boundary
def report(
    db: str,
    out: str,
    as_of: str | None,
    cas: tuple[str, ...],
    days: int,
    include_private: bool,
    workers: int | None,
    quiet: bool,
) -> None:
    """Write a static HTML report (overview, sortable scorecard, one page per CA, due list) that opens from disk."""
    from bzmine.report import write_report

    con = _metrics_con(db, as_of)
    try:
        res = write_report(
            con, out, as_of, list(cas) or None, days, quiet, include_private=include_private, workers=workers
        )
    finally:
        con.close()
    if not quiet:
        kept = f" ({res.plots - res.plots_drawn} unchanged, kept)" if res.plots_drawn < res.plots else ""
        click.echo(f"report: {res.pages} pages, {res.plots} plots{kept}; open {res.index.resolve()}")


@cli.group()
def config() -> None:
    """Your CA aliases/owners and roles files, stored in the database and applied by every later parse and sync."""


@config.command("show")
@db_option
@_boundary
def config_show(db: str) -> None:
    """What is stored: your files and how many built-in and user rows each table has."""
    from bzmine.store.config import show

    con = _metrics_con(db)
    try:
        for line in show(con):
            click.echo(line)
    finally:
        con.close()


@config.command("aliases")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@db_option
@_boundary
def config_aliases(file: str, db: str) -> None:
    """Store FILE (JSON shaped like bzmine/data/ca_owners.json, or {"aliases": {NAME: [spellings]}}) and re-parse."""
    from bzmine.database import open_for_writing as connect
    from bzmine.database import require_db
    from bzmine.parsing import reparse, set_aliases

    require_db(db)
    con = connect(db)
    try:
        set_aliases(con, file)
        click.echo(f"aliases: stored {file}")
        click.echo(reparse(con, quiet=True).summary())
    finally:
        con.close()


@config.command("roles")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@db_option
@_boundary
def config_roles(file: str, db: str) -> None:
    """Store FILE (JSON like bzmine/data/accounts.json, plus "people" as in bzmine/data/people.json)."""
    from bzmine.database import open_for_writing as connect
    from bzmine.database import require_db
    from bzmine.store.config import load_user_accounts

    require_db(db)
    con = connect(db)
    try:
        n = load_user_accounts(con, file)
        click.echo(f"roles: stored {file} ({n} accounts and people)")
    finally:
        con.close()


@config.command("reset")
@db_option
@_boundary
def config_reset(db: str) -> None:
    """Forget your stored files (the built-in tables stay) and re-parse."""
    from bzmine.database import open_for_writing as connect
    from bzmine.database import require_db
    from bzmine.parsing import reparse
    from bzmine.store.config import reset_user

    require_db(db)
    con = connect(db)
    try:
        reset_user(con)
        click.echo("config: user files forgotten")
        click.echo(reparse(con, quiet=True).summary())
    finally:
        con.close()


@cli.command("snapshot")
@db_option
@click.option(
    "--out", required=True, type=click.Path(file_okay=False), help="A new directory for the snapshot."
)
@click.option(
    "--as-of",
    "as_of",
    help="The as_of the snapshot is cut for (default: now), recorded in the manifest and the citation; every "
    "command reading the snapshot defaults to it.",
)
@click.option(
    "--include-private",
    is_flag=True,
    help="Also include private (group-restricted) bugs seen with an API key.",
)
@_boundary
def snapshot_cmd(db: str, out: str, as_of: str | None, include_private: bool) -> None:
    """Freeze the raw and parsed tables as Parquet with a manifest (versions, server, sync time, as_of, row counts,
    SHA-256 per file), to cite and to rerun every command on later with --db DIR, offline. snapshot_id covers the
    whole manifest; data_id only the raw and parsed tables (a sync that changes nothing keeps it)."""
    from bzmine.snapshot import write_snapshot

    con = _metrics_con(db, as_of)
    try:
        m = write_snapshot(con, out, as_of, include_private)
    finally:
        con.close()
    click.echo(
        f"snapshot {m['snapshot_id'][:12]} (data {m['data_id'][:12]}): {m['bugs']} bugs, {len(m['tables'])} "
        f"tables, as_of {m['as_of']} -> {out}"
    )
    click.echo(f"use it with any command: --db {out}; cite it: bzmine cite {out}")


@cli.command("open-snapshot")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@_boundary
def open_snapshot_cmd(folder: str) -> None:
    """Check a snapshot (both ids recomputed, every file's SHA-256 and rows, no unknown or missing table or file)
    and say what it holds and how to use it."""
    from bzmine.snapshot import open_snapshot, read_manifest

    m = read_manifest(folder)
    open_snapshot(folder).close()  # it loads, and the views apply
    click.echo(
        f"snapshot {m['snapshot_id'][:12]} (data {m['data_id'][:12]}): intact; {m['bugs']} bugs from {m.get('server')} synced "
        f"{m.get('synced_at')}, as_of {m.get('as_of')}, bzmine {m.get('bzmine_version')}, parser {m.get('parser_version')}"
    )
    click.echo(
        f"every reading command takes it: bzmine scorecard --db {folder} (read-only, offline); "
        f"in Python: bzmine.connect({folder!r})"
    )


@cli.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@_boundary
def cite(folder: str) -> None:
    """How to cite a snapshot: a sentence and a BibTeX entry with its SHA-256, as_of and versions."""
    from bzmine.snapshot import citation, read_manifest

    click.echo(citation(read_manifest(folder)))


@cli.command("paper-tables")
@db_option
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option(
    "--as-of", "as_of", help="Compute as of this UTC date or time (default: now). A date means 00:00 UTC."
)
@click.option(
    "--group",
    type=click.Choice(["owner", "filed"]),
    default="owner",
    show_default=True,
    help="What a CA is: its CCADB owner today, or the name as filed.",
)
@click.option(
    "--exclude-resolution",
    "exclude_resolution",
    default=None,
    metavar="LIST",
    help="Leave bugs with these resolutions (at --as-of) out, e.g. INVALID,DUPLICATE. Default: none.",
)
@click.option("--only-ca", is_flag=True, help="Leave out bugs that are not about a CA.")
@_boundary
def paper_tables_cmd(
    db: str, out: str, as_of: str | None, group: str, exclude_resolution: str | None, only_ca: bool
) -> None:
    """Write the paper tables (long form, one row per period x value x measure, zero rows for empty periods) as
    CSV, each with a .meta.json sidecar: as_of, snapshot id, exclusions, versions, every column's definition."""
    from bzmine.research import write_paper_tables

    con = _metrics_con(db, as_of)
    try:
        paths = write_paper_tables(con, out, as_of, source=db, group=group)
        for name, path in paths.items():
            rows = len(path.read_text(encoding="utf-8").splitlines()) - 1
            click.echo(f"{name}: {rows} rows -> {path} (+ {name}.meta.json)")
    finally:
        con.close()


@cli.command("export")
@db_option
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option(
    "--include-private",
    is_flag=True,
    help="Also export private (group-restricted) bugs seen with an API key.",
)
@_boundary
def export_cmd(db: str, fmt: str, out: str, include_private: bool) -> None:
    """Write every table as Parquet or CSV (large tables partitioned by year) for Spark, Trino or DuckDB elsewhere."""
    from bzmine.database import open_for_reading
    from bzmine.export import export

    con = open_for_reading(db)
    try:
        for e in export(con, out, fmt, include_private=include_private):
            click.echo(f"{e.table}: {e.rows} rows -> {e.path}{' (by year)' if e.partitioned else ''}")
    finally:
        con.close()


@cli.command("demo")
@click.option(
    "--db",
    default="data/demo.duckdb",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The demo database (made on the first run; later runs sync incrementally).",
)
@click.option(
    "--report", "report_dir", default="data/report", show_default=True, type=click.Path(file_okay=False)
)
@click.option(
    "--corpus",
    type=click.Path(exists=True),
    help="Serve this corpus instead of the bundled sample (a folder of <id>.json, or a .jsonl file).",
)
@_boundary
def demo_cmd(db: str, report_dir: str, corpus: str | None) -> None:
    """The whole pipeline, offline: a local Bugzilla-compatible server on the sample corpus bzmine carries, then
    sync, status, scorecard, due, trends, explain and report against it, as you would against
    bugzilla.mozilla.org."""
    from bzmine.demo import run_demo

    run_demo(corpus, db, report_dir)


@cli.command("notebooks")
@click.option(
    "--out",
    default="notebooks",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder to copy the notebooks into (made if missing).",
)
@click.option("--force", is_flag=True, help="Overwrite notebooks already in the folder.")
@_boundary
def notebooks_cmd(out: str, force: bool) -> None:
    """Copy the analysis notebooks (trends, CA benchmark, response delays, paper tables) into a folder.

    They read BZMINE_DB (default ../data/demo.duckdb: the database `bzmine demo` makes when run in the folder above
    --out). Running them needs the notebooks extra: pip install 'bzmine[notebooks]'.
    """
    import shlex
    import shutil

    from bzmine.bundled import path

    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    copied, kept = [], []
    for nb in sorted(path("notebooks").glob("*.ipynb")):
        dest = target / nb.name
        if dest.exists() and not force:
            kept.append(nb.name)
            continue
        shutil.copyfile(nb, dest)
        copied.append(nb.name)
    click.echo(f"notebooks: {len(copied)} copied to {target.resolve()}")
    if kept:
        click.echo(f"kept {len(kept)} already there (--force overwrites): {', '.join(kept)}")
    click.echo(
        f"open them: jupyter lab {shlex.quote(out)}  (database: BZMINE_DB, default ../data/demo.duckdb)"
    )
