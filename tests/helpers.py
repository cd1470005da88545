"""Helpers shared by test modules: hand-built bugs in BMO's shapes, a database built from them."""

from __future__ import annotations

import atexit
import shutil
import tempfile
import zlib
from pathlib import Path
from typing import Any

import duckdb

from bzmine.parsing import reparse
from bzmine.store import raw
from bzmine.store.db import connect


def user(email: str, nick: str | None = None) -> dict[str, Any]:
    """A *_detail object; ids are stable per address (crc32), nicks default to the local part."""
    return {
        "id": zlib.crc32(email.encode()) % 900_000 + 100_000,
        "email": email,
        "name": email,
        "nick": nick or email.split("@")[0],
        "real_name": email,
    }


def mk_bug(
    bug_id: int,
    summary: str,
    created: str,
    creator: str,
    assignee: str,
    status: str = "ASSIGNED",
    whiteboard: str = "[ca-compliance]",
    comments: list[tuple[str, str, str]] = (),  # type: ignore[assignment]
    history: list[tuple[str, str, list[tuple[str, str, str]]]] = (),
) -> dict[str, Any]:  # type: ignore[assignment]
    cs = [
        {
            "id": bug_id * 100 + i,
            "bug_id": bug_id,
            "count": i,
            "text": text,
            "raw_text": text,
            "creator": who,
            "author": who,
            "time": at,
            "creation_time": at,
            "is_private": False,
            "attachment_id": None,
            "tags": [],
            "reactions": {},
        }
        for i, (who, at, text) in enumerate(comments)
    ]
    hs = [
        {"when": when, "who": who, "changes": [{"field_name": f, "removed": r, "added": a} for f, r, a in ch]}
        for when, who, ch in history
    ]
    last = max([created] + [c["time"] for c in cs] + [h["when"] for h in hs])
    return {
        "id": bug_id,
        "summary": summary,
        "whiteboard": whiteboard,
        "product": "CA Program",
        "component": "CA Certificate Compliance",
        "status": status,
        "resolution": "" if status != "RESOLVED" else "FIXED",
        "is_open": status not in ("RESOLVED", "VERIFIED", "CLOSED"),
        "creation_time": created,
        "last_change_time": last,
        "creator": creator,
        "creator_detail": user(creator),
        "assigned_to": assignee,
        "assigned_to_detail": user(assignee),
        "groups": [],
        "flags": [],
        "comment_count": len(cs),
        "comments": cs,
        "history": hs,
    }


_TEMPLATE: list[Path] = []


def migrated(path: Path) -> Path:
    """An empty, migrated database at path: a copy of one made once per test process (schema, built-in tables and
    views), instead of migrating every test's file anew."""
    if not _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="bzmine-template-"))
        atexit.register(shutil.rmtree, folder, True)
        connect(folder / "template.duckdb").close()
        _TEMPLATE.append(folder / "template.duckdb")
    shutil.copyfile(_TEMPLATE[0], path)
    return path


def build_db(path: Path, bugs: list[dict[str, Any]]) -> duckdb.DuckDBPyConnection:
    """A migrated database holding these bugs as raw rows, parsed."""
    c = connect(migrated(path))
    c.execute("BEGIN TRANSACTION")
    raw.upsert_bugs(c, bugs, run_id=1)
    c.execute("COMMIT")
    reparse(c, quiet=True)
    return c


def child_pids(pid: int) -> set[int]:
    """Live (not zombie) child processes of pid, from Linux /proc (empty elsewhere)."""
    out: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out |= {int(x) for x in (task / "children").read_text().split()}
        except OSError:
            pass
    return {c for c in out if alive(c)}


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
