"""Date forms seen in whiteboards, timelines and action-item tables.

Ambiguous numeric dates follow one documented rule (docs/parsing.md):
- `D.M.YYYY` (dots) is day-first, as written in Europe (`23.2.2024` is 23 February);
- `A-B-YYYY` or `A/B/YYYY` is month-first (`3-1-2023` is 1 March 2023), unless A > 12, then day-first;
- `YYYY-MM-DD`, `YYYY/MM/DD`, `D-Mon-YYYY`, `YYYY-Mon-D`, `Mon D, YYYY` and `D Month YYYY` are unambiguous.

Times are converted to UTC with the zone the text declares (METRICS.md §10, "Timeline times"): a numeric offset
(`UTC+2`, `GMT-07:00`, `+09:00` right after the time, `Z`) or an abbreviation from `ZONES`, a small explicit table of
the abbreviations CAs write, with fixed offsets (a summer-time abbreviation names its own offset, so no tz database
is needed). `CST` and `IST` name several zones (US Central / China, India / Ireland): they count as no declared
zone. A time with no declared zone is kept as UTC and flagged `zone_assumed`; a date with no time is midnight UTC,
flagged `date_only`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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
TIME_RE = re.compile(
    r"(?<![\d:.])(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)(?::(?P<s>[0-5]\d)(?:\.\d+)?)?(?![\d:])"
    r"(?:\s?(?P<ampm>[ap]\.?m\.?)(?![a-z]))?",
    re.IGNORECASE,
)
OFFSET_RE = re.compile(
    r"\b(?:UTC|GMT)\s*(?P<sign>[+\-\u2212])\s*(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?(?!\d)", re.IGNORECASE
)
# a bare offset is only an offset right after a time: "10:00+09:00", "10:00 -0700"
_BARE_OFFSET = re.compile(r"^\s?(?P<sign>[+\-\u2212])(?P<h>[01]\d|\d)(?::?(?P<m>[0-5]\d))?(?!\d)")
# Zone abbreviations with their UTC offset in minutes. Written out because Python has no abbreviation table and the
# tz database maps abbreviations to places, not offsets; a summer-time abbreviation (CEST, PDT) is its own offset.
ZONES: dict[str, int] = {
    "UTC": 0,
    "GMT": 0,
    "WET": 0,
    "WEST": 60,
    "BST": 60,
    "CET": 60,
    "MET": 60,
    "CEST": 120,
    "MEST": 120,
    "EET": 120,
    "EEST": 180,
    "MSK": 180,
    "TRT": 180,
    "GST": 240,
    "PKT": 300,
    "ICT": 420,
    "WIB": 420,
    "SGT": 480,
    "HKT": 480,
    "AWST": 480,
    "PHT": 480,
    "KST": 540,
    "JST": 540,
    "ACST": 570,
    "AEST": 600,
    "AEDT": 660,
    "NZST": 720,
    "NZDT": 780,
    "BRT": -180,
    "ART": -180,
    "AST": -240,
    "EDT": -240,
    "EST": -300,
    "CDT": -300,
    "MDT": -360,
    "MST": -420,
    "PDT": -420,
    "PST": -480,
    "AKDT": -480,
    "AKST": -540,
    "HST": -600,
}
AMBIGUOUS_ZONES = {"CST", "IST"}
ZONE_WORD = re.compile(
    r"(?<![A-Za-z])(?P<z>"
    + "|".join(sorted({*ZONES, *AMBIGUOUS_ZONES}, key=len, reverse=True))
    + r")(?![A-Za-z])"
)


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


@dataclass(frozen=True)
class Zone:
    """A zone a text declares: as written, and its offset from UTC in minutes (None: ambiguous, e.g. CST)."""

    raw: str
    offset_minutes: int | None
    numeric: bool  # written as an offset (UTC+2, +09:00, Z) rather than only an abbreviation (PST)


@dataclass(frozen=True)
class Stamp:
    """A timeline time in UTC and how it was read (METRICS.md §10)."""

    at: datetime
    zone: Zone | None  # the zone applied (the entry's own, else the blanket one), None when none was declared
    zone_assumed: bool  # a time with no usable declared zone: kept as UTC
    date_only: bool  # a date with no time: midnight UTC


def _offset(sign: str, h: str, m: str | None) -> int | None:
    minutes = int(h) * 60 + int(m or 0)
    if minutes > 14 * 60:
        return None
    return -minutes if sign in "-\u2212" else minutes


def find_zone(text: str) -> Zone | None:
    """The zone declared anywhere in a short text ("All times are CEST (UTC+2)", "(PST)", "UTC"): a numeric
    offset wins over an abbreviation written beside it."""
    off = OFFSET_RE.search(text)
    if off:
        mins = _offset(off["sign"], off["h"], off["m"])
        if mins is not None:
            return Zone(off.group(0).strip(), mins, True)
    z = ZONE_WORD.search(text)
    if z:
        word = z["z"]
        if word in AMBIGUOUS_ZONES:
            return Zone(word, None, False)
        return Zone(word, ZONES[word], word in ("UTC", "GMT"))
    return None


def _zone_after_time(text: str, end: int) -> Zone | None:
    """The zone written right after a time: "+09:00", "Z", " UTC+2", " (CEST)", " PST:"."""
    tail = text[end : end + 28]
    if tail[:1] in ("Z", "z") and not tail[1:2].isalpha():
        return Zone("Z", 0, True)
    bare = _BARE_OFFSET.match(tail)
    if bare:
        mins = _offset(bare["sign"], bare["h"], bare["m"])
        if mins is not None:
            return Zone(bare.group(0).strip(), mins, True)
    lead = re.match(r"^[\s(\[,]*", tail)
    at = lead.end() if lead else 0
    off = OFFSET_RE.match(tail, at)
    if off:
        mins = _offset(off["sign"], off["h"], off["m"])
        if mins is not None:
            return Zone(off.group(0).strip(), mins, True)
    z = ZONE_WORD.match(tail, at)
    if z is None:
        return None
    word = z["z"]
    if word in AMBIGUOUS_ZONES:
        return Zone(word, None, False)
    # "PST (UTC-8)": the offset written beside the abbreviation
    gap = re.match(r"[\s(\[/,]*", tail[z.end() :])
    beside = OFFSET_RE.match(tail, z.end() + (gap.end() if gap else 0))
    if beside and (mins := _offset(beside["sign"], beside["h"], beside["m"])) is not None:
        return Zone(f"{word} {beside.group(0).strip()}", mins, True)
    return Zone(word, ZONES[word], word in ("UTC", "GMT"))


def parse_stamp(
    text: str, default_date: date | None = None, default_zone: Zone | None = None
) -> Stamp | None:
    """A date (or default_date), an optional time and zone in text -> a Stamp in UTC; None without a date.

    The zone is the one written after the time, else default_zone (a blanket "All times are ..." line); a time with
    neither, or with an ambiguous abbreviation, is kept as UTC and flagged zone_assumed."""
    d, m = find_date(text)
    if d is None:
        d = default_date
    if d is None:
        return None
    if m:
        t = TIME_RE.search(text, m.end())
        if t is None:  # "10:00 UTC on 2025-03-04": a time before the date
            t = TIME_RE.search(text[: m.start()])
    else:
        t = TIME_RE.match(text.strip())
        text = text.strip()
    if t is None:
        return Stamp(datetime(d.year, d.month, d.day, tzinfo=timezone.utc), None, False, True)
    hh, mm, ss = int(t["h"]), int(t["m"]), int(t["s"] or 0)
    ampm = (t["ampm"] or "").lower().replace(".", "")
    if ampm == "pm" and hh < 12:
        hh += 12
    elif ampm == "am" and hh == 12:
        hh = 0
    dt = datetime(d.year, d.month, d.day, hh, mm, ss, tzinfo=timezone.utc)
    zone = _zone_after_time(text, t.end()) or default_zone
    if zone is None or zone.offset_minutes is None:
        return Stamp(dt, zone, True, False)
    return Stamp(dt - timedelta(minutes=zone.offset_minutes), zone, False, False)


def parse_timestamp(text: str, default_date: date | None = None) -> datetime | None:
    """A date (or default_date) plus an optional time and zone in text -> aware UTC datetime."""
    st = parse_stamp(text, default_date)
    if st is None:
        return None
    if st.zone is None and not st.date_only:  # an offset written anywhere in a one-line value still counts
        z = find_zone(text)
        if z is not None and z.offset_minutes is not None:
            return st.at - timedelta(minutes=z.offset_minutes)
    return st.at
