"""Harvest: Bugzilla -> raw tables, incrementally, in batches, resumable at any instant.

Request plan ("ids, then details inline"), N bugs in the set, M changed since the watermark:
  1  GET /rest/version               (python-bugzilla connects)
  1  GET /rest/time                  (db_time: the next watermark)
  L  GET /rest/bug?...&include_fields=id,last_change_time&order=bug_id&limit=1000&offset=k
     (L = floor(N/1000) + 1 on a full run; floor(M/1000) + 1 on an incremental one)
  D  GET /rest/bug?id=<50 ids>&include_fields=_default,comments,history   (D = ceil(changed/50))
Full run: 2 + floor(N/P) + 1 + [N mod P > 0] + ceil(N/50) requests (P = 1000 ids per listing page: a short
page is followed by one empty page, because a short page may be a server's silent cap); incremental with no
change: 3.
An incremental run also lists every id (L = floor(N/1000) + 1) once per reconcile period to notice
bugs that left the set or became private.

Each detail batch is written in its own transaction (bugs, comments and history replaced by id),
so a killed run leaves whole bugs only; the watermark moves last, in the transaction that closes
the run. The next run lists what changed since the old watermark and fetches only bugs whose
stored last_change_time differs, so it resumes where the killed run stopped.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import duckdb
from tqdm import tqdm

from bzmine.bugzilla import BugzillaClient
from bzmine.config import Settings
from bzmine.errors import BlockedError, was_interrupted, write_error
from bzmine.store import raw
from bzmine.store.db import rollback
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
        return (f"sync {self.mode}: {self.new} new, {self.changed} changed, {self.unchanged} unchanged, "
                f"{self.invisible} no longer visible, {self.skipped} skipped; {self.requests} requests in "
                f"{self.seconds:.1f} s; watermark {self.watermark}"
                + (f"; {self.invalid_utf8} answers had invalid UTF-8 (replaced)" if self.invalid_utf8 else ""))  # fmt: skip


def _since(prev_watermark: str | None, since: datetime | None, overlap: int) -> str | None:
    if since is not None:
        return format_bmo_time(since)
    if prev_watermark is None:
        return None
    wm = parse_bmo_time(prev_watermark)
    if wm is None:
        return None  # an empty stored watermark means: read everything
    return format_bmo_time(wm - timedelta(seconds=overlap))


def sync(con: duckdb.DuckDBPyConnection, settings: Settings, full: bool = False, since: datetime | None = None,
         quiet: bool = False, client: BugzillaClient | None = None) -> SyncReport:  # fmt: skip
    """Bring the raw tables up to date with Bugzilla; return what was done."""
    started = time.monotonic()
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
            need = sorted({i for i, t in listing.items() if stored.get(i) != t or i in invisible_now} | retry_skipped)
        else:
            changed = {i for i, t in listing.items() if stored.get(i) != t or i in invisible_now}
            need = sorted(changed | retry_skipped)
        report.listed = len(listing)
        report.unchanged = len(set(listing) - set(need))
        last_rec = raw.get_state(con, "last_reconcile_at")
        rec_due = last_rec is None or (utcnow() - parse_bmo_time(last_rec)).total_seconds() > settings.reconcile_days * 86400  # type: ignore[operator]
        full_listing: set[int] | None = set(listing) if since_q is None else None
        if full_listing is None and rec_due:
            full_listing = set(client.list_ids(None))
        with tqdm(total=len(need), unit="bug", desc="sync", disable=True if quiet else None, leave=False) as bar:
            for n_batch, i in enumerate(range(0, len(need), settings.batch_size * 4), 1):
                chunk = need[i : i + settings.batch_size * 4]
                res = client.fetch_bugs(chunk)
                con.execute("BEGIN TRANSACTION")
                try:
                    raw.upsert_bugs(con, res.bugs, run_id)
                    raw.mark_invisible(con, res.invisible)
                    raw.save_skipped(con, res.skipped, run_id)
                    _pause_in_batch(n_batch)
                    con.execute("COMMIT")
                except BaseException:
                    rollback(con)
                    raise
                for b in res.bugs:
                    if b["id"] in stored:
                        report.changed += 1
                    else:
                        report.new += 1
                report.invisible += len(res.invisible)
                report.skipped += len(res.skipped)
                bar.update(len(chunk))
                bar.set_postfix(requests=client.requests)
        gone: list[int] = []
        if full_listing is not None:
            gone = sorted(raw.visible_ids(con) - full_listing)
            report.invisible += len(gone)
        report.requests = client.requests
        report.invalid_utf8 = client.invalid_utf8
        report.watermark = server_time
        counts = {k: v for k, v in asdict(report).items() if isinstance(v, int)}
        # the run's final writes: invisibility, watermark, run record, in one transaction
        con.execute("BEGIN TRANSACTION")
        try:
            raw.mark_invisible(con, gone)
            raw.set_state(con, "watermark", server_time)
            if full_listing is not None:
                raw.set_state(con, "last_reconcile_at", format_bmo_time(utcnow()))
            raw.finish_run(con, run_id, "ok", counts, server_time)
            con.execute("COMMIT")
        except BaseException:
            rollback(con)
            raise
    except BaseException as exc:
        report.requests = client.requests if client is not None else 0
        counts = {k: v for k, v in asdict(report).items() if isinstance(v, int)}
        status = ("interrupted" if was_interrupted(exc) else
                  "blocked" if isinstance(exc, BlockedError) else "failed")  # fmt: skip
        try:
            key = settings.api_key
            raw.finish_run(con, run_id, status, counts, None, (str(exc).replace(key, "REDACTED") if key else str(exc))[:2000])
        except duckdb.Error as exc2:
            log.warning("could not record the failed run: %s", str(exc2).splitlines()[0])
        if isinstance(exc, duckdb.Error) and was_interrupted(exc):
            raise KeyboardInterrupt() from exc
        if isinstance(exc, duckdb.Error):
            raise write_error(settings.db, exc) from exc
        raise
    report.seconds = time.monotonic() - started
    return report
