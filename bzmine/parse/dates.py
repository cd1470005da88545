"""Date forms seen in whiteboards, timelines and action-item tables.

Ambiguous numeric dates follow one documented rule (docs/parsing.md):
- `D.M.YYYY` (dots) is day-first, as written in Europe (`23.2.2024` is 23 February);
- `A-B-YYYY` or `A/B/YYYY` is month-first (`3-1-2023` is 1 March 2023), unless A > 12, then day-first;
- `YYYY-MM-DD`, `YYYY/MM/DD`, `D-Mon-YYYY`, `YYYY-Mon-D`, `Mon D, YYYY` and `D Month YYYY` are unambiguous.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_MON = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"

DATE_RE = re.compile(
    r"(?P<iso>(?P<y1>\d{4})[-/](?P<m1>\d{1,2})[-/](?P<d1>\d{1,2}))(?!\d)"
    rf"|(?P<dmy>(?P<d2>\d{{1,2}})[- ](?P<mon2>{_MON})[- ,]*(?P<y2>\d{{4}}))"
    rf"|(?P<ymd>(?P<y3>\d{{4}})-(?P<mon3>{_MON})-(?P<d3>\d{{1,2}}))"
    rf"|(?P<mdy>(?P<mon4>{_MON}) (?P<d4>\d{{1,2}})(?:st|nd|rd|th)?,? (?P<y4>\d{{4}}))"
    r"|(?P<dot>(?<![\d.])(?P<d5>\d{1,2})\.(?P<m5>\d{1,2})\.(?P<y5>\d{4}))"
    r"|(?P<num>(?<![\d-])(?P<a6>\d{1,2})[-/](?P<b6>\d{1,2})[-/](?P<y6>\d{4}))",
    re.IGNORECASE,
)
TIME_RE = re.compile(r"(?<!\d)(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)(?::(?P<s>[0-5]\d))?(?!\d)")
OFFSET_RE = re.compile(r"\b(?:UTC|GMT)\s*(?P<sign>[+-])\s*(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?\b", re.IGNORECASE)


def _mon(text: str) -> int:
    return MONTHS[text[:3].lower()]


def _mk(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def match_to_date(m: re.Match[str]) -> date | None:
    g = m.groupdict()
    if g["iso"]:
        return _mk(int(g["y1"]), int(g["m1"]), int(g["d1"]))
    if g["dmy"]:
        return _mk(int(g["y2"]), _mon(g["mon2"]), int(g["d2"]))
    if g["ymd"]:
        return _mk(int(g["y3"]), _mon(g["mon3"]), int(g["d3"]))
    if g["mdy"]:
        return _mk(int(g["y4"]), _mon(g["mon4"]), int(g["d4"]))
    if g["dot"]:
        return _mk(int(g["y5"]), int(g["m5"]), int(g["d5"]))
    if g["num"]:
        a, b, y = int(g["a6"]), int(g["b6"]), int(g["y6"])
        return _mk(y, b, a) if a > 12 else _mk(y, a, b)
    return None


def find_date(text: str) -> tuple[date | None, re.Match[str] | None]:
    """The first date in text (and its match), or (None, None)."""
    for m in DATE_RE.finditer(text):
        d = match_to_date(m)
        if d is not None:
            return d, m
    return None, None


def parse_date(text: str | None) -> date | None:
    if not text:
        return None
    return find_date(text)[0]


def parse_timestamp(text: str, default_date: date | None = None) -> datetime | None:
    """A date (or default_date) plus an optional time and UTC offset in text -> aware UTC datetime."""
    d, m = find_date(text)
    rest = text[m.end() :] if m else text
    if d is None:
        d = default_date
    if d is None:
        return None
    t = TIME_RE.search(rest) if m else TIME_RE.match(text.strip())
    hh, mm, ss = (int(t["h"]), int(t["m"]), int(t["s"] or 0)) if t else (0, 0, 0)
    dt = datetime(d.year, d.month, d.day, hh, mm, ss, tzinfo=timezone.utc)
    off = OFFSET_RE.search(text)
    if off and t:
        delta = timedelta(hours=int(off["h"]), minutes=int(off["m"] or 0))
        dt = dt - delta if off["sign"] == "+" else dt + delta
    return dt
