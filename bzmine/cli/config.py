"""`bzmine config`: the user's CA aliases and roles files, stored in the database."""

from __future__ import annotations

import click

from bzmine.cli.common import (
    boundary,
    db_option,
    metrics_con,
)


@click.group()
def config() -> None:
    """Your CA aliases/owners and roles files, stored in the database and applied by every later parse and sync."""


@config.command("show")
@db_option
@boundary
def config_show(db: str) -> None:
    """What is stored: your files and how many built-in and user rows each table has."""
    from bzmine.store.config import show

    con = metrics_con(db)
    try:
        for line in show(con):
            click.echo(line)
    finally:
        con.close()


@config.command("aliases")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@db_option
@boundary
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
@boundary
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
@boundary
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


COMMANDS: list[click.Command] = [config]
