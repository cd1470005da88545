"""Writes to the raw layer, the run log and the sync cursor. Values always go in as parameters."""

from __future__ import annotations

import json
import re
from collections.abc import Container
from datetime import datetime
from typing import Any

import duckdb
import orjson

from bzmine.timeutil import parse_bmo_time, utcnow

_SURROGATE = re.compile("[\ud800-\udfff]")


def dumps(obj: Any) -> str:
    """JSON for the raw layer, verbatim except that lone UTF-16 surrogates (valid JSON escapes, impossible in
    UTF-8) become U+FFFD: one odd character must not abort a batch."""
    try:
        return orjson.dumps(obj).decode()  # several times faster than json; refuses surrogates and huge ints
    except (TypeError, orjson.JSONEncodeError):
        pass
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = _SURROGATE.sub("\ufffd", text)
    return text


def _naive(ts: str | None) -> datetime | None:
    dt = parse_bmo_time(ts)
    return dt.replace(tzinfo=None) if dt else None


def upsert_bugs(
    con: duckdb.DuckDBPyConnection,
    bugs: list[dict[str, Any]],
    run_id: int,
    known: Container[int] | None = None,
) -> None:
    """Replace these bugs and all their comments and history (caller holds the transaction).

    known: the ids that may already have rows (stored or skipped before); others are only inserted. Deleting scans
    the comment table, so on a first sync skipping it keeps every batch as cheap as the first."""
    if not bugs:
        return
    now = utcnow().replace(tzinfo=None)
    bug_rows, comment_rows, history_rows = [], [], []
    for b in bugs:
        core = {k: v for k, v in b.items() if k not in ("comments", "history")}
        private = bool(b.get("groups"))  # restricted to a group: only a key holder sees it
        bug_rows.append(
            (b["id"], _naive(b["last_change_time"]), True, None, now, run_id, dumps(core), private)
        )
        for c in b["comments"]:
            comment_rows.append(
                (
                    c["id"],
                    b["id"],
                    c.get("count", 0),
                    _naive(c.get("creation_time") or c.get("time")),
                    run_id,
                    dumps(c),
                )
            )
        for seq, h in enumerate(b["history"]):
            history_rows.append((b["id"], seq, _naive(h["when"]), h.get("who", ""), run_id, dumps(h)))
    old = [b["id"] for b in bugs if known is None or b["id"] in known]
    if old:
        for table in (
            "raw_comments",
            "raw_history",
            "raw_bugs",
            "sync_skipped",
        ):  # names from this module only
            con.execute(f"DELETE FROM {table} WHERE bug_id IN (SELECT unnest(CAST(? AS BIGINT[])))", [old])
    _insert(
        con,
        "raw_bugs",
        bug_rows,
        [
            "bug_id",
            "last_change_time",
            "is_visible",
            "invisible_since",
            "fetched_at",
            "run_id",
            "data",
            "is_private",
        ],
    )
    _insert(
        con, "raw_comments", comment_rows, ["comment_id", "bug_id", "count", "created_at", "run_id", "data"]
    )
    _insert(con, "raw_history", history_rows, ["bug_id", "seq", "changed_at", "who", "run_id", "data"])


def comment_id_clashes(con: duckdb.DuckDBPyConnection, bugs: list[dict[str, Any]]) -> dict[int, str]:
    """Bugs (id -> why) that claim a comment id another bug holds, stored or earlier in this batch: a server that
    reuses comment ids must not abort the batch on the primary key (run before upsert_bugs, which would)."""
    owner: dict[int, int] = {}
    clashes: dict[int, str] = {}
    for b in bugs:
        for c in b["comments"]:
            other = owner.get(c["id"])
            if other is not None and other != b["id"]:
                clashes[b["id"]] = (
                    f"invalid data from Bugzilla: comment id {c['id']} also belongs to bug {other}"
                )
        if b["id"] not in clashes:
            owner.update((c["id"], b["id"]) for c in b["comments"])
    mine = {c: b for c, b in owner.items() if b not in clashes}
    if not mine:
        return clashes
    batch = {b["id"] for b in bugs}
    stored = con.execute(
        "SELECT comment_id, bug_id FROM raw_comments WHERE comment_id IN (SELECT unnest(CAST(? AS BIGINT[])))",
        [list(mine)],
    ).fetchall()
    for comment_id, bug_id in stored:
        if bug_id not in batch and mine[comment_id] not in clashes:
            clashes[mine[comment_id]] = (
                f"invalid data from Bugzilla: comment id {comment_id} also belongs to bug {bug_id}"
            )
    return clashes


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple[Any, ...]], cols: list[str]) -> None:
    """Insert rows by column name in one statement: each column goes in as one list parameter and the lists are
    unnested side by side (no DataFrame: a sync never loads pandas, about 50 MB of its peak)."""
    if not rows:
        return
    columns = [list(c) for c in zip(*rows, strict=True)]
    # table and column names come from this module only, never from input
    con.execute(
        f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join('unnest(?)' for _ in cols)}",
        columns,
    )


def mark_invisible(con: duckdb.DuckDBPyConnection, bug_ids: list[int]) -> int:
    """Bugs that left the set or became private: kept, flagged, never deleted."""
    if not bug_ids:
        return 0
    con.executemany(
        "UPDATE raw_bugs SET is_visible = FALSE, invisible_since = coalesce(invisible_since, now()) WHERE bug_id = ?",
        [[i] for i in bug_ids],
    )
    return len(bug_ids)


def save_skipped(con: duckdb.DuckDBPyConnection, skipped: dict[int, str], run_id: int) -> None:
    for bug_id, reason in skipped.items():
        con.execute("DELETE FROM sync_skipped WHERE bug_id = ?", [bug_id])
        con.execute("INSERT INTO sync_skipped VALUES (?, ?, now(), ?)", [bug_id, run_id, reason])


def stored_change_times(con: duckdb.DuckDBPyConnection) -> dict[int, str]:
    rows = con.execute(
        "SELECT bug_id, strftime(last_change_time, '%Y-%m-%dT%H:%M:%SZ') FROM raw_bugs"
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def visible_ids(con: duckdb.DuckDBPyConnection) -> set[int]:
    return {r[0] for r in con.execute("SELECT bug_id FROM raw_bugs WHERE is_visible").fetchall()}


def get_state(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = con.execute("SELECT value FROM sync_state WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_state(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute("INSERT OR REPLACE INTO sync_state VALUES (?, ?)", [key, value])


def start_run(
    con: duckdb.DuckDBPyConnection, mode: str, url: str, query: dict[str, Any], since: str | None
) -> int:
    # a run still 'running' here was killed: say so in the log
    con.execute(
        "UPDATE sync_runs SET status = 'interrupted', finished_at = coalesce(finished_at, now()) WHERE status = 'running'"
    )
    row = con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM sync_runs").fetchone()
    run_id = int(row[0]) if row else 1
    con.execute(
        "INSERT INTO sync_runs (run_id, started_at, status, mode, url, query, since) VALUES (?, now(), 'running', ?, ?, ?, ?)",
        [run_id, mode, url, json.dumps(query), _naive(since)],
    )
    return run_id


def finish_run(
    con: duckdb.DuckDBPyConnection,
    run_id: int,
    status: str,
    counts: dict[str, int],
    watermark: str | None,
    error: str | None = None,
) -> None:
    con.execute(
        """UPDATE sync_runs SET finished_at = now(), status = ?, watermark = ?, bugs_listed = ?, bugs_new = ?,
           bugs_changed = ?, bugs_unchanged = ?, bugs_invisible = ?, bugs_skipped = ?, requests = ?, invalid_utf8 = ?,
           error = ? WHERE run_id = ?""",
        [
            status,
            _naive(watermark),
            counts.get("listed", 0),
            counts.get("new", 0),
            counts.get("changed", 0),
            counts.get("unchanged", 0),
            counts.get("invisible", 0),
            counts.get("skipped", 0),
            counts.get("requests", 0),
            counts.get("invalid_utf8", 0),
            error,
            run_id,
        ],
    )
