"""Commands for research: snapshots (cut, check, cite), paper tables and exports."""

from __future__ import annotations

import click

from bzmine.cli.common import (
    boundary,
    db_option,
    metrics_con,
)


@click.command("snapshot")
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
@boundary
def snapshot_cmd(db: str, out: str, as_of: str | None, include_private: bool) -> None:
    """Freeze the raw and parsed tables as Parquet with a manifest (versions, server, sync time, as_of, row counts,
    SHA-256 per file), to cite and to rerun every command on later with --db DIR, offline. snapshot_id covers the
    whole manifest; data_id only the raw and parsed tables (a sync that changes nothing keeps it)."""
    from bzmine.snapshot import write_snapshot

    con = metrics_con(db, as_of)
    try:
        m = write_snapshot(con, out, as_of, include_private)
    finally:
        con.close()
    click.echo(
        f"snapshot {m['snapshot_id'][:12]} (data {m['data_id'][:12]}): {m['bugs']} bugs, {len(m['tables'])} "
        f"tables, as_of {m['as_of']} -> {out}"
    )
    click.echo(f"use it with any command: --db {out}; cite it: bzmine cite {out}")


@click.command("open-snapshot")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@boundary
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


@click.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@boundary
def cite(folder: str) -> None:
    """How to cite a snapshot: a sentence and a BibTeX entry with its SHA-256, as_of and versions."""
    from bzmine.snapshot import citation, read_manifest

    click.echo(citation(read_manifest(folder)))


@click.command("paper-tables")
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
@boundary
def paper_tables_cmd(
    db: str, out: str, as_of: str | None, group: str, exclude_resolution: str | None, only_ca: bool
) -> None:
    """Write the paper tables (long form, one row per period x value x measure, zero rows for empty periods) as
    CSV, each with a .meta.json sidecar: as_of, snapshot id, exclusions, versions, every column's definition."""
    from bzmine.research import write_paper_tables

    con = metrics_con(db, as_of)
    try:
        paths = write_paper_tables(con, out, as_of, source=db, group=group)
        for name, path in paths.items():
            rows = len(path.read_text(encoding="utf-8").splitlines()) - 1
            click.echo(f"{name}: {rows} rows -> {path} (+ {name}.meta.json)")
    finally:
        con.close()


@click.command("export")
@db_option
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option(
    "--include-private",
    is_flag=True,
    help="Also export private (group-restricted) bugs seen with an API key.",
)
@boundary
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


COMMANDS: list[click.Command] = [snapshot_cmd, open_snapshot_cmd, cite, paper_tables_cmd, export_cmd]
