"""Summary -> CA: the prefix before the first colon, normalised through an alias table (METRICS.md §2)."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

_SUFFIXES = {
    "inc", "incorporated", "ltd", "limited", "llc", "gmbh", "ag", "sa", "s a", "as", "a s", "ab", "bv", "nv", "plc",
    "co", "corp", "corporation", "company", "srl", "spa", "sl", "kk", "oy", "sas", "pte", "pty", "se",
}  # fmt: skip


@dataclass(frozen=True)
class CaName:
    raw: str | None  # the prefix as written (trimmed), None when the summary has no colon
    key: str | None  # normalised comparison key
    name: str | None  # canonical name from the alias table, else None (the caller picks a display name)


def ca_key(text: str) -> str:
    """Case, accents, punctuation, legal suffixes and spacing folded away: `Acme Trust Ltd.` -> `acmetrust`."""
    t = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    t = t.replace("&", " and ").replace("'", "").replace("\u2019", "")
    t = re.sub(r"[^a-z0-9]+", " ", t).strip()
    words = t.split()
    while len(words) > 1 and (words[-1] in _SUFFIXES or " ".join(words[-2:]) in _SUFFIXES):
        words = words[:-2] if " ".join(words[-2:]) in _SUFFIXES else words[:-1]
    return "".join(words)


def load_aliases(user_file: str | Path | None = None) -> dict[str, str]:
    """key -> canonical name: the shipped table, then the user's file (which wins)."""
    text = resources.files("bzmine").joinpath("data/ca_aliases.json").read_text(encoding="utf-8")
    table: dict[str, list[str]] = json.loads(text)["aliases"]
    if user_file:
        table.update(json.loads(Path(user_file).read_text(encoding="utf-8")).get("aliases", {}))
    out: dict[str, str] = {}
    for canonical, spellings in table.items():
        for s in [canonical, *spellings]:
            out[ca_key(s)] = canonical
    return out


def parse_ca(summary: str | None, aliases: dict[str, str]) -> CaName:
    """The CA a bug is about, from its summary (`"certSIGN: Delayed response"` -> certSIGN)."""
    if not summary or ":" not in summary:
        return CaName(None, None, None)
    raw = " ".join(summary.split(":", 1)[0].split())
    if not raw or len(raw) > 80:
        return CaName(None, None, None)
    key = ca_key(raw)
    if not key:
        return CaName(None, None, None)
    return CaName(raw, key, aliases.get(key))
