"""Whiteboard -> tags, next-update date, close-on date and the free text left over.

Tolerates the irregular forms of real bugs: `[disclosure failure]` and `[ca compliance]` (spaces
for hyphens), a missing opening bracket (`audit-finding]`), `Next update 31-Oct-2023`,
`Next update 2023-Oct-27`, `Next update 3-1-2023`, `Next update at 23.2.2024`, `[close on YYYY-MM-DD]`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from bzmine.parse.dates import DATE_RE, match_to_date

_BRACKET = re.compile(r"\[([^\[\]]*)\]")
_OPEN_MISSING = re.compile(r"(?:(?<=\s)|^)([A-Za-z][A-Za-z0-9 _-]{1,40}?)\]")
_NEXT = re.compile(r"next[\s_-]*update\s*(?:at|on|by|:)?\s*", re.IGNORECASE)
_CLOSE = re.compile(r"^close[\s_-]*on\s*", re.IGNORECASE)


@dataclass
class Whiteboard:
    tags: list[str] = field(default_factory=list)
    next_update: date | None = None
    next_update_raw: str | None = None
    close_on: date | None = None
    free_text: str = ""


def normalise_tag(text: str) -> str:
    return re.sub(r"[\s_]+", "-", text.strip().lower()).strip("-")


def parse_whiteboard(text: str | None) -> Whiteboard:
    """Parse one whiteboard value (never raises)."""
    wb = Whiteboard()
    if not text:
        return wb
    rest = text
    # "Next update <date>" may sit inside or outside brackets
    m = _NEXT.search(rest)
    if m:
        dm = DATE_RE.match(rest, m.end())
        if dm and (d := match_to_date(dm)):
            wb.next_update = d
            wb.next_update_raw = rest[m.start() : dm.end()]
            rest = rest[: m.start()] + rest[dm.end() :]
    tags: list[str] = []

    def take(match: re.Match[str]) -> str:
        inner = match.group(1)
        cm = _CLOSE.match(inner)
        if cm:
            dm = DATE_RE.search(inner, cm.end())
            if dm and (d := match_to_date(dm)):
                wb.close_on = d
            return " "
        tag = normalise_tag(inner)
        if tag:
            tags.append(tag)
        return " "

    rest = _BRACKET.sub(take, rest)
    rest = _OPEN_MISSING.sub(take, rest)
    wb.tags = list(dict.fromkeys(tags))
    wb.free_text = " ".join(rest.replace("[]", " ").split())
    return wb
