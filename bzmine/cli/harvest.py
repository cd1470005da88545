"""Commands that write the database: sync (harvest), parse, upgrade; and status, which says what a file holds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from bzmine.cli.common import (
    boundary,
    db_option,
)


@click.command()
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
@boundary
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
    from bzmine.sync import sync_file

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
    when = since.replace(tzinfo=timezone.utc) if since else None
    sync_file(db, settings, full, when, quiet, parse=not no_parse, say=None if quiet else click.echo)


@click.command()
@db_option
@boundary
def status(db: str) -> None:
    """What the database holds: bugs, comments, last sync, watermark, skipped bugs, warnings."""
    from bzmine.database import require_db
    from bzmine.status import status_lines

    require_db(db)
    for line in status_lines(db):
        click.echo(line)


@click.command()
@db_option
@boundary
def upgrade(db: str) -> None:
    """Bring a database written by an older bzmine up to this one (schema, views, built-in tables, a re-parse after a
    parser change). Reading commands never write: on an old database they say to run this."""
    from bzmine.database import upgrade as _upgrade

    for line in _upgrade(db):
        click.echo(line)


@click.command()
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
@boundary
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


COMMANDS: list[click.Command] = [sync, status, upgrade, parse]
