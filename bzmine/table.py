"""Terminal tables that fit the terminal: the CLI's `--format table`.

pandas' `to_string` right-aligns text, prints nullable integers as floats (`2876.0`) and runs past the terminal. Here
text is left-aligned and numbers right-aligned; whole numbers print without decimals (a column's decimals stay
aligned); long text is cut with "…" so that every line fits `width` (the terminal's, or `COLUMNS`); a table too wide
even then is split into blocks of columns, each repeating the first column. The full text is in `--format csv|json`.
No library: the rules are these few, and the output must not change with a dependency's release.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import shutil
import sys
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from numbers import Number
from typing import Any

MIN_TEXT = (
    10  # a text column is never cut narrower than this (or its header, or its longest value if shorter)
)
GAP = "  "
ELLIPSIS = "…"
_WHOLE = re.compile(r"^-?\d+(\.0*)?$")
_NUMERIC_TEXT = re.compile(r"^[-+]?\d[\d,]*(\.\d+)?%?$")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def terminal_width() -> int:
    """The terminal's width (`COLUMNS` first; 80 when output goes to a pipe or file)."""
    return max(20, shutil.get_terminal_size((80, 24)).columns)


@functools.cache
def _char_width(c: str) -> int:
    return 0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1


def text_width(s: str) -> int:
    """Columns a string takes on a terminal: wide East Asian characters take two, combining marks none."""
    if s.isascii():
        return len(s)
    # every ASCII character takes one column: only the others are looked up (`due` prints 22,000 rows at 100,000 bugs)
    return len(s) + sum(_char_width(c) - 1 for c in _NON_ASCII.findall(s))


def cut(s: str, width: int) -> str:
    """s cut to `width` terminal columns, ending in "…" when anything was left out."""
    if text_width(s) <= width:
        return s
    if s.isascii():  # one column per character
        return s[: max(0, width - 1)] + ELLIPSIS
    out, used = [], 0
    for c in s:
        w = _char_width(c)
        if used + w > width - 1:
            break
        out.append(c)
        used += w
    return "".join(out) + ELLIPSIS


def _pad(s: str, width: int, right: bool) -> str:
    fill = " " * max(0, width - text_width(s))
    return fill + s if right else s + fill


@dataclass
class _Column:
    header: str
    cells: list[str]
    numeric: bool
    width: int  # of the table
    whole: bool = False  # times: never cut

    @cached_property
    def cell_widths(self) -> list[int]:
        """Each cell's terminal width (computed once: layout and every line need them)."""
        return [
            len(c) if c.isascii() else text_width(c) for c in self.cells
        ]  # text_width, without a call per cell

    @cached_property
    def natural(self) -> int:
        """The widest cell or the header (computed once: layout asks for it many times)."""
        return max([text_width(self.header), *self.cell_widths])

    def fitted(self, w: int) -> list[str]:
        """Every cell cut and padded to w columns: _pad(cut(cell, w), w, numeric), each cell measured once."""
        out, widths = [], []
        short = max(0, w - 1)
        for s, sw in zip(self.cells, self.cell_widths, strict=True):
            if sw <= w:
                out.append(s)
                widths.append(sw)
            elif s.isascii():  # cut(s, w) without measuring s again: its first w - 1 characters and "…"
                out.append(s[:short] + ELLIPSIS)
                widths.append(short + 1)
            else:
                out.append(cut(s, w))
                widths.append(text_width(out[-1]))
        # " " * n is "" for n <= 0
        if self.numeric:
            return [" " * (w - sw) + s for s, sw in zip(out, widths, strict=True)]
        return [s + " " * (w - sw) for s, sw in zip(out, widths, strict=True)]

    @cached_property
    def minimum(self) -> int:
        """Numbers are never cut; nor are identifiers (rule ids, statuses, dates: no value has a space) unless longer
        than half the width; prose is cut down to MIN_TEXT."""
        if self.numeric:
            return self.natural
        if self.whole or not any(" " in c for c in self.cells):
            return min(self.natural, max(self.width // 2, text_width(self.header)))
        return min(self.natural, max(MIN_TEXT, text_width(self.header)))


def _is_na(v: Any) -> bool:
    t = type(v)
    if t is str or t is int:  # most cells (the CLI's Rows hold plain Python values)
        return False
    if t is float:
        return v != v
    if v is None or (isinstance(v, float) and v != v):
        return True
    pd = sys.modules.get("pandas")  # pandas' own missing values only occur where pandas made the values
    if pd is None:
        return False
    if v is pd.NaT:  # a datetime subclass
        return True
    if isinstance(v, (str, int, float, list, tuple, dt.date)):
        return False
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):  # lists and arrays
        return False


def _is_number(v: Any) -> bool:
    return isinstance(v, Number) and not isinstance(v, bool)


def _numbers(values: list[Any], floatfmt: str, na: str, missing: list[bool] | None = None) -> list[str]:
    """Each number with floatfmt, whole ones (2876.0, a nullable integer pandas made a float) without decimals;
    these are padded so that the column's decimal points line up. missing: _is_na of each value, if known."""
    out = []
    decimals = 0
    for v, gone in zip(values, missing or [_is_na(v) for v in values], strict=True):
        if gone:
            out.append(na)
            continue
        s = floatfmt.format(v) if isinstance(v, float) and math.isfinite(v) else str(v)
        if _WHOLE.match(s):
            s = s.split(".")[0]
            s = "0" if s == "-0" else s
        elif "." in s:
            decimals = max(decimals, len(s) - s.index("."))
        out.append(s)
    if decimals:
        out = [x + " " * decimals if x != na and "." not in x else x for x in out]
    return out


def _text(v: Any) -> str:
    if type(v) is str:  # most cells: the checks below are for other types
        return " ".join(v.split())
    pd, np = sys.modules.get("pandas"), sys.modules.get("numpy")
    if pd is not None and isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d") if v == v.normalize() else v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v.isoformat()
    if np is not None and isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, (list, tuple)):
        v = ", ".join(str(x) for x in v)
    return " ".join(str(v).split())  # newlines and tabs in bug text would break the rows


def _column(name: Any, values: list[Any], floatfmt: str, na: str, width: int) -> _Column:
    missing = [_is_na(v) for v in values]  # once per value
    present = [v for v, gone in zip(values, missing, strict=True) if not gone]
    if present and all(_is_number(v) for v in present):
        return _Column(_text(name), _numbers(values, floatfmt, na, missing), True, width)
    cells = [na if gone else _text(v) for v, gone in zip(values, missing, strict=True)]
    numeric = bool(present) and all(
        _NUMERIC_TEXT.match(c) for c, gone in zip(cells, missing, strict=True) if not gone
    )
    times = bool(present) and all(isinstance(v, dt.date) for v in present)  # pandas' Timestamp is a datetime
    return _Column(_text(name), cells, numeric, width, times)


def _key_width(key: _Column, width: int) -> int:
    """The first column is the rows' name: whole up to a third of the width, and as wide in every block."""
    return key.natural if key.numeric else min(key.natural, max(key.minimum, width // 3))


def _blocks(cols: list[_Column], width: int) -> list[list[_Column]]:
    """Columns in blocks that fit `width` at their minimum widths; every block after the first repeats column 0."""
    key, rest = cols[0], cols[1:]
    blocks: list[list[_Column]] = [[key]]
    for c in rest:
        block = blocks[-1]
        used = _key_width(key, width) + sum(x.minimum + len(GAP) for x in block[1:]) + len(GAP)
        if used + c.minimum <= width or len(block) == 1:
            block.append(c)
        else:
            blocks.append([key, c])
    return blocks


def _widths(block: list[_Column], width: int) -> list[int]:
    """The key as wide as in every block; numbers keep their width; the other text columns share what is left,
    short ones whole, long ones cut to one cap."""
    key, rest = block[0], block[1:]
    first = _key_width(key, width)
    budget = width - first - len(GAP) * len(rest) - sum(c.natural for c in rest if c.numeric)
    text = [c for c in rest if not c.numeric]

    def total(cap: int) -> int:
        return sum(min(c.natural, max(cap, c.minimum)) for c in text)

    lo, hi = 0, max([c.natural for c in text], default=0)
    while lo < hi:  # the largest cap that fits
        mid = (lo + hi + 1) // 2
        if total(mid) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return [first] + [c.natural if c.numeric else min(c.natural, max(lo, c.minimum)) for c in rest]


def render(df: Any, width: int | None = None, floatfmt: str = "{:.1f}", na: str = "-") -> str:
    """df (a DataFrame, or anything with `columns` and `rows`: bzmine.metrics.Rows) as a text table no wider than
    `width` (default: the terminal's), without its index."""
    width = width or terminal_width()
    if hasattr(df, "iloc"):
        values = [df.iloc[:, i].tolist() for i in range(len(df.columns))]
    else:
        values = [list(c) for c in zip(*df.rows, strict=True)] if df.rows else [[] for _ in df.columns]
    cols = [_column(name, values[i], floatfmt, na, width) for i, name in enumerate(df.columns)]
    if not cols:
        return ""
    parts = []
    for block in _blocks(cols, width):
        widths = _widths(block, width)
        lines = [
            GAP.join(
                _pad(cut(c.header, w), w, c.numeric) for c, w in zip(block, widths, strict=True)
            ).rstrip()
        ]
        cells = [
            c.fitted(w) for c, w in zip(block, widths, strict=True)
        ]  # column by column, then joined by row
        lines += [GAP.join(row).rstrip() for row in zip(*cells, strict=True)]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)
