"""Summary -> who the bug is about: the CA as filed, its CCADB owner, a sub-CA, or an auditor/program/meta subject.

METRICS.md §2 and docs/ca-identity.md. Pure: the owner table is loaded once and passed in.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from bzmine.errors import ConfigError

_SUFFIXES = {
    "inc",
    "incorporated",
    "ltd",
    "limited",
    "llc",
    "gmbh",
    "ag",
    "sa",
    "s a",
    "as",
    "a s",
    "ab",
    "bv",
    "nv",
    "plc",
    "co",
    "corp",
    "corporation",
    "company",
    "srl",
    "spa",
    "sl",
    "kk",
    "oy",
    "sas",
    "pte",
    "pty",
    "se",
}
SUBJECT_KINDS = ("ca", "auditor", "program", "meta", "unknown")
_DASH_PREFIX = re.compile(r"^\s*(.{2,60}?)\s+[-\u2013\u2014]\s+\S")


@dataclass(frozen=True)
class CaName:
    raw: str | None  # the prefix as written (trimmed), None when the summary names no subject
    key: str | None  # normalised comparison key of raw
    name: str | None  # filed name from the owner table (canonical spelling), else None
    owner: str | None = (
        None  # CCADB owner from the table, else None (the caller falls back to the filed name)
    )
    sub_ca: str | None = None  # "Parent / Sub: ..." -> Sub; a listed subordinate CA
    subject_kind: str = "unknown"  # ca | auditor | program | meta | unknown


@dataclass
class CaTable:
    """The owner table: filed names and spellings, owners, subordinates, auditors, subject patterns."""

    names: dict[str, str] = field(default_factory=dict)  # key -> filed name
    owner_of: dict[str, str] = field(default_factory=dict)  # filed name -> owner
    subordinates: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (sub-CA name, owner)
    auditors: list[list[str]] = field(default_factory=list)  # word sequences
    program: list[re.Pattern[str]] = field(default_factory=list)
    meta: list[re.Pattern[str]] = field(default_factory=list)
    owners: list[dict[str, Any]] = field(default_factory=list)  # the raw entries (status and events)

    def lookup(self, text: str) -> tuple[str, str | None, str | None] | None:
        """(filed name, owner, sub-CA) for a name as written, or None when the table does not know it."""
        key = ca_key(text)
        if key in self.names:
            name = self.names[key]
            return name, self.owner_of.get(name), None
        if key in self.subordinates:
            sub, owner = self.subordinates[key]
            return sub, owner, sub
        return None


def _fold(text: str) -> str:
    t = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return t.replace("&", " and ").replace("'", "").replace("\u2019", "")


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", _fold(text))


def ca_key(text: str) -> str:
    """Case, accents, punctuation, legal suffixes and spacing folded away: `Acme Trust Ltd.` -> `acmetrust`."""
    words = _words(text)
    while len(words) > 1 and (words[-1] in _SUFFIXES or " ".join(words[-2:]) in _SUFFIXES):
        words = words[:-2] if " ".join(words[-2:]) in _SUFFIXES else words[:-1]
    return "".join(words)


def _add_table(table: CaTable, data: dict[str, Any], where: str) -> None:
    owners = data.get("owners", [])
    if not isinstance(owners, list):
        raise ConfigError(
            f"{where}: 'owners' must be a list of objects like those in bzmine/data/ca_owners.json"
        )
    for n, entry in enumerate(owners, 1):
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("owner"), str)
            or not entry["owner"].strip()
        ):
            raise ConfigError(f"{where}: owners entry {n} needs an 'owner' name (a string)")
        owner = entry["owner"].strip()
        names = entry.get("names") or {owner: []}
        subs = entry.get("subordinates") or {}
        if not isinstance(names, dict) or not isinstance(subs, dict):
            raise ConfigError(
                f"{where}: owners entry {n} ({owner}): 'names' and 'subordinates' must map a name to a list of spellings"
            )
        for filed, spellings in names.items():
            if not isinstance(spellings, list) or not all(isinstance(s, str) for s in spellings):
                raise ConfigError(
                    f"{where}: owners entry {n} ({owner}): spellings of {filed!r} must be a list of strings"
                )
            table.owner_of[filed] = owner
            for s in [filed, *spellings]:
                table.names[ca_key(s)] = filed
        for sub, spellings in subs.items():
            if not isinstance(spellings, list):
                raise ConfigError(
                    f"{where}: owners entry {n} ({owner}): spellings of subordinate {sub!r} must be a list"
                )
            for s in [sub, *spellings]:
                table.subordinates[ca_key(s)] = (sub, owner)
        lineage = entry.get("lineage") or {}
        if not isinstance(lineage, dict) or not all(
            isinstance(v, dict) and isinstance(v.get("events") or [], list) for v in lineage.values()
        ):
            raise ConfigError(
                f"{where}: owners entry {n} ({owner}): 'lineage' must map a filed name to "
                '{"status": ..., "events": [...]}'
            )
        table.owners.append(entry)
    # the older alias shape {"aliases": {filed name: [spellings]}} still works: the filed name is its own owner
    aliases = data.get("aliases", {})
    if not isinstance(aliases, dict):
        raise ConfigError(f"{where}: 'aliases' must map a CA name to a list of spellings")
    for filed, spellings in aliases.items():
        if not isinstance(spellings, list) or not all(isinstance(s, str) for s in spellings):
            raise ConfigError(f"{where}: aliases of {filed!r} must be a list of strings")
        known = table.lookup(filed)
        table.owner_of.setdefault(filed, known[1] if known and known[1] else filed)
        for s in [filed, *spellings]:
            table.names[ca_key(s)] = filed
    for a in data.get("auditors", []):
        table.auditors.append(_words(a))
    try:
        table.program += [re.compile(p, re.I) for p in data.get("program_patterns", [])]
        table.meta += [re.compile(p, re.I) for p in data.get("meta_patterns", [])]
    except re.error as exc:
        raise ConfigError(f"{where}: a pattern is not a valid regular expression ({exc})") from None


def builtin_table_text() -> str:
    return resources.files("bzmine").joinpath("data/ca_owners.json").read_text(encoding="utf-8")


def load_table_from_texts(user_texts: list[str], where: list[str] | None = None) -> CaTable:
    """The shipped table, then each user text in turn (later entries win)."""
    table = CaTable()
    _add_table(table, json.loads(builtin_table_text()), "bzmine/data/ca_owners.json")
    for i, text in enumerate(user_texts):
        label = where[i] if where else "the stored aliases file"
        from bzmine.files import load_json

        data = load_json(text, label)
        if not isinstance(data, dict):
            raise ConfigError(
                f"{label}: must be a JSON object with 'owners' and/or 'aliases' (see docs/ca-identity.md)"
            )
        _add_table(table, data, label)
    return table


def load_aliases(user_file: str | Path | None = None) -> CaTable:
    """The owner table, with a user file on top (for notebooks and tests; the CLI stores files: bzmine config)."""
    texts = [Path(user_file).read_text(encoding="utf-8")] if user_file else []
    return load_table_from_texts(texts, [str(user_file)])


def _has_words(words: list[str], seq: list[str]) -> bool:
    n = len(seq)
    return n > 0 and any(words[i : i + n] == seq for i in range(len(words) - n + 1))


def _is_auditor(text: str, table: CaTable, leading: bool) -> bool:
    words = _words(text)
    if leading:
        return any(words[: len(a)] == a for a in table.auditors if a)
    return any(_has_words(words, a) for a in table.auditors)


def _prefix(summary: str, table: CaTable) -> str | None:
    if ":" in summary:
        raw = " ".join(summary.split(":", 1)[0].split())
        return raw if raw and len(raw) <= 80 and ca_key(raw) else None
    m = _DASH_PREFIX.match(summary)  # "CA - title", only when the prefix is a known CA
    if m and table.lookup(m.group(1)):
        return " ".join(m.group(1).split())
    return None


def parse_ca(summary: str | None, table: CaTable) -> CaName:
    """Who a bug is about, from its summary (`"certSIGN: Delayed response"` -> certSIGN, a CA)."""
    s = summary if isinstance(summary, str) else ""
    if any(p.search(s) for p in table.meta):
        return CaName(None, None, None, subject_kind="meta")
    raw = _prefix(s, table)
    if raw is None:
        if _is_auditor(s, table, leading=False):
            return CaName(None, None, None, subject_kind="auditor")
        if any(p.search(s) for p in table.program):
            return CaName(None, None, None, subject_kind="program")
        return CaName(None, None, None, subject_kind="unknown")
    key = ca_key(raw)
    hit = table.lookup(raw)
    if hit:
        return CaName(raw, key, hit[0], hit[1], hit[2], "ca")
    if _is_auditor(raw, table, leading=True):
        return CaName(raw, key, None, subject_kind="auditor")
    if "/" in raw:
        left, right = (" ".join(p.split()) for p in raw.split("/", 1))
        lk, rk = table.lookup(left), table.lookup(right)
        if lk:
            return CaName(raw, key, lk[0], lk[1], right or None, "ca")
        if rk:
            return CaName(raw, key, rk[0], rk[1], left or None, "ca")
    if any(p.search(raw) for p in table.program):
        return CaName(raw, key, None, subject_kind="program")
    return CaName(raw, key, None, subject_kind="ca")


def owner_status(entry: dict[str, Any], on: str) -> str:
    """included | distrusted | unknown for an owner-table entry on an ISO date (events up to that day)."""
    status = str(entry.get("status") or "unknown")
    for ev in sorted(entry.get("events") or [], key=lambda e: str(e.get("date"))):
        if ev.get("date") and str(ev["date"]) <= on:
            status = str(ev.get("status") or status)
    return status


def lineage_name(table: CaTable, ca: CaName) -> str | None:
    """The name in its owner's `lineage` that the bug is about: the sub-CA first ("DigiCert / Symantec"), then the
    filed name ("Symantec"); None when neither has a standing of its own."""
    if ca.subject_kind != "ca" or not ca.owner:
        return None
    entry = next((e for e in table.owners if e.get("owner") == ca.owner), None)
    lineage = (entry or {}).get("lineage") or {}
    keys = {ca_key(k): k for k in lineage}
    for name in (ca.sub_ca, ca.name):
        if name and ca_key(name) in keys:
            return keys[ca_key(name)]
    return None


def subject_status(table: CaTable, ca: CaName, on: str) -> str | None:
    """Standing on an ISO date of the CA a bug was filed about (lineage), None for bugs not about a CA.

    A filed name or sub-CA with its own standing in its owner's `lineage` (Symantec, whose roots were distrusted in
    2017-18 though DigiCert, which bought the business, is included) has that standing; any other name has its
    owner's (Comodo's bugs: Sectigo's). A CA the table does not know is `unknown`.
    """
    if ca.subject_kind != "ca":
        return None
    entry = next((e for e in table.owners if e.get("owner") == ca.owner), None) if ca.owner else None
    if entry is None:
        return "unknown"
    name = lineage_name(table, ca)
    return owner_status(entry["lineage"][name] if name else entry, on)
