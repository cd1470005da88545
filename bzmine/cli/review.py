"""Commands that read incident-report text: review (against the guidelines in force) and parse-report (what the parser sees)."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from bzmine.cli.common import (
    boundary,
    db_option,
    emit,
    metrics_con,
)


@click.command("parse-report")
@click.argument("source", type=click.File("r", encoding="utf-8", errors="replace"))
@click.option("--compact", is_flag=True, help="One line of JSON instead of indented output.")
@boundary
def parse_report(source: Any, compact: bool) -> None:
    """Parse one text (a comment, or a pasted bug page; `-` for stdin) and print what was found as JSON.

    Keys: reports[] (kind, sections, fields, answers, action_items, timeline, related_incidents,
    contributing_factors), bug_refs, failures, action_items (a table outside any report).
    """
    import json

    from bzmine.parse.reports import parse_text

    result = parse_text(source.read())
    click.echo(json.dumps(result.to_json(), indent=None if compact else 2, ensure_ascii=False, default=str))


@click.command()
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
@boundary
def review(source: str, db: str, posted: str | None, opened: str | None, fmt: str) -> None:
    """Check the incident reports in a bug (SOURCE = a bug id in the database), a FILE, or - (stdin) against the
    CCADB / Mozilla guidelines in force when each was posted: one row per finding (rule, must/should/quality, what
    the rule asks, evidence), each with the report's kind and the guideline version it was judged by. A report
    with no finding gets one `clean` row; a text with no recognised report says `not_recognised` (with the parse
    failure) or `not_a_report`. Exits 0 even with findings. Rules: docs/review.md."""
    if source.isdigit():
        from bzmine.metrics import review_bug

        con = metrics_con(db)
        try:
            rows = review_bug(con, int(source))
        finally:
            con.close()
    else:
        from bzmine.parse.review import BugContext, review_text

        text = _read_source(source)
        when = _utc_option("--date", posted, "YYYY-MM-DD") or datetime.now(timezone.utc).replace(tzinfo=None)
        since = _utc_option("--opened", opened, "YYYY-MM-DD or YYYY-MM-DDTHH:MM")
        rows = review_text(text, when, BugContext(opened_at=since) if since else None)
    if fmt == "json":
        click.echo(json.dumps(rows, indent=1, default=str))
        return
    emit(_findings_table(rows), "table")


def _read_source(source: str) -> str:
    """The text of a FILE, or of stdin for -."""
    try:
        return (
            sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8", errors="replace")
        )
    except OSError as exc:
        raise click.ClickException(
            f"cannot read {source}: {exc.strerror}; give a bug id, a file or -"
        ) from None


def _utc_option(name: str, value: str | None, forms: str) -> datetime | None:
    """An ISO date or time option as naive UTC (an offset is converted); a bad one is a one-line error."""
    if not value:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise click.ClickException(f"{name} {value!r} is not a date ({forms})") from None
    return at.astimezone(timezone.utc).replace(tzinfo=None) if at.tzinfo is not None else at


def _findings_table(rows: list[dict[str, Any]]) -> Any:
    """The review rows as a terminal table: the span as start-end, blanks for what a row does not have."""
    import pandas as pd

    df = pd.DataFrame(rows)
    for c in ("rule_id", "severity", "evidence", "span_start", "span_end", "kind", "version"):
        if c not in df.columns:
            df[c] = None
    df["span"] = [
        f"{int(a)}-{int(b)}" if pd.notna(a) and pd.notna(b) else ""
        for a, b in zip(df["span_start"], df["span_end"], strict=True)
    ]
    df = df.astype(object).where(df.notna(), "")
    cols = ("comment", "kind", "version", "outcome", "rule_id", "severity", "span", "requirement", "evidence")
    return df[[c for c in cols if c in df.columns]]


COMMANDS: list[click.Command] = [parse_report, review]
