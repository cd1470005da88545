"""The `bzmine` command line: a thin layer over the library, one module per command group (harvest, metrics,
review, report, research, config, local), the shared options and the one error boundary in cli/common.py.

Command modules import nothing heavy at module level (pandas, matplotlib, DuckDB views): `bzmine --help` and each
command pay only for what they use.
"""

from __future__ import annotations

import logging
import sys

import click

from bzmine.cli import config, harvest, local, metrics, report, research, review
from bzmine.version import __version__


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


for _module in (harvest, metrics, review, report, research, config, local):
    for _command in _module.COMMANDS:
        cli.add_command(_command)

__all__ = ["cli"]
