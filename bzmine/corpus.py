"""Corpus files for the local Bugzilla-compatible server: load, validate, write.

A corpus is a directory of `<bug id>.json` files or one JSON Lines file. Each record is
`{"bug": {...}, "comments": [...], "history": [...]}` with the bug object as BMO returns it
with `_default` fields (flags included), comments as `/rest/bug/{id}/comment` returns them and
history entries as `/rest/bug/{id}/history` returns them. Everything else the server answers
(search, paging, `new_since`, ...) is computed from these records.

A third form is a bug list as `/rest/bug` returned it (`{"bugs": [...]}` or a bare JSON array, in a `.json`
file), for bug lists saved by other tools: such bugs get no comments or history, and the fields the list
lacks get the values a CA compliance bug has on BMO (see `BUG_LIST_DEFAULTS`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bzmine.errors import CorpusError
from bzmine.timeutil import parse_bmo_time

# field -> accepted JSON types (None allowed where listed)
_BUG_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (int,),
    "summary": (str,),
    "whiteboard": (str,),
    "product": (str,),
    "component": (str,),
    "status": (str,),
    "resolution": (str,),
    "creation_time": (str,),
    "last_change_time": (str,),
    "creator": (str,),
    "assigned_to": (str,),
    "groups": (list,),
    "flags": (list,),
    "is_open": (bool,),
}
_COMMENT_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (int,),
    "bug_id": (int,),
    "count": (int,),
    "text": (str,),
    "raw_text": (str,),
    "creator": (str,),
    "author": (str,),
    "time": (str,),
    "creation_time": (str,),
    "is_private": (bool,),
}
_HISTORY_FIELDS: dict[str, tuple[type, ...]] = {"when": (str,), "who": (str,), "changes": (list,)}
_TIME_FIELDS = {"creation_time", "last_change_time", "time", "when"}


@dataclass
class Record:
    """One bug with its comments and history, as the server holds it."""

    bug: dict[str, Any]
    comments: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> int:
        return int(self.bug["id"])

    def to_json(self) -> dict[str, Any]:
        return {"bug": self.bug, "comments": self.comments, "history": self.history}


def _check(obj: Any, spec: dict[str, tuple[type, ...]], where: str) -> None:
    if not isinstance(obj, dict):
        raise CorpusError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    for name, types in spec.items():
        if name not in obj:
            raise CorpusError(f"{where}: missing field '{name}'")
        value = obj[name]
        # bool is an int subclass: do not accept True as an id
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise CorpusError(
                f"{where}: field '{name}' should be {'/'.join(t.__name__ for t in types)}, "
                f"got {type(value).__name__}"
            )
        if name in _TIME_FIELDS:
            try:
                parse_bmo_time(str(value))
            except ValueError:
                raise CorpusError(f"{where}: field '{name}' is not a timestamp: {value!r}") from None


def validate_record(obj: Any, where: str) -> Record:
    """Check one record's shape; raise CorpusError naming the place and the field."""
    if not isinstance(obj, dict):
        raise CorpusError(f"{where}: expected a JSON object with 'bug', 'comments', 'history'")
    for key in ("bug", "comments", "history"):
        if key not in obj:
            raise CorpusError(f"{where}: missing field '{key}'")
    _check(obj["bug"], _BUG_FIELDS, f"{where}: bug")
    bug_id = obj["bug"]["id"]
    if not isinstance(obj["comments"], list):
        raise CorpusError(f"{where}: field 'comments' should be a list")
    if not isinstance(obj["history"], list):
        raise CorpusError(f"{where}: field 'history' should be a list")
    for i, c in enumerate(obj["comments"]):
        _check(c, _COMMENT_FIELDS, f"{where}: comments[{i}]")
        if c["bug_id"] != bug_id:
            raise CorpusError(f"{where}: comments[{i}]: field 'bug_id' is {c['bug_id']}, not {bug_id}")
    for i, h in enumerate(obj["history"]):
        _check(h, _HISTORY_FIELDS, f"{where}: history[{i}]")
    return Record(bug=obj["bug"], comments=obj["comments"], history=obj["history"])


def _read_json(path: Path, text: str, where: str) -> Any:
    from bzmine.files import load_json

    return load_json(text, where, CorpusError)


def _text(p: Path) -> str:
    """A corpus file's text; a binary (or UTF-16) file is a CorpusError, not a crash."""
    try:
        return p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{p}: not UTF-8 text (byte {exc.start}); a corpus is JSON") from None


BUG_LIST_DEFAULTS: dict[str, Any] = {
    "product": "CA Program",
    "component": "CA Certificate Compliance",
    "whiteboard": "",
    "resolution": "",
    "assigned_to": "nobody@mozilla.org",
    "groups": [],
    "flags": [],
}


def _from_bug_list(p: Path) -> Iterator[Record]:
    data = _read_json(p, _text(p), str(p))
    bugs = data.get("bugs") if isinstance(data, dict) else data
    if not isinstance(bugs, list):
        raise CorpusError(
            f'{p}: a .json corpus file must hold a bug list: {{"bugs": [...]}} or a JSON array of bugs'
        )
    for n, bug in enumerate(bugs, 1):
        if not isinstance(bug, dict):
            raise CorpusError(f"{p}: bug {n}: expected a JSON object")
        b = {**BUG_LIST_DEFAULTS, **bug}
        b.setdefault("last_change_time", b.get("creation_time"))
        if "status" in b:
            b.setdefault("is_open", b["status"] not in ("RESOLVED", "VERIFIED", "CLOSED"))
        if "creator" not in b and isinstance(b.get("creator_detail"), dict):
            b["creator"] = b["creator_detail"].get("email") or b["creator_detail"].get("name")
        yield validate_record({"bug": b, "comments": [], "history": []}, f"{p}: bug {n}")


def iter_corpus(path: str | Path) -> Iterator[Record]:
    """Yield validated records from a corpus directory, a JSON Lines file, or a saved bug list (.json)."""
    p = Path(path)
    if not p.exists():
        raise CorpusError(
            f"{p}: no such corpus (give a directory of <id>.json files, a .jsonl file or a bug list .json)"
        )
    if p.is_file() and p.suffix == ".json":
        yield from _from_bug_list(p)
        return
    if p.is_dir():
        files = sorted(p.glob("*.json"), key=lambda f: (len(f.stem), f.stem))
        files = [f for f in files if f.stem.isdigit()]
        if not files:
            raise CorpusError(f"{p}: directory holds no <bug id>.json files")
        for f in files:
            rec = validate_record(_read_json(f, _text(f), str(f)), str(f))
            if str(rec.id) != f.stem:
                raise CorpusError(f"{f}: bug: field 'id' is {rec.id}, but the file is named {f.name}")
            yield rec
    else:
        with p.open("rb") as fh:
            for lineno, raw in enumerate(fh, 1):
                where = f"{p}:{lineno}"
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise CorpusError(f"{where}: not UTF-8 text; a corpus is JSON") from None
                if line.strip():
                    yield validate_record(_read_json(p, line, where), where)


def load_corpus(path: str | Path) -> dict[int, Record]:
    """Load a whole corpus keyed by bug id; duplicate ids are an error."""
    out: dict[int, Record] = {}
    for rec in iter_corpus(path):
        if rec.id in out:
            raise CorpusError(f"{path}: bug {rec.id} appears twice")
        out[rec.id] = rec
    return out


def write_corpus(records: Iterable[Record], path: str | Path) -> int:
    """Write records as JSON Lines (path ends .jsonl) or as a directory of <id>.json files."""
    p = Path(path)
    n = 0
    if p.suffix == ".jsonl":
        p.parent.mkdir(parents=True, exist_ok=True)
        with p.open("w", encoding="utf-8") as fh:
            for rec in records:
                fh.write(json.dumps(rec.to_json(), ensure_ascii=False) + "\n")
                n += 1
    else:
        p.mkdir(parents=True, exist_ok=True)
        for rec in records:
            (p / f"{rec.id}.json").write_text(
                json.dumps(rec.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
            )
            n += 1
    return n
