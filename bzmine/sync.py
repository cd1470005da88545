"""Harvest: Bugzilla -> raw tables, incrementally, in batches, resumable at any instant.

Request plan ("ids, then details inline"), N bugs in the set, M changed since the watermark:
  1  GET /rest/version               (python-bugzilla connects)
  1  GET /rest/time                  (db_time: the next watermark, capped at the newest change seen + overlap)
  L  GET /rest/bug?...&include_fields=id,last_change_time&order=bug_id&limit=1000&offset=k
     (every id: L = ceil(N/1000) + 1, since a page that is not empty is followed by another: a short page may
     be a server's silent cap; an incremental run first lists what changed since the watermark, then every id)
  D  GET /rest/bug?id=<50 ids>&include_fields=_default,comments,history   (D = ceil(changed/50))
Full run: 2 + ceil(N/P) + 1 + ceil(N/50) requests (P = 1000 ids per listing page); incremental with no
change: 2 + 2 + ceil(N/P) + 1 (the newest bug is listed again, as the watermark never passes its change time plus
the overlap; for N up to 1000 ids: 6).
Every run lists every id: a bug that became private (absent from searches, 401 on direct reads) or left the
set is marked no longer visible at the next sync, and leaves every shared figure (the view hidden_bugs); bugs
visible again (or for the first time, an API key added) whose last change is older than the watermark are fetched.

Each detail batch is written in its own transaction (bugs, comments and history replaced by id),
so a killed run leaves whole bugs only; the watermark moves last, in the transaction that closes
the run. The next run lists what changed since the old watermark and fetches only bugs whose
stored last_change_time differs, so it resumes where the killed run stopped.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
from tqdm import tqdm

from bzmine.bugzilla import BugzillaClient, FetchResult
from bzmine.config import Settings
from bzmine.errors import BlockedError, BzmineError, was_interrupted, write_error
from bzmine.store import raw
from bzmine.store.db import Writer
from bzmine.store.tx import transaction
from bzmine.timeutil import format_bmo_time, parse_bmo_time, utcnow

log = logging.getLogger(__name__)
# Test hook (never set in normal use): hold the Nth batch's transaction open, its rows written but not committed,
# so a test can kill the process in the middle of a write (tests/test_sync.py).
_PAUSE_ENV = "BZMINE_TEST_PAUSE_IN_BATCH"


def _pause_in_batch(n: int) -> None:
    if os.environ.get(_PAUSE_ENV) == str(n):
        print(f"bzmine-test: paused inside batch {n}", file=sys.stderr, flush=True)
        time.sleep(60)


@dataclass
class SyncReport:
    run_id: int
    mode: str
    listed: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    invisible: int = 0
    skipped: int = 0
    requests: int = 0
    invalid_utf8: int = 0  # answers with invalid UTF-8 (replaced by U+FFFD)
    seconds: float = 0.0
    watermark: str | None = None

    def summary(self) -> str:
        return (
            f"sync {self.mode}: {self.new} new, {self.changed} changed, {self.unchanged} unchanged, "
            f"{self.invisible} no longer visible, {self.skipped} skipped; {self.requests} requests in "
            f"{self.seconds:.1f} s; watermark {self.watermark}"
            + (f"; {self.invalid_utf8} answers had invalid UTF-8 (replaced)" if self.invalid_utf8 else "")
        )


class Prefetch:
    """Fetch the next batch while this one is written: one thread making one request at a time, so the request plan
    and its order are unchanged, and results come back in order. A daemon thread: a request hung on a silent server
    never holds up exit, and an error is raised in the caller at the batch it belongs to."""

    SLOW_S = 1.0  # waiting longer than this for a batch lets go of the database meanwhile (on_wait)

    def __init__(self, fetch: Callable[[list[int]], FetchResult], chunks: list[list[int]]) -> None:
        self._fetch, self._chunks = fetch, chunks
        self._q: queue.Queue[tuple[list[int], FetchResult | None, BaseException | None]] = queue.Queue(
            maxsize=1
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bzmine-fetch", daemon=True)

    def _run(self) -> None:
        for chunk in self._chunks:
            if self._stop.is_set():
                return
            try:
                item: tuple[list[int], FetchResult | None, BaseException | None] = (
                    chunk,
                    self._fetch(chunk),
                    None,
                )
            except BaseException as exc:  # handed to the caller, which decides
                item = (chunk, None, exc)
            while not self._stop.is_set():
                try:
                    self._q.put(item, timeout=0.2)
                    break
                except queue.Full:
                    continue
            if item[2] is not None:
                return

    def results(self, on_wait: Callable[[], None] | None = None) -> Iterator[tuple[list[int], FetchResult]]:
        for _ in self._chunks:
            try:
                chunk, res, exc = self._q.get(timeout=self.SLOW_S)
            except queue.Empty:
                if on_wait is not None:
                    on_wait()
                chunk, res, exc = self._q.get()
            if exc is not None:
                raise exc
            assert res is not None
            yield chunk, res

    def __enter__(self) -> Prefetch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()  # the thread ends after its current request; nothing waits for it


def _cap_memory(con: duckdb.DuckDBPyConnection, mb: int) -> str:
    """Cap DuckDB's buffer memory while harvesting and return the setting it had. A harvest writes far more than it
    reads back, and DuckDB would otherwise keep every written block cached (peak memory grew with the bug count:
    1.1 GB at 100,000 bugs); with the cap, blocks are written out and the peak is set by the batch size."""
    row = con.execute("SELECT current_setting('memory_limit')").fetchone()
    con.execute(f"SET memory_limit = '{int(mb)}MB'")
    return str(row[0]) if row else ""


def _since(prev_watermark: str | None, since: datetime | None, overlap: int) -> str | None:
    if since is not None:
        return format_bmo_time(since)
    if prev_watermark is None:
        return None
    wm = parse_bmo_time(prev_watermark)
    if wm is None:
        return None  # an empty stored watermark means: read everything
    return format_bmo_time(wm - timedelta(seconds=overlap))


def _watermark(server_time: str, listed: Iterable[str], con: duckdb.DuckDBPyConnection, overlap: int) -> str:
    """Bugzilla's db_time, but never later than the newest last_change_time seen (listed now or stored) plus the
    overlap: a server whose clock runs hours ahead would otherwise set a watermark past changes it has not made yet,
    and the bugs changed meanwhile would never be listed again. With no bug seen at all, never past this machine's
    clock."""
    times = [t for t in (parse_bmo_time(v) for v in listed) if t is not None]
    row = con.execute("SELECT max(last_change_time) FROM raw_bugs").fetchone()
    if row and row[0] is not None:
        times.append(row[0].replace(tzinfo=timezone.utc))
    cap = max(times) + timedelta(seconds=overlap) if times else utcnow()
    at = parse_bmo_time(server_time)
    return server_time if at is not None and at <= cap else format_bmo_time(cap)


def sync(
    db: duckdb.DuckDBPyConnection | Writer,
    settings: Settings,
    full: bool = False,
    since: datetime | None = None,
    quiet: bool = False,
    client: BugzillaClient | None = None,
) -> SyncReport:
    """Bring the raw tables up to date with Bugzilla; return what was done.

    Given a Writer (the CLI), the file is let go while a batch takes long to arrive, so reading commands can open
    it; given a connection, it is held throughout.
    """
    started = time.monotonic()
    w = db if isinstance(db, Writer) else Writer(db)
    con = w.con
    mem_before = _cap_memory(con, settings.sync_memory_mb)
    prev = raw.get_state(con, "watermark")
    mode = "full" if full or (prev is None and since is None) else "incremental"
    since_q = None if mode == "full" else _since(prev, since, settings.overlap_seconds)
    run_id = raw.start_run(con, mode, settings.rest_url, settings.query(), since_q)
    report = SyncReport(run_id=run_id, mode=mode)
    counts: dict[str, int] = {}
    try:
        client = client or BugzillaClient(settings)  # inside the run: a failed connect is recorded too
        server_time = client.fetch_time()
        listing = client.list_ids(since_q)
        stored = raw.stored_change_times(con)
        invisible_now = set(stored) - raw.visible_ids(con)
        # bugs a 400 made us skip are asked for again on every run, changed or not
        retry_skipped = {r[0] for r in con.execute("SELECT bug_id FROM sync_skipped").fetchall()}
        if full:  # --full: re-read everything, as asked
            need = sorted(set(listing) | retry_skipped)
        elif mode == "full":  # no watermark yet: a first run, or one resumed after an interruption
            need = sorted(
                {i for i, t in listing.items() if stored.get(i) != t or i in invisible_now} | retry_skipped
            )
        else:
            changed = {i for i, t in listing.items() if stored.get(i) != t or i in invisible_now}
            need = sorted(changed | retry_skipped)
        # visibility on every run: the full id list (ceil(N/1000) + 1 requests) tells which stored bugs are gone
        full_listing = set(listing) if since_q is None else set(client.list_ids(None))
        # what a listing since the watermark cannot show: bugs visible again (public again, back in the set) or visible
        # for the first time (an API key added), fetched even if their last change is older than the watermark
        back = {i for i in full_listing if i not in stored or i in invisible_now} - set(need)
        need = sorted(set(need) | back)
        report.listed = len(listing)
        report.unchanged = len(set(listing) - set(need))
        known = set(stored) | retry_skipped  # ids that may have rows; this run's others are only inserted
        chunks = [need[i : i + settings.batch_size * 4] for i in range(0, len(need), settings.batch_size * 4)]
        with (
            tqdm(
                total=len(need), unit="bug", desc="sync", disable=True if quiet else None, leave=False
            ) as bar,
            Prefetch(client.fetch_bugs, chunks) as batches,
        ):
            for n_batch, (chunk, res) in enumerate(batches.results(on_wait=w.release), 1):
                if w.con is not con:  # reopened after letting go of the file: cap the new instance too
                    con = w.con
                    _cap_memory(con, settings.sync_memory_mb)
                mem_mb = settings.sync_memory_mb
                while True:
                    try:
                        with transaction(con):
                            clashes = raw.comment_id_clashes(con, res.bugs)
                            if clashes:  # skipped with the reason, like any invalid bug
                                res.bugs = [b for b in res.bugs if b["id"] not in clashes]
                                res.skipped.update(clashes)
                            raw.upsert_bugs(con, res.bugs, run_id, known=known)
                            raw.mark_invisible(con, res.invisible)
                            raw.save_skipped(con, res.skipped, run_id)
                            _pause_in_batch(n_batch)
                        break
                    except duckdb.OutOfMemoryException:
                        # a batch of huge comments outgrew the cap: rolled back whole; again with a larger cap
                        if mem_mb >= 4096:
                            raise
                        mem_mb *= 4
                        _cap_memory(con, mem_mb)
                if mem_mb != settings.sync_memory_mb:
                    _cap_memory(con, settings.sync_memory_mb)
                for b in res.bugs:
                    if b["id"] in stored:
                        report.changed += 1
                    else:
                        report.new += 1
                report.invisible += len(res.invisible)
                report.skipped += len(res.skipped)
                bar.update(len(chunk))
                bar.set_postfix(requests=client.requests)
        gone = sorted(raw.visible_ids(con) - full_listing)
        report.invisible += len(gone)
        report.requests = client.requests
        report.invalid_utf8 = client.invalid_utf8
        report.watermark = _watermark(server_time, listing.values(), w.con, settings.overlap_seconds)
        counts = {k: v for k, v in asdict(report).items() if isinstance(v, int)}
        con = w.con
        # the run's final writes: invisibility, watermark, run record, in one transaction
        with transaction(con):
            raw.mark_invisible(con, gone)
            raw.set_state(con, "watermark", report.watermark)
            raw.finish_run(con, run_id, "ok", counts, report.watermark)
    except BaseException as exc:
        # a client that failed to connect made its requests all the same (the error carries their count)
        report.requests = client.requests if client is not None else int(getattr(exc, "requests", 0))
        counts = {k: v for k, v in asdict(report).items() if isinstance(v, int)}
        status = (
            "interrupted"
            if was_interrupted(exc)
            else "blocked"
            if isinstance(exc, BlockedError)
            else "failed"
        )
        try:
            key = settings.api_key
            con = w.con
            raw.finish_run(
                con,
                run_id,
                status,
                counts,
                None,
                (str(exc).replace(key, "REDACTED") if key else str(exc))[:2000],
            )
        except (duckdb.Error, BzmineError) as exc2:
            log.warning("could not record the failed run: %s", str(exc2).splitlines()[0])
        if isinstance(exc, duckdb.Error) and was_interrupted(exc):
            raise KeyboardInterrupt() from exc
        if isinstance(exc, duckdb.Error):
            raise write_error(settings.db, exc) from exc
        raise
    finally:
        if mem_before:
            with contextlib.suppress(duckdb.Error, BzmineError):
                w.con.execute(f"SET memory_limit = '{mem_before}'")  # a caller's connection gets its own back
    report.seconds = time.monotonic() - started
    return report


def sync_file(
    db: str,
    settings: Settings,
    full: bool = False,
    since: datetime | None = None,
    quiet: bool = False,
    parse: bool = True,
    say: Callable[[str], object] | None = None,
) -> None:
    """`bzmine sync`: harvest into the file at `db` through a Writer (which lets go of the file while batches arrive
    slowly, so readers can use it meanwhile), then rebuild the parsed tables; `say` gets each summary line. A first
    sync that fails before any bug is stored leaves no empty database behind."""
    from bzmine.parsing import reparse

    created = db != ":memory:" and not Path(db).exists()
    writer = Writer(db)
    try:
        report = sync(writer, settings, full=full, since=since, quiet=quiet)
    except BaseException:
        try:
            empty = created and writer.con.execute("SELECT count(*) FROM raw_bugs").fetchone() == (0,)
        except Exception:
            empty = False
        writer.close()
        if empty:
            for leftover in (Path(db), Path(db + ".wal")):
                leftover.unlink(missing_ok=True)
        raise
    try:
        if say:
            say(report.summary())
        if parse:
            pr = reparse(writer.con, quiet=quiet)
            if say:
                say(pr.summary())
    finally:
        writer.close()
