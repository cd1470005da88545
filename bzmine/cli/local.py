"""Commands that run bzmine offline: the local Bugzilla-compatible server, synthetic corpora, the demo, the bundled notebooks."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import click

from bzmine.cli.common import (
    Finite,
    boundary,
)
from bzmine.errors import ConfigError


def _turns(specs: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    """--turn-private BUG@N values as (bug, n) pairs; anything else is a usage error (exit 2)."""
    turns = []
    for spec in specs:
        if not re.fullmatch(r"[0-9]{1,18}@[1-9][0-9]{0,8}", spec):
            raise click.BadParameter(f"{spec!r}: give BUG@N, e.g. 1234@2 (private from the 2nd sync on)")
        bug, _, n = spec.partition("@")
        turns.append((int(bug), int(n)))
    return tuple(turns)


@click.command("serve-corpus")
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
    type=Finite(0, 600_000),
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
    type=Finite(0, 86400 * 366),
    show_default=True,
    help="How long a rate-limited address stays blocked.",
)
@click.option(
    "--fault-rate",
    default=0.0,
    type=Finite(0, 1),
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
    callback=lambda ctx, param, value: _turns(value),
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
@boundary
def serve_corpus(corpus: str, host: str, port: int, **opts: Any) -> None:
    """Serve CORPUS (directory of <id>.json, a .jsonl file, or a saved /rest/bug list .json) as a local Bugzilla REST API.

    Answers on /rest/... as bugzilla.mozilla.org does. Stop with Ctrl-C or SIGTERM.
    """
    from bzmine.server import ServerOptions, serve_until_stopped
    from bzmine.server import serve_corpus as _serve

    opts["poison_ids"] = frozenset(opts.pop("poison"))
    opts["misbehave"] = frozenset(opts["misbehave"])
    srv = _serve(corpus, ServerOptions(**opts), host, port)
    click.echo(f"serving {len(srv.app.records)} bugs at {srv.url}/rest/", err=False)
    sys.stdout.flush()
    serve_until_stopped(srv)


@click.command()
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
@boundary
def synth(n: int, seed: int, out: str, start: Any, end: Any) -> None:
    """Write a synthetic CA compliance corpus and the ground truth of what it planted."""
    from bzmine.synth import write_synth

    if start >= end:
        raise ConfigError(f"--start ({start:%Y-%m-%d}) must be before --end ({end:%Y-%m-%d})")
    count, truth = write_synth(n, seed, out, f"{start:%Y-%m-%d}", f"{end:%Y-%m-%d}")
    click.echo(f"wrote {count} bugs to {out} (truth: {truth})")


@click.command("demo")
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
@boundary
def demo_cmd(db: str, report_dir: str, corpus: str | None) -> None:
    """The whole pipeline, offline: a local Bugzilla-compatible server on the sample corpus bzmine carries, then
    sync, status, scorecard, due, trends, explain and report against it, as you would against
    bugzilla.mozilla.org."""
    from bzmine.demo import run_demo

    run_demo(corpus, db, report_dir)


@click.command("notebooks")
@click.option(
    "--out",
    default="notebooks",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder to copy the notebooks into (made if missing).",
)
@click.option("--force", is_flag=True, help="Overwrite notebooks already in the folder.")
@boundary
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


COMMANDS: list[click.Command] = [serve_corpus, synth, demo_cmd, notebooks_cmd]
