"""reparse(): raw tables -> parsed tables, without the network.

Only bugs fetched since the last parse are parsed again (all of them after a parser_version
change or with full=True); their rows are replaced in one transaction per chunk, so a killed
parse leaves whole bugs and the next parse finishes the job.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import re
import sys
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from tqdm import tqdm

from bzmine.parse import PARSER_VERSION, parser_stamp
from bzmine.parse.ca import CaTable, load_table_from_texts, owner_status, parse_ca
from bzmine.parse.reports import parse_text
from bzmine.parse.whiteboard import parse_whiteboard
from bzmine.review import BugContext, review_report
from bzmine.store.db import transaction
from bzmine.timeutil import utcnow

log = logging.getLogger(__name__)
# Test hooks (never set in normal use): smaller chunks, and a pause after the Nth committed chunk so that a
# test can kill the process in the middle of a rebuild at a known point (tests/test_faults.py).
_CHUNK_ENV = "BZMINE_TEST_PARSE_CHUNK"
_PAUSE_ENV = "BZMINE_TEST_PAUSE_AFTER_CHUNK"
CLOSED = {"RESOLVED", "VERIFIED", "CLOSED"}
CHUNK_BUGS = 2000
POOL_MIN_BUGS = 3000  # measured: 520 bugs took 13-16 s with the pool, 6-8 s in one process
COMMENT_TABLES = (
    "reports",
    "report_sections",
    "action_items",
    "timeline_events",
    "related_incidents",
    "bug_refs",
    "parse_failures",
    "whiteboard_changes",
    "incidents",
    "history_changes",
    "comment_meta",
    "bug_accounts",
    "report_findings",
)
_DETAILS = ("creator_detail", "assigned_to_detail", "qa_contact_detail")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


@dataclass
class ParseReport:
    bugs: int = 0
    comments: int = 0
    reports: int = 0
    failures: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        rate = self.comments / self.seconds if self.seconds else 0
        return (
            f"parse: {self.bugs} bugs, {self.comments} comments, {self.reports} reports, {self.failures} failures "
            f"in {self.seconds:.1f} s ({rate:,.0f} comments/s)"
        )


def _state(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = con.execute("SELECT value FROM parse_state WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def _config_digest(con: duckdb.DuckDBPyConnection, accounts: dict[str, str] | None = None) -> str:
    """Changes when the shipped owner table, the stored aliases file or the hidden-e-mail account map changes
    (then every bug is parsed again)."""
    from bzmine.parse.ca import builtin_table_text

    rows = con.execute("SELECT content FROM config_files WHERE name = 'aliases'").fetchall()
    acc = json.dumps(sorted((accounts or {}).items()))
    return hashlib.sha256("\0".join([builtin_table_text(), *(r[0] for r in rows), acc]).encode()).hexdigest()


def account_map(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """local part -> full address, when Bugzilla hid e-mails (METRICS.md §1).

    With `webservice_email_filter` on, BMO gives anonymous callers only the part before the '@' in account fields,
    but keeps full addresses inside history values (needinfo?(x@y), assignee changes). A local part seen with
    exactly one full address across the harvested history resolves to it; an ambiguous one stays as it is.
    Empty (and no scan) when every comment author has an '@'.
    """
    hidden = con.execute(
        "SELECT 1 FROM raw_comments WHERE coalesce(data->>'creator', data->>'author') NOT LIKE '%@%' LIMIT 1"
    ).fetchall()
    if not hidden:
        return {}
    rows = con.execute(r"""
        SELECT DISTINCT lower(unnest(regexp_extract_all(CAST(data AS VARCHAR), '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+')))
        FROM raw_history""").fetchall()
    by_local: dict[str, set[str]] = {}
    for (addr,) in rows:
        by_local.setdefault(addr.split("@")[0], set()).add(addr)
    return {local: next(iter(a)) for local, a in by_local.items() if len(a) == 1}


def _bugs_to_parse(
    con: duckdb.DuckDBPyConnection, full: bool, accounts: dict[str, str] | None = None
) -> list[int]:
    parsed_at = _state(con, "parsed_at")
    version = _state(con, "parser_version")
    digest = _config_digest(con, accounts)
    if full or parsed_at is None or version != parser_stamp() or _state(con, "config") != digest:
        return [r[0] for r in con.execute("SELECT bug_id FROM raw_bugs ORDER BY bug_id").fetchall()]
    rows = con.execute(
        "SELECT bug_id FROM raw_bugs WHERE fetched_at >= CAST(? AS TIMESTAMP) "
        "OR bug_id NOT IN (SELECT bug_id FROM incidents) ORDER BY bug_id",
        [parsed_at],
    ).fetchall()
    return [r[0] for r in rows]


def _closed_at(status: str, created: datetime, changes: list[tuple[datetime, str, str]]) -> datetime | None:
    """The latest transition from an open status to a closed one, if the bug is closed now (METRICS P6)."""
    if status not in CLOSED:
        return None
    last = None
    for when, removed, added in changes:
        if added in CLOSED and removed not in CLOSED:
            last = when
    return last


def parse_bug_rows(
    bug: dict[str, Any],
    fetched: tuple[bool, datetime],
    history: list[dict[str, Any]],
    comments: list[tuple[int, datetime, str, str]],
    table: CaTable,
    today: str | None = None,
    accounts: dict[str, str] | None = None,
) -> dict[str, list[tuple[Any, ...]]]:
    """Every parsed row of one bug (pure: the caller reads and writes the database).

    accounts: local part -> full address, for servers that hide e-mails (see `account_map`); every account
    written is lower-cased and, when it has no '@', resolved through it.
    """
    v = PARSER_VERSION
    full = dict(accounts or {})
    if full or any("@" not in str(h.get("who") or "@") for h in history):
        # this bug's own history values first: a local part with one full address here is that address
        per_bug: dict[str, set[str]] = {}
        for h in history:
            for c in h.get("changes", []):
                for val in (c.get("removed"), c.get("added")):
                    for addr in _EMAIL.findall(str(val or "")):
                        per_bug.setdefault(addr.split("@")[0].lower(), set()).add(addr.lower())
        full.update({local: next(iter(a)) for local, a in per_bug.items() if len(a) == 1})

    def acc(value: Any) -> str:
        a = str(value or "").lower()
        return a if "@" in a or not a else full.get(a, a)

    out: dict[str, list[tuple[Any, ...]]] = {t: [] for t in COMMENT_TABLES}
    bug_id = bug["id"]
    created = datetime.fromisoformat(bug["creation_time"].replace("Z", ""))
    ca = parse_ca(bug.get("summary"), table)
    wb = parse_whiteboard(bug.get("whiteboard"))
    status_changes = []
    wb_rows = []
    first_wb_removed: str | None = None
    for seq, h in enumerate(history):
        when = datetime.fromisoformat(h["when"].replace("Z", ""))
        who = acc(h.get("who"))
        for n, c in enumerate(h.get("changes", [])):
            f = c.get("field_name")
            removed, added = c.get("removed"), c.get("added")
            if f == "assigned_to":  # BMO keeps full addresses here even when it hides them elsewhere
                removed, added = acc(removed) or removed, acc(added) or added
            out["history_changes"].append((bug_id, seq, n, when, who, f, removed, added, v))
            if f == "status":
                status_changes.append((when, c.get("removed", ""), c.get("added", "")))
            elif f == "whiteboard":
                if first_wb_removed is None:
                    first_wb_removed = c.get("removed", "")
                w = parse_whiteboard(c.get("added"))
                wb_rows.append(
                    (bug_id, when, h.get("who"), c.get("added"), w.tags, w.next_update, w.close_on, v)
                )
    initial = first_wb_removed if first_wb_removed is not None else bug.get("whiteboard", "")
    if initial:
        w = parse_whiteboard(initial)
        wb_rows.insert(
            0, (bug_id, created, bug.get("creator"), initial, w.tags, w.next_update, w.close_on, v)
        )
    out["whiteboard_changes"] = wb_rows
    summary = bug.get("summary") or ""
    title = summary.split(":", 1)[1].strip() if ca.raw and ":" in summary else summary
    status_today = None
    if ca.subject_kind == "ca":
        entry = next((e for e in table.owners if e.get("owner") == ca.owner), None) if ca.owner else None
        status_today = owner_status(entry, today or utcnow().date().isoformat()) if entry else "unknown"
    resolved = bug.get("cf_last_resolved")
    resolved_at = (
        datetime.fromisoformat(resolved.replace("Z", "")) if isinstance(resolved, str) and resolved else None
    )
    for ref, kind in _field_refs(bug):
        if ref != bug_id:
            out["bug_refs"].append((bug_id, None, ref, v, "field", kind, None, None))
    seen: set[str] = set()
    details = [bug.get(key) for key in _DETAILS] + list(bug.get("cc_detail") or [])
    for d in details:  # *_detail objects: with e-mails hidden, their id and nick still identify the account
        if isinstance(d, dict) and (d.get("email") or d.get("name")):
            a = acc(d.get("email") or d.get("name"))
            if a not in seen:
                seen.add(a)
                out["bug_accounts"].append(
                    (
                        bug_id,
                        a,
                        d.get("id") if isinstance(d.get("id"), int) else None,
                        (d.get("nick") or "").lower() or None,
                        d.get("real_name"),
                        v,
                    )
                )
    out["incidents"].append(
        (
            bug_id,
            ca.raw,
            ca.key,
            ca.name,
            ca.name,
            title,
            summary,
            wb.tags,
            wb.free_text,
            wb.next_update,
            wb.close_on,
            created,
            _closed_at(bug.get("status", ""), created, status_changes),
            bug.get("status"),
            bug.get("resolution"),
            bug.get("is_open"),
            bug.get("product"),
            fetched[0],
            v,
            acc(bug.get("creator")),
            acc(bug.get("assigned_to")),
            ca.owner,
            ca.sub_ca,
            ca.subject_kind,
            status_today,
            resolved_at,
            bool(bug.get("groups")),
        )
    )
    kinds_seen: set[str] = set()
    tags = tuple(wb.tags)
    for n_c, (comment_id, posted, raw_author, text) in enumerate(comments):
        author = acc(raw_author)
        out["comment_meta"].append((bug_id, comment_id, n_c, posted, author, v))
        res = parse_text(text)
        for ref, start, end in res.bug_ref_spans:
            if ref != bug_id:
                out["bug_refs"].append((bug_id, comment_id, ref, v, "text", "cites", start, end))
        for reason in res.failures:
            out["parse_failures"].append((bug_id, comment_id, reason, v))
        for n, rep in enumerate(res.reports):
            f = rep.fields
            out["reports"].append(
                (
                    bug_id,
                    comment_id,
                    n,
                    rep.kind,
                    rep.is_full(),
                    posted,
                    author,
                    f.get("disclosure_source"),
                    f.get("disclosure_source_norm"),
                    f.get("ccadb_owner_id"),
                    f.get("total_certificates_count"),
                    f.get("remaining_valid_certificates_count"),
                    f.get("issuance_stopped_bool"),
                    json.dumps(f, ensure_ascii=False, default=str),
                    json.dumps(rep.answers, ensure_ascii=False),
                    v,
                )
            )
            for name, body in rep.sections.items():
                out["report_sections"].append((bug_id, comment_id, n, name, body, v))
            ctx = BugContext(opened_at=created, tags=tags, first_of_kind=rep.kind not in kinds_seen)
            kinds_seen.add(rep.kind)
            later = [r.line for r in res.reports if r.line > rep.line]
            for fnd in review_report(rep, text, posted, ctx, min(later) if later else None):
                out["report_findings"].append(
                    (
                        bug_id,
                        comment_id,
                        n,
                        rep.kind,
                        fnd.version,
                        fnd.rule_id,
                        fnd.severity,
                        fnd.evidence,
                        v,
                        fnd.span_start,
                        fnd.span_end,
                    )
                )
            _items(out, bug_id, comment_id, n, posted, author, rep.action_items)
            for k, ev in enumerate(rep.timeline):
                at = datetime.fromisoformat(ev["at"].replace("Z", "")) if ev.get("at") else None
                out["timeline_events"].append(
                    (bug_id, comment_id, n, k, at, ev.get("at_raw"), ev.get("text"), v)
                )
            for rel in rep.related_incidents:
                out["related_incidents"].append(
                    (bug_id, comment_id, n, rel["bug_id"], rel.get("date"), rel.get("description"), v)
                )
                if rel["bug_id"] != bug_id:
                    out["bug_refs"].append(
                        (
                            bug_id,
                            comment_id,
                            rel["bug_id"],
                            v,
                            "related_table",
                            "related_incident",
                            None,
                            None,
                        )
                    )
        _items(out, bug_id, comment_id, -1, posted, author, res.action_items)
    return out


_SEE_ALSO_BUG = re.compile(r"(?:bugzilla\.mozilla\.org/show_bug\.cgi\?id=|bugzil\.la/)(\d{5,8})\b")


def _field_refs(bug: dict[str, Any]) -> list[tuple[int, str]]:
    """(bug id, kind) from the structured fields Bugzilla returns: dupe_of, depends_on, blocks, regressed_by, see_also."""
    refs: list[tuple[int, str]] = []

    def ints(value: Any) -> list[int]:
        items = value if isinstance(value, list) else [value]
        return [i for i in items if isinstance(i, int) and not isinstance(i, bool) and i > 0]

    refs += [(i, "duplicate") for i in ints(bug.get("dupe_of"))]
    refs += [(i, "depends") for i in ints(bug.get("depends_on"))]
    refs += [(i, "blocks") for i in ints(bug.get("blocks"))]
    refs += [(i, "regressed_by") for i in ints(bug.get("regressed_by"))]
    for url in bug.get("see_also") or []:
        for m in _SEE_ALSO_BUG.finditer(str(url)):
            refs.append((int(m.group(1)), "see_also"))
    return refs


def _items(
    out: dict[str, list[tuple[Any, ...]]],
    bug_id: int,
    comment_id: int,
    n: int,
    posted: datetime,
    author: str,
    items: list[dict[str, Any]],
) -> None:
    for k, it in enumerate(items):
        out["action_items"].append(
            (
                bug_id,
                comment_id,
                n,
                k,
                posted,
                author,
                it.get("action"),
                it.get("kind"),
                it.get("root_causes"),
                it.get("evaluation_criteria"),
                it.get("due_raw"),
                it.get("due_date"),
                it.get("status_raw"),
                it.get("status", "unknown"),
                PARSER_VERSION,
            )
        )


_COLUMNS: dict[str, list[str]] = {}


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    if table not in _COLUMNS:
        _COLUMNS[table] = [
            r[0]
            for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
                [table],
            ).fetchall()
        ]
    return _COLUMNS[table]


def _write(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    cols = _columns(con, table)
    df = pd.DataFrame.from_records(rows, columns=cols)
    con.register("_parsed", df)
    try:
        # table names come from COMMENT_TABLES only
        con.execute(f"INSERT INTO {table} SELECT * FROM _parsed")
    finally:
        con.unregister("_parsed")


def _chunks(ids: list[int], n: int) -> Iterator[list[int]]:
    for i in range(0, len(ids), n):
        yield ids[i : i + n]


def _read_chunk(con: duckdb.DuckDBPyConnection, chunk: list[int]) -> list[tuple[Any, ...]]:
    """Everything the pure parser needs for these bugs, as plain Python values (picklable)."""
    ids = pd.DataFrame({"bug_id": chunk})
    con.register("_todo", ids)
    try:
        bugs = con.execute(
            "SELECT r.bug_id, r.data, r.is_visible, r.fetched_at FROM raw_bugs r JOIN _todo USING (bug_id)"
        ).fetchall()
        hist = con.execute(
            "SELECT h.bug_id, h.data FROM raw_history h JOIN _todo USING (bug_id) ORDER BY h.bug_id, h.seq"
        ).fetchall()
        coms = con.execute(
            "SELECT c.bug_id, c.comment_id, c.created_at, coalesce(c.data->>'creator', c.data->>'author'), "
            "coalesce(c.data->>'raw_text', c.data->>'text') FROM raw_comments c JOIN _todo USING (bug_id) "
            "ORDER BY c.bug_id, c.count"
        ).fetchall()
    finally:
        con.unregister("_todo")
    by_hist: dict[int, list[str]] = {}
    for bug_id, data in hist:
        by_hist.setdefault(bug_id, []).append(data)
    by_com: dict[int, list[tuple[int, datetime, str, str]]] = {}
    for bug_id, cid, created, author, text in coms:
        by_com.setdefault(bug_id, []).append((cid, created, author, text))
    return [
        (bug_id, data, visible, fetched_at, by_hist.get(bug_id, []), by_com.get(bug_id, []))
        for bug_id, data, visible, fetched_at in bugs
    ]


_TABLE: list[CaTable] = []


def _die_with_parent(parent: int) -> None:
    """Workers end when the parse that started them dies (kill -9 included), instead of lingering forever.

    Linux: the kernel sends SIGTERM on the parent's death (PR_SET_PDEATHSIG). Elsewhere, and as a second line,
    a daemon thread checks every second that the parent is still ours.
    """
    import signal
    import threading

    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


_ACCOUNTS: dict[str, str] = {}


def _init_worker(table: CaTable, parent: int | None = None, accounts: dict[str, str] | None = None) -> None:
    if parent is not None:
        _die_with_parent(parent)
    _TABLE[:] = [table]
    _ACCOUNTS.clear()
    _ACCOUNTS.update(accounts or {})


def _parse_chunk(
    items: list[tuple[Any, ...]], table: CaTable | None = None, accounts: dict[str, str] | None = None
) -> tuple[dict[str, list[tuple[Any, ...]]], int]:
    """Pure: parse a chunk of bugs (runs in a worker process for large rebuilds)."""
    al = table if table is not None else _TABLE[0]
    rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in COMMENT_TABLES}
    n_comments = 0
    for bug_id, data, visible, fetched_at, hist, coms in items:
        try:
            per = parse_bug_rows(
                json.loads(data),
                (visible, fetched_at),
                [json.loads(h) for h in hist],
                coms,
                al,
                accounts=accounts if accounts is not None else _ACCOUNTS,
            )
        except (
            Exception
        ) as exc:  # one malformed bug (a summary that is an object, an impossible time) never stops the rest
            reason = f"bug not parsed: {type(exc).__name__}: {str(exc)[:300]}"
            rows["parse_failures"].append((bug_id, None, reason, PARSER_VERSION))
            continue
        for t, r in per.items():
            rows[t].extend(r)
        n_comments += len(coms)
    return rows, n_comments


def _write_chunk(
    con: duckdb.DuckDBPyConnection,
    chunk: list[int],
    rows: dict[str, list[tuple[Any, ...]]],
    wipe: bool = False,
) -> None:
    """Replace the parsed rows of these bugs (wipe: empty every parsed table first, for a full rebuild)."""
    with transaction(con):
        if wipe:
            for t in COMMENT_TABLES:
                con.execute(f"DELETE FROM {t}")
        else:
            con.register("_todo", pd.DataFrame({"bug_id": chunk}))
            for t in COMMENT_TABLES:
                con.execute(f"DELETE FROM {t} WHERE bug_id IN (SELECT bug_id FROM _todo)")
            con.unregister("_todo")
        for t in COMMENT_TABLES:
            _write(con, t, rows[t])


def reparse(
    con: duckdb.DuckDBPyConnection,
    full: bool = False,
    quiet: bool = False,
    aliases_file: str | Path | None = None,
    workers: int | None = None,
) -> ParseReport:
    """Rebuild the parsed tables; a database write failure becomes a clear, resumable error."""
    try:
        return _reparse(con, full, quiet, aliases_file, workers)
    except duckdb.Error as exc:
        from bzmine.errors import was_interrupted, write_error

        if was_interrupted(exc):
            raise KeyboardInterrupt() from exc

        path = con.execute(
            "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchall()
        raise write_error(str(path[0][0]) if path else "the database", exc) from exc


def _reparse(
    con: duckdb.DuckDBPyConnection,
    full: bool,
    quiet: bool,
    aliases_file: str | Path | None,
    workers: int | None,
) -> ParseReport:
    """Rebuild the parsed tables for bugs fetched since the last parse (or all of them).

    Large rebuilds parse in `workers` processes (default: one per core) while this process reads
    and writes; results are written in bug-id order, one transaction per chunk.
    """
    started = time.monotonic()
    if aliases_file:
        from bzmine.store.config import store_user_aliases

        store_user_aliases(con, aliases_file)
    aliases = load_table(con)
    accounts = account_map(con)
    report = ParseReport()
    todo = _bugs_to_parse(con, full, accounts)
    stamp = utcnow().replace(tzinfo=None).isoformat(sep=" ")
    env_workers = os.environ.get("BZMINE_PARSE_WORKERS")
    if workers is None and env_workers:
        workers = max(1, int(env_workers))
    # one process is faster below a few thousand bugs (pool start-up and pickling cost more than they save)
    n_workers = (
        workers if workers is not None else ((os.cpu_count() or 1) if len(todo) >= POOL_MIN_BUGS else 1)
    )
    size = int(os.environ.get(_CHUNK_ENV) or (CHUNK_BUGS if n_workers <= 1 else CHUNK_BUGS // 4))
    chunks = list(_chunks(todo, size))
    pause_after = int(os.environ.get(_PAUSE_ENV) or 0)
    # a rebuild of every bug empties the tables once instead of deleting chunk by chunk; if it is killed,
    # the next parse finishes it (bugs without an incidents row are always parsed)
    all_bugs = con.execute("SELECT count(*) FROM raw_bugs").fetchall()[0][0] == len(todo)
    first = [True]
    with tqdm(total=len(todo), unit="bug", desc="parse", disable=True if quiet else None, leave=False) as bar:

        def done(chunk: list[int], rows: dict[str, list[tuple[Any, ...]]], n_comments: int) -> None:
            _write_chunk(con, chunk, rows, wipe=all_bugs and first[0])
            first[0] = False
            report.bugs += len(chunk)
            report.comments += n_comments
            report.reports += len(rows["reports"])
            report.failures += len(rows["parse_failures"])
            bar.update(len(chunk))
            if pause_after and report.bugs and (report.bugs // size) == pause_after:
                print(f"bzmine-test: committed chunk {pause_after}", file=sys.stderr, flush=True)
                time.sleep(60)

        if n_workers <= 1 or len(chunks) < 2:
            for chunk in chunks:
                done(chunk, *_parse_chunk(_read_chunk(con, chunk), aliases, accounts))
        else:
            ctx = multiprocessing.get_context("spawn")  # no fork of a process holding DuckDB threads
            with ProcessPoolExecutor(
                n_workers, mp_context=ctx, initializer=_init_worker, initargs=(aliases, os.getpid(), accounts)
            ) as pool:
                pending: deque[tuple[list[int], Future[Any]]] = deque()
                for chunk in chunks:
                    pending.append((chunk, pool.submit(_parse_chunk, _read_chunk(con, chunk))))
                    while len(pending) > n_workers:
                        c, fut = pending.popleft()
                        done(c, *fut.result())
                while pending:
                    c, fut = pending.popleft()
                    done(c, *fut.result())
    with transaction(con):
        # visibility changes without a re-fetch (a bug turned private): it flows into the parsed layer every time
        con.execute("""UPDATE incidents SET is_visible = r.is_visible FROM raw_bugs r
                       WHERE r.bug_id = incidents.bug_id AND incidents.is_visible IS DISTINCT FROM r.is_visible""")
        _display_names(con)
        con.execute(
            "INSERT OR REPLACE INTO parse_state VALUES ('parsed_at', ?), ('parser_version', ?), ('config', ?)",
            [stamp, parser_stamp(), _config_digest(con, accounts)],
        )
    report.seconds = time.monotonic() - started
    return report


def load_table(con: duckdb.DuckDBPyConnection) -> CaTable:
    """The shipped owner table with the user's stored aliases file on top."""
    rows = con.execute("SELECT path, content FROM config_files WHERE name = 'aliases'").fetchall()
    return load_table_from_texts([r[1] for r in rows], [r[0] or "the stored aliases file" for r in rows])


def _display_names(con: duckdb.DuckDBPyConnection) -> None:
    """A CA is named by its owner-table entry, else by its most used spelling (ties: alphabetical); a CA the
    owner table does not know is its own owner."""
    con.execute("""
        UPDATE incidents SET ca = coalesce(incidents.ca_alias, n.name)
        FROM (
            SELECT ca_key, first(ca_raw ORDER BY cnt DESC, ca_raw) AS name
            FROM (SELECT ca_key, ca_raw, count(*) AS cnt FROM incidents WHERE ca_key IS NOT NULL GROUP BY ALL)
            GROUP BY ca_key
        ) n
        WHERE incidents.ca_key = n.ca_key
    """)
    con.execute("""UPDATE incidents SET ca_owner = coalesce(ca_owner, ca), owner_status = coalesce(owner_status, 'unknown')
                   WHERE subject_kind = 'ca'""")
