"""The metric commands: scorecard, due, trends, explain, related and sql (read-only, on a database or a snapshot)."""

from __future__ import annotations

import json
from typing import Any

import click

from bzmine.cli.common import (
    boundary,
    db_option,
    emit,
    include_private_option,
    metrics_con,
    output_options,
)


@click.command()
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
@boundary
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
    from bzmine import metrics

    if by == "year" and len(cas) != 1:
        raise click.UsageError("--by year shows one CA: give exactly one --ca")
    con = metrics_con(db, as_of)
    try:
        compact = metrics.compact_figures(con)
        if by == "year":
            df = metrics.scorecard_by_year(con, cas[0], as_of, group=group)
        elif len(cas) == 1:
            df = metrics.compare(con, cas[0], as_of, since, until, group=group)
        elif fmt == "table" and not percentiles:  # no pandas on the most used path
            df = metrics.scorecard_rows(con, as_of, since, until, list(cas) or None, group=group, once=True)
        else:
            df = metrics.scorecard(con, as_of, since, until, list(cas) or None, group=group, once=True)
    finally:
        con.close()
    if fmt == "table":
        df = _scorecard_table(df, by == "year", len(cas) == 1, compact, show_all, percentiles)
    emit(
        df, fmt, empty="(nothing)" if by == "year" or len(cas) == 1 else "(no bugs about a CA at this as_of)"
    )


def _scorecard_table(
    df: Any, by_year: bool, one_ca: bool, compact: set[str], show_all: bool, pct: bool
) -> Any:
    """The scorecard's terminal table: the compact figures unless --all; percentiles only when asked."""
    if by_year:
        return (
            df if show_all else df[[c for c in df.columns if c in ("year", "private_bugs") or c in compact]]
        )
    if one_ca:
        import pandas as pd  # compare() made a DataFrame

        if not show_all:
            df = df[df["figure"].isin(compact | {"private_bugs"})]
        df = df.assign(percentile=["no data" if pd.isna(v) else f"{v:.0f}" for v in df["percentile"]])
        return df[["label", "value", "peer_median", "percentile", "direction"]]
    keep = [
        c
        for c in df.columns
        if (show_all or c in ("ca", "private_bugs") or c in compact or c.removesuffix("_pct") in compact)
        and (pct or not c.endswith("_pct"))
    ]
    return df[keep]


@click.command()
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
@boundary
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

    con = metrics_con(db, as_of)
    try:
        df = metrics.due(
            con,
            as_of,
            days,
            list(cas) or None,
            group=group,
            stale_days=stale,
            waiting_on=waiting_on,
            rows=fmt == "table",
            once=True,
        )
        if waiting_on == "program":
            emit(df, fmt, empty="no closure request is waiting on the program")
            return
        emit(df, fmt, empty="nothing is due")
    finally:
        con.close()


@click.command()
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
@boundary
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
    from bzmine import metrics

    con = metrics_con(db, as_of)
    try:
        table = fmt == "table"  # no pandas for a table
        counts = metrics.trends(con, as_of, period, dimension, list(cas) or None, group=group, rows=table)
        counts = counts if table else counts.reset_index()
        per_year = metrics.yearly(con, as_of, list(cas) or None, group=group, rows=table)
    finally:
        con.close()
    if fmt == "json":
        records = {
            k: json.loads(v.to_json(orient="records"))
            for k, v in (("counts", counts), ("per_year", per_year))
        }
        click.echo(json.dumps(records, indent=1))
        return
    if counts.empty and dimension == "rule" and fmt == "table":
        # a right answer, said as one: no report was parsed (a bug list without comments, or nothing posted yet)
        click.echo("no incident reports in this database (posted at or before as_of) to count findings of")
    else:
        emit(counts, fmt, "{:.0f}")
    click.echo("")
    emit(per_year, fmt, "{:.2f}")


@click.command()
@click.argument("figure")
@output_options
@click.option("--since", help="Only bugs opened on or after this date.")
@click.option("--until", help="Only bugs opened before this date.")
@boundary
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
    con = metrics_con(db, as_of)
    try:
        value, rows = metrics.explain(con, cas[0], figure, as_of, since, until, group=group)
        base = metrics.bug_url_base(con)
    finally:
        con.close()
    if fmt == "table":
        shown = "no data" if value is None else (f"{value:.2f}" if isinstance(value, float) else str(value))
        click.echo(f"{figure} = {shown} for {cas[0]}; {len(rows)} row(s) behind it (bug pages: {base}BUG):")
    emit(rows, fmt, "{:.2f}", empty="(no rows)")


@click.command()
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
@boundary
def related(bug: int, depth: int, db: str, as_of: str | None, fmt: str, include_private: bool) -> None:
    """Bugs linked to BUG (bug N, #N, Incident N, links, depends/blocks/duplicate/see-also fields, Related Incidents
    tables; either direction), up to --depth links away, nearest first."""
    from bzmine import metrics

    con = metrics_con(db, as_of)
    try:
        df = metrics.mark_hidden(con, metrics.related(con, bug, depth, as_of))
    finally:
        con.close()
    if fmt == "table":
        df = df.assign(summary=df["summary"].astype(str).str.slice(0, 70))
    emit(df, fmt, empty=f"no bug in this database refers to {bug} or is referred to by it")


@click.command()
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
@boundary
def sql(query: str, db: str, as_of: str | None, group: str, fmt: str) -> None:
    """Run one read-only SELECT over the database (tables and metric views; --as-of sets as_of for the views).

    Only SELECT, WITH ... SELECT, DESCRIBE, SUMMARIZE and plain EXPLAIN are accepted; the database is opened
    read-only and files, extensions and the network are out of reach.

    Example: bzmine sql "SELECT ca_owner, count(*) FROM incidents GROUP BY 1 ORDER BY 2 DESC"
    """
    from bzmine.query import run_select

    emit(run_select(db, query, as_of, group), fmt, "{:.2f}")


COMMANDS: list[click.Command] = [scorecard, due, trends, explain, related, sql]
