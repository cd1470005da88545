from bzmine.cli import cli

cli()
