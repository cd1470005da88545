"""The static HTML report."""

from __future__ import annotations

import click

from bzmine.cli.common import (
    boundary,
    db_option,
    metrics_con,
)


@click.command()
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
    help="Processes drawing the overview's five plots, this one included (default: this one alone; a worker costs "
    "about as much to start as drawing ten plots).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary.")
@boundary
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

    con = metrics_con(db, as_of)
    try:
        res = write_report(
            con, out, as_of, list(cas) or None, days, quiet, include_private=include_private, workers=workers
        )
    finally:
        con.close()
    if not quiet:
        kept = f" ({res.plots - res.plots_drawn} unchanged, kept)" if res.plots_drawn < res.plots else ""
        click.echo(f"report: {res.pages} pages, {res.plots} plots{kept}; open {res.index.resolve()}")


COMMANDS: list[click.Command] = [report]
