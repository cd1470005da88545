"""Harvest edges pinned through the local server's request log (the server is faked, never the client): the exact
`since` of an incremental run (watermark - overlap), a change committed late inside the overlap, a bug visible again,
and the exact number of attempts per error class."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from bzmine.bugzilla import BugzillaClient
from bzmine.corpus import Record
from bzmine.errors import BlockedError, FetchError
from bzmine.store.db import connect
from bzmine.sync import sync
from bzmine.synth import synth
from tests.test_sync import settings

FMT = "%Y-%m-%dT%H:%M:%SZ"


def now() -> datetime:
    """UTC now, naive (as the stamps are written)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


@pytest.fixture
def public() -> dict[int, Record]:
    """25 bugs, all public and in the searched set."""
    records = {r.id: r for r in synth(25, seed=32)}
    for r in records.values():
        r.bug["groups"], r.bug["product"], r.bug["component"] = [], "CA Program", "CA Certificate Compliance"
    return records


def listing_since(srv: Any) -> list[str | None]:
    """The last_change_time asked for by each listing request (None: no lower bound), in order."""
    out = []
    for e in srv.app.requests:
        if e["path"] == "/rest/bug" and not any(k == "id" for k, _ in e["query"]):
            out.append(next((v for k, v in e["query"] if k == "last_change_time"), None))
    return out


def fetched(srv: Any) -> list[int]:
    return sorted(
        int(x)
        for e in srv.app.requests
        if e["path"] == "/rest/bug"
        for k, v in e["query"]
        if k == "id"
        for x in v.split(",")
    )


def watermark(con: Any) -> str:
    return str(con.execute("SELECT value FROM sync_state WHERE key = 'watermark'").fetchone()[0])


def changed(rec: Record, text: str, at: datetime) -> Record:
    new = copy.deepcopy(rec)
    stamp = at.strftime(FMT)
    new.comments.append(
        {
            **new.comments[-1],
            "id": rec.id * 1000 + 990 + len(new.comments),
            "count": len(new.comments),
            "text": text,
            "raw_text": text,
            "time": stamp,
            "creation_time": stamp,
        }
    )
    new.bug["last_change_time"] = stamp
    return new


@pytest.mark.parametrize("overlap", [300, 3600])
def test_incremental_since_is_the_watermark_minus_the_overlap(
    make_server: Any, public: dict[int, Record], tmp_path: Path, overlap: int
) -> None:
    """docs/harvest.md: the next run asks for last_change_time >= watermark - overlap (BMO's integration guide: 5
    minutes by default), both on its listing pages and in its run record."""
    srv = make_server(public)
    con = connect(tmp_path / "t.duckdb")
    s = settings(srv, tmp_path, overlap_seconds=overlap)
    sync(con, s, quiet=True)
    assert listing_since(srv) == [None, None]  # a first run lists everything
    first = watermark(con)
    srv.app.requests.clear()
    sync(con, s, quiet=True)
    want = (datetime.strptime(first, FMT) - timedelta(seconds=overlap)).strftime(FMT)
    since = [x for x in listing_since(srv) if x is not None]  # then every id (visibility), with no since
    assert (
        since == [want, want] and len(listing_since(srv)) == 4
    )  # the newest bug again: a short page, an empty one
    runs = con.execute("SELECT mode, since FROM sync_runs ORDER BY run_id").fetchall()
    assert [(m, None if t is None else t.strftime(FMT)) for m, t in runs] == [
        ("full", None),
        ("incremental", want),
    ]


def test_a_change_committed_late_inside_the_overlap_is_caught(
    make_server: Any, public: dict[int, Record], tmp_path: Path
) -> None:
    """A change stamped a minute before the previous run's watermark but visible only after that run (a late commit, a
    lagging replica): only the overlap lists it again. Without an overlap it would be lost for good; with the default
    5 minutes it is fetched."""
    victim = sorted(public)[4]
    for overlap, caught in ((300, True), (0, False)):
        srv = make_server(copy.deepcopy(public))
        con = connect(tmp_path / f"late{overlap}.duckdb")
        s = settings(srv, tmp_path, overlap_seconds=overlap)
        sync(con, s, quiet=True)
        wm = datetime.strptime(watermark(con), FMT)
        late_by = (
            now() - wm
        ).total_seconds() + 60  # stamped 60 s before the watermark, whatever the runs took
        rec = changed(public[victim], "committed late", wm - timedelta(seconds=60))
        srv.app.put(rec, committed_late_by=late_by)
        assert datetime.strptime(rec.bug["last_change_time"], FMT) < wm  # stamped before the watermark
        srv.app.requests.clear()
        rep = sync(con, s, quiet=True)
        assert (fetched(srv) == [victim]) is caught, overlap
        n = con.execute("SELECT count(*) FROM comments WHERE text = 'committed late'").fetchone()[0]
        assert (n, rep.changed) == ((1, 1) if caught else (0, 0)), overlap
        con.close()


def test_a_bug_visible_again_is_fetched_again(
    make_server: Any, public: dict[int, Record], tmp_path: Path
) -> None:
    """A bug marked no longer visible (private, or out of the set) whose listed last_change_time equals the stored one
    is fetched again when a listing since the watermark shows it: its stored copy says invisible, so it counts as
    changed (the run's listing of every id would fetch it too: see the next test for that path)."""
    srv = make_server(public)
    con = connect(tmp_path / "t.duckdb")
    s = settings(srv, tmp_path, overlap_seconds=3600)
    sync(con, s, quiet=True)
    x = sorted(public)[2]
    rec = changed(public[x], "recent change", now())  # changed now: inside the next runs' overlap
    srv.app.put(rec)
    sync(con, s, quiet=True)
    hidden = copy.deepcopy(rec)
    hidden.bug["groups"] = [
        "ca-confidential"
    ]  # anonymous callers no longer see it; last_change_time unchanged
    srv.app.put(hidden)
    sync(con, s, quiet=True)  # the listing of every id notices it is gone
    assert con.execute("SELECT is_visible FROM raw_bugs WHERE bug_id = ?", [x]).fetchone() == (False,)
    srv.app.put(copy.deepcopy(rec))  # public again, same last_change_time as stored
    srv.app.requests.clear()
    sync(con, s, quiet=True)
    assert listing_since(srv) != [] and None in listing_since(srv)  # since the watermark, then every id
    assert fetched(srv) == [x]
    assert con.execute("SELECT is_visible FROM raw_bugs WHERE bug_id = ?", [x]).fetchone() == (True,)


def test_reconcile_fetches_what_a_listing_since_the_watermark_cannot_show(
    make_server: Any, public: dict[int, Record], tmp_path: Path
) -> None:
    """A bug visible again whose last change is older than the watermark (outside the overlap), and private bugs an
    API key makes visible for the first time, never appear in a listing since the watermark: the reconcile listing
    (every id, once per reconcile period) finds them and they are fetched."""
    from tests.conftest import API_KEY

    ids = sorted(public)
    records = copy.deepcopy(public)
    for i in ids[:2]:
        records[i].bug["groups"] = [
            "ca-confidential"
        ]  # private from the start: anonymous callers never see them
    srv = make_server(records)
    con = connect(tmp_path / "t.duckdb")
    anon = settings(srv, tmp_path)
    sync(con, anon, quiet=True)
    assert con.execute("SELECT count(*) FROM raw_bugs").fetchone() == (len(ids) - 2,)
    x = ids[5]
    hidden = copy.deepcopy(records[x])
    hidden.bug["groups"] = ["ca-confidential"]  # last_change_time unchanged
    srv.app.put(hidden)
    sync(con, anon, quiet=True)
    assert con.execute("SELECT is_visible FROM raw_bugs WHERE bug_id = ?", [x]).fetchone() == (False,)
    srv.app.put(copy.deepcopy(records[x]))  # public again, its last change long before the watermark
    wm = datetime.strptime(watermark(con), FMT)
    assert datetime.strptime(records[x].bug["last_change_time"], FMT) < wm - timedelta(seconds=300)
    srv.app.requests.clear()
    rep = sync(con, anon, quiet=True)
    assert fetched(srv) == [x] and rep.changed == 1
    assert con.execute("SELECT is_visible FROM raw_bugs WHERE bug_id = ?", [x]).fetchone() == (True,)
    # with an API key the private bugs are listed by the reconcile listing, and fetched although old
    srv.app.requests.clear()
    rep = sync(con, settings(srv, tmp_path, api_key=API_KEY), quiet=True)
    assert fetched(srv) == ids[:2] and rep.new == 2
    assert con.execute("SELECT count(*) FROM raw_bugs WHERE is_visible").fetchone() == (len(ids),)
    # nothing left to find: the next reconcile fetches nothing
    srv.app.requests.clear()
    sync(con, settings(srv, tmp_path, api_key=API_KEY), quiet=True)
    assert fetched(srv) == []


# (fault kind, logged status, attempts with retries=2, error): retryable classes get retries + 1 attempts; a 429 page
# (the address is blocked; every request renews the block) and an answer that is an error stop at the first
RETRIES = 2
CLASSES = [
    (500, 500, RETRIES + 1, FetchError),
    (502, 502, RETRIES + 1, FetchError),
    (503, 503, RETRIES + 1, FetchError),
    (504, 504, RETRIES + 1, FetchError),
    (0, 0, RETRIES + 1, FetchError),  # connection dropped without an answer
    (1, 1001, RETRIES + 1, FetchError),  # body cut short
    (2, 1002, RETRIES + 1, FetchError),  # 200 with an HTML page
    (429, 429, 1, BlockedError),
    (400, 400, 1, FetchError),
]


@pytest.mark.parametrize("kind,logged,attempts,error", CLASSES, ids=[str(c[0]) for c in CLASSES])
def test_attempts_per_error_class(
    make_server: Any,
    public: dict[int, Record],
    tmp_path: Path,
    kind: int,
    logged: int,
    attempts: int,
    error: type,
) -> None:
    """docs/harvest.md Retries: every GET /rest/time answers with one error class; the server's log shows exactly
    how many times the client asked (and the client's own count agrees)."""
    srv = make_server(public, fault_rate=1.0, fault_kinds=(kind,), fault_paths=("/rest/time",))
    client = BugzillaClient(settings(srv, tmp_path, retries=RETRIES, cache_path=None))
    with pytest.raises(error) as exc:
        client.fetch_time()
    if error is FetchError and attempts > 1:
        assert f"failed after {attempts} attempts" in str(exc.value)
    log = [(e["path"], e["status"]) for e in srv.app.requests]
    assert log == [("/rest/version", 200)] + [("/rest/time", logged)] * attempts
    assert client.requests == len(log)


def test_connect_is_retried_like_any_request(
    make_server: Any, public: dict[int, Record], tmp_path: Path
) -> None:
    """The connection (GET /rest/version) gets retries + 1 attempts too, then one clear error."""
    srv = make_server(public, fault_rate=1.0, fault_kinds=(503,), fault_paths=("/rest/version",))
    with pytest.raises(FetchError, match="cannot reach Bugzilla"):
        BugzillaClient(settings(srv, tmp_path, retries=RETRIES, cache_path=None))
    assert [(e["path"], e["status"]) for e in srv.app.requests] == [("/rest/version", 503)] * (RETRIES + 1)
