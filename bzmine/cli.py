"""The `bzmine` command line: a thin layer over the library with one error boundary."""

from __future__ import annotations

import functools
import logging
import os
import signal
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from bzmine import __version__
from bzmine.errors import BzmineError

F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_DB = "data/bzmine.duckdb"


def _boundary(fn: F) -> F:
    """Turn BzmineError into a one-line message and exit 1; other errors keep their traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BzmineError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper  # type: ignore[return-value]


def db_option(fn: F) -> F:
    return click.option(
        "--db", "db", default=lambda: os.environ.get("BZMINE_DB", DEFAULT_DB), show_default=f"$BZMINE_DB or {DEFAULT_DB}",
        type=click.Path(dir_okay=False), help="DuckDB database file.",
    )(fn)  # fmt: skip


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bzmine")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
def cli(verbose: int) -> None:
    """bzmine: Mozilla Bugzilla CA compliance bugs as an incident database.

    Typical use: `bzmine sync` (harvest), `bzmine parse` (rebuild parsed tables),
    `bzmine scorecard` / `bzmine due` / `bzmine trends` (metrics), `bzmine report` (HTML).
    """
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(level=max(level, logging.DEBUG), stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")


@cli.command("serve-corpus")
@click.argument("corpus", type=click.Path(exists=True))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback only, please).")
@click.option("--port", default=0, show_default=True, type=int, help="Port; 0 picks a free one and prints it.")
@click.option("--latency-ms", default=0.0, type=float, show_default=True, help="Delay added to every response.")
@click.option("--page-cap", default=10000, type=int, show_default=True,
              help="Silent cap on search page size (BMO: 10000; other Bugzillas cap lower).")
@click.option("--rate-limit", default=0, type=int, show_default=True,
              help="Anonymous bug/comment reads allowed per 60 s; the next gets 400/32000, then 429 pages. 0 = off.")
@click.option("--rate-limit-all", is_flag=True, help="Count every anonymous request against --rate-limit (searches too).")
@click.option("--block-seconds", default=3600.0, type=float, show_default=True, help="How long a rate-limited address stays blocked.")
@click.option("--fault-rate", default=0.0, type=float, show_default=True,
              help="Share of requests answered with 500/502/503 or a dropped connection (seeded).")
@click.option("--seed", default=0, type=int, show_default=True, help="Seed for --fault-rate.")
@click.option("--api-key", "api_keys", multiple=True, help="An API key the server accepts (repeatable); key holders see private bugs.")
@click.option("--poison-bug", "poison", multiple=True, type=int, help="Bug id whose pages fail with 400 when comments/history are asked.")
@click.option("--hide-emails", is_flag=True, help="Hide e-mail addresses from anonymous callers.")
@click.option("--request-log", type=click.Path(dir_okay=False), help="Append one JSON line per request to this file.")
@_boundary
def serve_corpus(corpus: str, host: str, port: int, latency_ms: float, page_cap: int, rate_limit: int,
                 rate_limit_all: bool, block_seconds: float, fault_rate: float, seed: int, api_keys: tuple[str, ...],
                 poison: tuple[int, ...], hide_emails: bool, request_log: str | None) -> None:  # fmt: skip
    """Serve CORPUS (directory of <id>.json or a .jsonl file) as a local Bugzilla REST API.

    Answers on /rest/... as bugzilla.mozilla.org does. Stop with Ctrl-C or SIGTERM.
    """
    from bzmine.server import ServerOptions, serve_corpus as _serve

    opts = ServerOptions(latency_ms=latency_ms, page_cap=page_cap, rate_limit=rate_limit, rate_limit_all=rate_limit_all,
                         block_seconds=block_seconds, fault_rate=fault_rate, seed=seed, api_keys=api_keys,
                         poison_ids=frozenset(poison), hide_emails=hide_emails, request_log=request_log)  # fmt: skip
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
@click.option("--bugs", "n", default=80, type=click.IntRange(1), show_default=True, help="Number of bugs.")
@click.option("--seed", default=0, type=int, show_default=True, help="Random seed (same seed, same corpus).")
@click.option("--out", required=True, type=click.Path(), help="Output: a directory, or a file ending .jsonl.")
@click.option("--start", default="2018-01-01", show_default=True, help="Earliest bug creation date.")
@click.option("--end", default="2026-10-31", show_default=True, help="Latest activity date.")
@_boundary
def synth(n: int, seed: int, out: str, start: str, end: str) -> None:
    """Write a synthetic CA compliance corpus and the ground truth of what it planted."""
    from bzmine.synth import write_synth

    count, truth = write_synth(n, seed, out, start, end)
    click.echo(f"wrote {count} bugs to {out} (truth: {truth})")
