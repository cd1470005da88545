"""The parse stage over a database: raw rows out to the pure parser (bzmine/parse/run.py), its records back in.

Above both the pure parsers (bzmine/parse/) and the storage floor (bzmine/store/), which know nothing of each other.

reparse() rebuilds the parsed tables without the network. Only bugs fetched since the last parse are parsed again
(all of them after a parser or review-rule change, or with full=True); their rows are replaced in one transaction
per chunk, so a killed parse leaves whole bugs and the next parse finishes the job. Large rebuilds parse in worker
processes while this process reads and writes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
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
from tqdm import tqdm

from bzmine.parse import parser_stamp
from bzmine.parse.ca import CaTable, load_table_from_texts
from bzmine.parse.run import COMMENT_TABLES, ROW_COLUMNS, _init_worker, _parse_chunk
from bzmine.store.config import read_json, store_user_aliases
from bzmine.store.tx import transaction
from bzmine.timeutil import utcnow

log = logging.getLogger(__name__)
# Test hooks (never set in normal use): smaller chunks, a pause after the Nth committed chunk, and a pause inside
# the Nth chunk's open transaction (its rows written, COMMIT not reached), so that a test can kill the process in the
# middle of a rebuild at a known point (tests/test_faults.py, tests/test_interrupts.py).
_CHUNK_ENV = "BZMINE_TEST_PARSE_CHUNK"


_PAUSE_ENV = "BZMINE_TEST_PAUSE_AFTER_CHUNK"
_PAUSE_IN_ENV = "BZMINE_TEST_PAUSE_IN_CHUNK"


CHUNK_BUGS = 2000


POOL_MIN_BUGS = 3000  # measured: 520 bugs took 13-16 s with the pool, 6-8 s in one process


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
    """local part -> full address, and '#<account id>' -> full address, when Bugzilla hid e-mails (METRICS.md §1).

    With `webservice_email_filter` on, BMO gives anonymous callers only the part before the '@' in account fields,
    but keeps full addresses inside history values (needinfo?(x@y), CC and assignee changes). Three sources, in the
    order the parser trusts them (run.parse_bug_rows): an account id (from `*_detail`) whose local part has exactly
    one full address in the history of a bug where that id appears, and no other address on any other bug, is that
    address on every bug; a local part seen with exactly one full address across the harvested history resolves to
    it; a listed root-program account (accounts.json, people.json, the roles file) resolves by its local part when
    no other address has it (chrome-root-program). Ambiguous ones stay as they are.
    Empty (and no scan) when every comment author has an '@'.
    """
    hidden = con.execute(
        "SELECT 1 FROM raw_comments WHERE coalesce(data->>'creator', data->>'author') NOT LIKE '%@%' LIMIT 1"
    ).fetchall()
    if not hidden:
        return {}
    email = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
    rows = con.execute(
        f"SELECT DISTINCT lower(unnest(regexp_extract_all(CAST(data AS VARCHAR), '{email}'))) FROM raw_history"
    ).fetchall()
    by_local: dict[str, set[str]] = {}
    for (addr,) in rows:
        by_local.setdefault(addr.split("@")[0], set()).add(addr)
    out = {local: next(iter(a)) for local, a in by_local.items() if len(a) == 1}
    listed = con.execute(
        "SELECT DISTINCT lower(account) FROM config_accounts WHERE role = 'root_program' AND account LIKE '%@%' "
        "UNION SELECT DISTINCT lower(key) FROM config_people WHERE key_kind = 'account' AND key LIKE '%@%'"
    ).fetchall()
    role_by_local: dict[str, set[str]] = {}
    for (addr,) in listed:
        role_by_local.setdefault(addr.split("@")[0], set()).add(addr)
    for local, addrs in role_by_local.items():
        if len(addrs) == 1 and by_local.get(local, addrs) == addrs:
            out[local] = next(iter(addrs))
    ids = con.execute(f"""
        WITH details AS (
            SELECT b.bug_id, TRY_CAST(d->>'id' AS BIGINT) AS account_id, lower(coalesce(d->>'email', d->>'name')) AS name
            FROM raw_bugs b, unnest(list_concat(
                [b.data->'creator_detail', b.data->'assigned_to_detail', b.data->'qa_contact_detail'],
                coalesce(TRY_CAST(b.data->'cc_detail' AS JSON[]), []))) AS t(d)
        ), seen AS (
            SELECT DISTINCT bug_id, lower(unnest(regexp_extract_all(CAST(data AS VARCHAR), '{email}'))) AS address
            FROM raw_history
        ), per_bug AS (
            SELECT d.bug_id, d.account_id, CASE WHEN d.name LIKE '%@%' THEN d.name
                                                ELSE any_value(s.address) END AS address
            FROM details d LEFT JOIN seen s ON s.bug_id = d.bug_id AND split_part(s.address, '@', 1) = d.name
            WHERE d.account_id IS NOT NULL AND d.name IS NOT NULL
            GROUP BY d.bug_id, d.account_id, d.name
            HAVING d.name LIKE '%@%' OR count(DISTINCT s.address) = 1
        )
        SELECT account_id, any_value(address) FROM per_bug GROUP BY account_id HAVING count(DISTINCT address) = 1
    """).fetchall()
    out.update({f"#{i}": a for i, a in ids})
    return out


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


def _write(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple[Any, ...]]) -> None:
    """Insert one table's rows by column name (ROW_COLUMNS names each record's fields), never by position."""
    if not rows:
        return
    import pandas as pd  # here, not at the top: a parse with nothing to do (a first command) never loads it

    cols = ROW_COLUMNS[table]
    con.register("_parsed", pd.DataFrame.from_records(rows, columns=list(cols)))
    try:
        # table and column names come from ROW_COLUMNS only, never from data
        con.execute(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM _parsed")
    finally:
        con.unregister("_parsed")


def _chunks(ids: list[int], n: int) -> Iterator[list[int]]:
    for i in range(0, len(ids), n):
        yield ids[i : i + n]


def _read_chunk(con: duckdb.DuckDBPyConnection, chunk: list[int]) -> list[tuple[Any, ...]]:
    """Everything the pure parser needs for these bugs, as plain Python values (picklable)."""
    import pandas as pd

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


def _write_chunk(
    con: duckdb.DuckDBPyConnection,
    chunk: list[int],
    rows: dict[str, list[tuple[Any, ...]]],
    wipe: bool = False,
    n: int = 0,
) -> None:
    """Replace the parsed rows of these bugs (wipe: empty every parsed table first, for a full rebuild); n: the
    chunk's number in this parse (for the test hook)."""
    with transaction(con):
        if wipe:
            for t in COMMENT_TABLES:
                con.execute(f"DELETE FROM {t}")
        else:
            import pandas as pd

            con.register("_todo", pd.DataFrame({"bug_id": chunk}))
            for t in COMMENT_TABLES:
                con.execute(f"DELETE FROM {t} WHERE bug_id IN (SELECT bug_id FROM _todo)")
            con.unregister("_todo")
        for t in COMMENT_TABLES:
            _write(con, t, rows[t])
        if n and os.environ.get(_PAUSE_IN_ENV) == str(n):
            print(f"bzmine-test: paused inside chunk {n}", file=sys.stderr, flush=True)
            time.sleep(60)


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
        set_aliases(con, aliases_file)
    aliases = load_table(con)
    accounts = account_map(con)
    report = ParseReport()
    todo = _bugs_to_parse(con, full, accounts)
    stamp = utcnow().replace(tzinfo=None).isoformat(sep=" ")
    env_workers = os.environ.get("BZMINE_PARSE_WORKERS")
    if workers is None and env_workers:
        from bzmine.config import env_number

        workers = int(env_number("BZMINE_PARSE_WORKERS", 1, 1, 256))
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
    n_chunk = [0]
    with tqdm(total=len(todo), unit="bug", desc="parse", disable=True if quiet else None, leave=False) as bar:

        def done(chunk: list[int], rows: dict[str, list[tuple[Any, ...]]], n_comments: int) -> None:
            n_chunk[0] += 1
            _write_chunk(con, chunk, rows, wipe=all_bugs and first[0], n=n_chunk[0])
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


def set_aliases(con: duckdb.DuckDBPyConnection, path: str | Path) -> None:
    """Store a user's aliases/owner file after checking it as the parser will read it (a bad entry is one line);
    the next parse applies it to every bug."""
    text, data = read_json(path, "aliases")
    load_table_from_texts([text], [str(path)])
    store_user_aliases(con, path, text, data)


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
