"""Terminal tables fit the terminal: text left, numbers right, whole numbers without decimals, long text cut with
"…" (full in csv/json), wide tables in blocks that repeat the first column."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from bzmine.cli import cli
from bzmine.table import render, text_width

AS_OF = "2026-11-01"
COMMANDS = {
    "due": ["due", "--days", "30"],
    "scorecard": ["scorecard", "--all"],  # every figure (the table leaves out only the percentiles)
    "trends": ["trends", "--by", "ca"],
}


def _run(sample_db: tuple[Path, Any], args: list[str], columns: int, fmt: str = "table") -> str:
    res = CliRunner().invoke(
        cli,
        [*args, "--db", str(sample_db[0]), "--as-of", AS_OF, "--format", fmt],
        env={"COLUMNS": str(columns)},
    )
    assert res.exit_code == 0, res.output
    assert res.stderr == ""
    return res.stdout


def _headers(args: list[str], sample_db: tuple[Path, Any]) -> list[list[str]]:
    """The column names of each table a command prints, from its csv output (trends prints two tables)."""
    out = _run(sample_db, args, 80, "csv")
    return [next(csv.reader(io.StringIO(part))) for part in out.split("\n\n") if part.strip()]


@pytest.mark.parametrize("columns", [80, 200])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_tables_fit_the_terminal(command: str, columns: int, sample_db: tuple[Path, Any]) -> None:
    out = _run(sample_db, COMMANDS[command], columns)
    lines = out.splitlines()
    assert len(lines) > 5
    too_wide = [ln for ln in lines if text_width(ln) > columns]
    assert not too_wide, too_wide[:3]
    # every column is shown, its name whole, in a header line (a wide table is split into blocks)
    words = {w for ln in lines for w in ln.split()}
    for header in _headers(COMMANDS[command], sample_db):
        missing = [h for h in header if not set(h.split()) <= words and not h.endswith("_pct")]
        assert not missing, missing
    # no whole number printed with decimals (guideline versions such as "1.0" and "2.0" are names, not numbers)
    numbers = re.sub(r"(?<!\S)[123]\.0(?!\S)", "", out) if "version" in words else out
    assert not re.search(r"(?<![\w.])-?\d+\.0+(?![\w.])", numbers), re.findall(r"\S*\d+\.0+\b", numbers)[:5]


def test_due_cuts_long_text_at_80_columns_and_csv_json_keep_it(sample_db: tuple[Path, Any]) -> None:
    narrow = _run(sample_db, COMMANDS["due"], 80)
    wide = _run(sample_db, COMMANDS["due"], 200)
    rows = json.loads(_run(sample_db, COMMANDS["due"], 80, "json"))
    longest = max((r["summary"] for r in rows), key=len)
    assert len(longest) > 40  # synthetic summaries are long enough to need cutting at 80 columns
    assert "…" in narrow and longest not in narrow
    assert longest in _run(sample_db, COMMANDS["due"], 80, "csv")
    cut = [ln for ln in narrow.splitlines() if "…" in ln]
    assert cut and all(text_width(ln) <= 80 for ln in cut)

    def shown(out: str) -> int:  # how much of the longest summary a table shows before its "…"
        return max(k for k in range(len(longest) + 1) if longest[:k] + "…" in out or longest[:k] in out)

    # a wider terminal shows more of the text
    assert 0 < shown(narrow) < shown(wide)


def test_due_at_200_columns_is_one_row_per_item_aligned(sample_db: tuple[Path, Any]) -> None:
    out = _run(sample_db, COMMANDS["due"], 200)
    rows = json.loads(_run(sample_db, COMMANDS["due"], 200, "json"))
    lines = out.splitlines()
    assert len(lines) == len(rows) + 1  # a header and one line per item: one block
    header = lines[0]
    # bug ids and days_overdue are numbers: right-aligned under their header's right edge
    for name in ("bug_id", "days_overdue"):
        start = header.index(name)
        end = start + len(name)
        for ln in lines[1:]:
            cells = [t for t in re.finditer(r"\S+", ln) if start < t.end() <= end]
            assert len(cells) == 1 and re.fullmatch(r"-?\d+(\.\d)?", cells[0].group()), (name, ln)
            # at the right edge, or two short when whole (so that the decimal points line up)
            assert cells[0].end() == end or (cells[0].end() == end - 2 and "." not in cells[0].group()), ln
    # text is left-aligned: each status starts where its header starts
    start = header.index("status")
    assert all(ln[start] != " " and ln[start - 1] == " " for ln in lines[1:])
    # whole days print without decimals (2876.0 was the complaint): compare with the json values
    shown = [ln[: header.index("days_overdue") + len("days_overdue")].split()[-1] for ln in lines[1:]]
    assert any("." not in c for c in shown) and any("." in c for c in shown)
    for cell, row in zip(shown, rows, strict=True):
        v = row["days_overdue"]
        assert cell == (str(int(round(v))) if round(v, 1).is_integer() else f"{v:.1f}"), (cell, v)


def test_render_by_hand() -> None:
    df = pd.DataFrame(
        {
            "name": ["Alpha CA", "Ünïcode 認証局 with a long name that needs cutting", "line\nbreak", None],
            "bugs": pd.array([3, None, 12, 7], dtype="Int64").astype("float"),  # nullable ints made floats
            "share": [0.25, 1.0, None, 0.333],
            "note": ["short", "x" * 100, "", "tab\there"],
        }
    )
    out = render(df, width=60)
    lines = out.splitlines()
    assert all(text_width(ln) <= 60 for ln in lines), out
    assert lines[0].split() == ["name", "bugs", "share", "note"]
    assert lines[1].startswith("Alpha CA ") and lines[1].split()[2:5] == ["3", "0.2", "short"]
    assert "3.0" not in out and "12.0" not in out and "7.0" not in out
    assert re.search(r"… +- +1 +x+…$", lines[2])  # the long name and note cut, a missing number
    assert "line break" in lines[3] and "tab here" in lines[4]  # newlines and tabs never break a row
    # numbers right-aligned: "bugs" ends where 3, -, 12, 7 end; 1.0 prints as 1 with its decimal point aligned
    end = lines[0].index("bugs") + len("bugs")
    plain = [lines[1], lines[3], lines[4]]  # line 2 has wide characters: string index is not the column there
    assert [ln[end - 2 : end] for ln in plain] == [" 3", "12", " 7"]
    share_end = lines[0].index("share") + len("share")
    assert [ln[share_end - 3 : share_end] for ln in plain] == ["0.2", "  -", "0.3"]
    assert re.search(r" 1    x", lines[2])  # 1.0 as 1, two short of the column's edge, then the gap


def test_a_table_too_wide_is_split_into_blocks_repeating_the_first_column() -> None:
    df = pd.DataFrame(
        {"ca": ["Kestrel Trust Services", "Lumen"], **{f"figure_number_{i}": [i, i * 2] for i in range(8)}}
    )
    out = render(df, width=80)
    blocks = out.split("\n\n")
    assert len(blocks) > 1
    for b in blocks:
        first, *rows = b.splitlines()
        assert first.startswith("ca ") and rows[0].startswith("Kestrel Trust Services")
        assert all(text_width(ln) <= 80 for ln in b.splitlines())
    assert sum(b.splitlines()[0].count("figure_number_") for b in blocks) == 8
    assert render(df, width=400).count("\n\n") == 0


@pytest.mark.parametrize(
    ("args", "frame"),
    [
        (["scorecard", "--all"], "scorecard"),
        (["due", "--days", "30", "--include-private"], "due"),
        (["trends", "--by", "ca", "--period", "quarter"], "trends"),
        (["trends", "--by", "rule"], "trends-rule"),
    ],
)
def test_the_table_path_prints_what_the_dataframe_api_gives_without_loading_pandas(
    sample_db: tuple[Path, Any], args: list[str], frame: str
) -> None:
    """scorecard and due print their tables from plain rows (bzmine.metrics.Rows): the same text as the notebook
    API's DataFrame rendered by the same printer, and pandas is never imported (a fifth of a second per command)."""
    import subprocess
    import sys

    from bzmine import metrics
    from bzmine.cli.common import clean_table
    from bzmine.database import open_for_reading

    code = (
        "import sys; from bzmine.cli import cli\n"
        "try:\n    cli(sys.argv[1:])\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "assert 'pandas' not in sys.modules, 'pandas was imported'\n"
    )
    env = {"COLUMNS": "400", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code, *args, "--db", str(sample_db[0]), "--as-of", AS_OF],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    con = open_for_reading(sample_db[0])
    try:
        if "--include-private" in args:
            metrics.include_private(con)
        if frame == "scorecard":
            df = metrics.scorecard(con, AS_OF)
            want = render(clean_table(df[[c for c in df.columns if not c.endswith("_pct")]]), width=400)
        elif frame == "due":
            df = metrics.due(con, AS_OF, 30)
            want = render(clean_table(df), width=400)
        else:
            by, period = ("rule", "year") if frame == "trends-rule" else ("ca", "quarter")
            df = metrics.trends(con, AS_OF, period, by).reset_index()
            per_year = metrics.yearly(con, AS_OF)
            want = render(clean_table(df), width=400, floatfmt="{:.0f}") + "\n\n"
            want += render(clean_table(per_year), width=400, floatfmt="{:.2f}")
    finally:
        con.close()
    assert len(df) > 0
    assert out.stdout == want + "\n"
