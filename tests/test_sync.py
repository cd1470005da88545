"""The harvester against the local Bugzilla-compatible server over real HTTP (nothing in the client is patched)."""

from __future__ import annotations

import copy
import json
import math
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests
from click.testing import CliRunner

from bzmine.cli import cli
from bzmine.config import Settings
from bzmine.corpus import Record
from bzmine.errors import RateLimitedError, SchemaError
from bzmine.store.db import connect
from bzmine.sync import sync
from bzmine.timeutil import format_bmo_time, utcnow
from tests.conftest import API_KEY, db_held_elsewhere

ROOT = Path(__file__).resolve().parents[1]


def settings(srv: Any, tmp_path: Path, **kw: Any) -> Settings:
    base: dict[str, Any] = dict(
        url=srv.url,
        db=str(tmp_path / "t.duckdb"),
        cache_path=str(tmp_path / "cache"),
        backoff_base=0.01,
        backoff_max=0.2,
        timeout=30.0,  # generous: only the tests that stall a request set a short one
    )
    base.update(kw)
    return Settings(**base)


def in_set(rec: Record) -> bool:
    return rec.bug["product"] in ("CA Program", "NSS") and rec.bug["component"] == "CA Certificate Compliance"


def db_snapshot(con: duckdb.DuckDBPyConnection) -> dict[int, dict[str, Any]]:
    """Every stored bug as {bug, comments, history}, rebuilt from the raw tables."""
    out: dict[int, dict[str, Any]] = {}
    for bug_id, data, visible in con.execute("SELECT bug_id, data, is_visible FROM raw_bugs").fetchall():
        out[bug_id] = {"bug": json.loads(data), "comments": [], "history": [], "visible": visible}
    for bug_id, data in con.execute(
        "SELECT bug_id, data FROM raw_comments ORDER BY bug_id, count"
    ).fetchall():
        out[bug_id]["comments"].append(json.loads(data))
    for bug_id, data in con.execute("SELECT bug_id, data FROM raw_history ORDER BY bug_id, seq").fetchall():
        out[bug_id]["history"].append(json.loads(data))
    return out


def expected(corpus: dict[int, Record], with_private: bool = False) -> dict[int, dict[str, Any]]:
    return {
        r.id: {
            "bug": r.bug,
            "comments": [c for c in r.comments if not c["is_private"]],
            "history": r.history,
            "visible": True,
        }
        for r in corpus.values()
        if in_set(r) and (with_private or not r.bug["groups"])
    }


def detail_requests(srv: Any) -> list[dict[str, Any]]:
    return [e for e in srv.app.requests if e["path"] == "/rest/bug" and any(k == "id" for k, _ in e["query"])]


def test_full_sync_reproduces_corpus_exactly(
    bmo_server: Any, corpus: dict[int, Record], tmp_path: Path
) -> None:
    con = connect(tmp_path / "t.duckdb")
    rep = sync(con, settings(bmo_server, tmp_path), quiet=True)
    assert db_snapshot(con) == expected(corpus)
    assert rep.mode == "full" and rep.new == len(expected(corpus))
    # typed views agree with the raw layer
    n_comments = sum(len(v["comments"]) for v in expected(corpus).values())
    assert con.execute("SELECT count(*) FROM comments").fetchone()[0] == n_comments
    run = con.execute("SELECT status, requests, watermark IS NOT NULL FROM sync_runs").fetchall()
    assert run == [("ok", rep.requests, True)]


def test_full_sync_with_key_includes_private_bugs(
    bmo_server: Any, corpus: dict[int, Record], tmp_path: Path
) -> None:
    con = connect(tmp_path / "t.duckdb")
    sync(con, settings(bmo_server, tmp_path, api_key=API_KEY), quiet=True)
    assert db_snapshot(con) == expected(corpus, with_private=True)
    assert con.execute("SELECT count(*) FROM bugs WHERE is_private").fetchone()[0] >= 2


@pytest.mark.parametrize("n", [120, 260])
def test_request_count_full_and_incremental(make_server: Any, tmp_path: Path, n: int) -> None:
    from bzmine.synth import synth

    records = {r.id: r for r in synth(n, seed=n)}
    for r in records.values():
        r.bug["groups"] = []
    srv = make_server(records)
    con = connect(tmp_path / "t.duckdb")
    sync(con, settings(srv, tmp_path), quiet=True)
    full_requests = len(srv.app.requests)
    assert full_requests <= math.ceil(n / 50) + 10
    srv.app.requests.clear()
    rep = sync(con, settings(srv, tmp_path), quiet=True)
    # no change: version, time, the newest bug listed again (the watermark is never past it + 5 min) and the empty
    # page, then every id (one page of n, then an empty one)
    assert rep.mode == "incremental" and len(srv.app.requests) == 6
    assert rep.requests == len(srv.app.requests)
    # K bugs change: only they are fetched again
    changed = sorted(random.Random(1).sample(sorted(records), 7))
    for i in changed:
        rec = copy.deepcopy(records[i])
        now = format_bmo_time(utcnow())
        rec.comments.append(
            {
                **rec.comments[-1],
                "id": i * 1000 + 999,
                "count": len(rec.comments),
                "text": "update",
                "raw_text": "update",
                "time": now,
                "creation_time": now,
            }
        )
        rec.bug["last_change_time"] = now
        srv.app.put(rec)
    srv.app.requests.clear()
    rep = sync(con, settings(srv, tmp_path), quiet=True)
    asked = sorted(
        int(x) for e in detail_requests(srv) for k, v in e["query"] if k == "id" for x in v.split(",")
    )
    assert asked == changed and rep.changed == 7 and rep.new == 0
    assert con.execute("SELECT count(*) FROM comments WHERE text = 'update'").fetchone()[0] == 7


def test_silent_page_cap_skips_nothing(make_server: Any, corpus: dict[int, Record], tmp_path: Path) -> None:
    srv = make_server(page_cap=20)
    con = connect(tmp_path / "t.duckdb")
    sync(con, settings(srv, tmp_path, list_page_size=50, batch_size=50), quiet=True)
    assert db_snapshot(con) == expected(corpus)


def test_faults_still_complete_correctly(make_server: Any, corpus: dict[int, Record], tmp_path: Path) -> None:
    srv = make_server(fault_rate=0.2, seed=11)
    con = connect(tmp_path / "t.duckdb")
    sync(con, settings(srv, tmp_path, batch_size=10, retries=8), quiet=True)
    assert db_snapshot(con) == expected(corpus)
    statuses = {e["status"] for e in srv.app.requests}
    assert statuses & {0, 500, 502, 503, 1001, 1002}, "the fault knob injected nothing"


def test_rate_limit_stops_before_the_block(
    make_server: Any, corpus: dict[int, Record], tmp_path: Path
) -> None:
    """BMO's first answer over the limit is 400/32000; the next request would be blocked for an hour: stop there."""
    srv = make_server(rate_limit=4, rate_limit_all=True, block_seconds=3600)
    con = connect(tmp_path / "t.duckdb")
    with pytest.raises(RateLimitedError, match="BUGZILLA_API_KEY"):
        sync(con, settings(srv, tmp_path, batch_size=10, retries=2), quiet=True)
    statuses = [e["status"] for e in srv.app.requests]
    assert (
        statuses.count(400) == 1 and 429 not in statuses and statuses[-1] == 400
    )  # nothing after the warning
    assert con.execute("SELECT status FROM sync_runs").fetchall() == [("failed",)]
    assert con.execute("SELECT count(*) FROM sync_state WHERE key = 'watermark'").fetchone()[0] == 0
    # authenticated reads are not rate-limited on the next server: the run resumes
    srv2 = make_server()
    sync(con, settings(srv2, tmp_path), quiet=True)
    assert db_snapshot(con) == expected(corpus)


def test_address_block_stops_at_the_first_429(
    make_server: Any, corpus: dict[int, Record], tmp_path: Path
) -> None:
    """A blocked address gets 429 for every request, and each renews the block: one 429, then stop, say so."""
    srv = make_server(rate_limit=4, rate_limit_all=True, block_seconds=3600)
    for _ in range(6):  # someone else on this address used up the limit: the block is on before we start
        requests.get(f"{srv.url}/rest/bug/{min(corpus)}", timeout=60)
    before = len(srv.app.requests)
    db = tmp_path / "b.duckdb"
    con = connect(db)
    con.close()
    res = CliRunner().invoke(cli, ["sync", "--url", srv.url, "--db", str(db), "--no-cache", "-q"])
    assert res.exit_code == 1 and "blocked this address" in res.output and "does not lift" in res.output
    mine = [e["status"] for e in srv.app.requests[before:]]
    assert mine == [429], mine  # the block was recognised on the first 429, and nothing more was sent
    con = duckdb.connect(str(db), read_only=True)
    # the one request made is recorded, though the client never finished connecting
    assert con.execute("SELECT status, requests FROM sync_runs").fetchall() == [("blocked", 1)]
    con.close()
    status = CliRunner().invoke(cli, ["status", "--db", str(db)])
    assert "blocked" in status.output and "1 requests" in status.output


def test_poisoned_bug_is_bisected_out_and_reported(
    make_server: Any, corpus: dict[int, Record], tmp_path: Path
) -> None:
    bad = sorted(expected(corpus))[5]
    srv = make_server(poison_ids=frozenset({bad}))
    con = connect(tmp_path / "t.duckdb")
    rep = sync(con, settings(srv, tmp_path), quiet=True)
    assert rep.skipped == 1
    snap = db_snapshot(con)
    assert bad not in snap and set(snap) == set(expected(corpus)) - {bad}
    result = CliRunner().invoke(cli, ["status", "--db", str(tmp_path / "t.duckdb")])
    assert f"{bad}: HTTP 400" in result.output
    # the next run (poison gone) picks it up
    srv2 = make_server()
    sync(con, settings(srv2, tmp_path), quiet=True)
    assert db_snapshot(con) == expected(corpus)
    assert con.execute("SELECT count(*) FROM sync_skipped").fetchone()[0] == 0


def test_bug_turning_private_or_leaving_is_marked_not_deleted(
    make_server: Any, corpus: dict[int, Record], tmp_path: Path
) -> None:
    srv = make_server()
    con = connect(tmp_path / "t.duckdb")
    sync(con, settings(srv, tmp_path), quiet=True)
    ids = sorted(expected(corpus))
    priv, moved = ids[1], ids[2]
    rec = copy.deepcopy(corpus[priv])
    rec.bug["groups"] = ["ca-confidential"]
    srv.app.put(rec)
    rec2 = copy.deepcopy(corpus[moved])
    rec2.bug["component"] = "CA Certificate Root Inclusion"
    rec2.bug["last_change_time"] = format_bmo_time(utcnow())
    srv.app.put(rec2)
    sync(con, settings(srv, tmp_path), quiet=True)  # an incremental run lists every id: no wait
    vis = dict(
        con.execute(
            "SELECT bug_id, is_visible FROM raw_bugs WHERE bug_id IN (?, ?)", [priv, moved]
        ).fetchall()
    )
    assert vis == {priv: False, moved: False}
    out = CliRunner().invoke(cli, ["status", "--db", str(tmp_path / "t.duckdb")]).output
    assert str(priv) in out and "no longer visible" in out


def test_private_bug_in_a_batch_does_not_fail_it(
    make_server: Any, corpus: dict[int, Record], tmp_path: Path
) -> None:
    """A bug that turns private between listing and fetching is omitted, the rest of its batch lands."""
    srv = make_server(api_keys=(API_KEY,))
    con = connect(tmp_path / "t.duckdb")
    s = settings(srv, tmp_path)
    from bzmine.bugzilla import BugzillaClient

    client = BugzillaClient(s)
    listing = client.list_ids()
    victim = sorted(listing)[3]
    rec = copy.deepcopy(corpus[victim])
    rec.bug["groups"] = ["ca-confidential"]
    srv.app.put(rec)
    res = client.fetch_bugs(sorted(listing))
    assert res.invisible == [victim]
    assert len(res.bugs) == len(listing) - 1
    con.close()


def test_interrupted_run_is_resumed(make_server: Any, corpus: dict[int, Record], tmp_path: Path) -> None:
    """A run that fails midway keeps its committed batches and the old watermark; the next completes it."""
    bad = sorted(expected(corpus))[-5]
    # the stalled batch never answers (until the server stops); the others must answer within the timeout, which
    # is long enough for a busy machine
    srv = make_server(stall_ids=frozenset({bad}), stall_seconds=600.0)
    con = connect(tmp_path / "t.duckdb")
    with pytest.raises(Exception, match="failed after"):
        sync(con, settings(srv, tmp_path, batch_size=5, timeout=2.0, retries=1), quiet=True)
    stored = con.execute("SELECT count(*) FROM raw_bugs").fetchone()[0]
    assert 0 < stored < len(expected(corpus))
    assert con.execute("SELECT status FROM sync_runs").fetchall() == [("failed",)]
    srv2 = make_server()
    rep = sync(con, settings(srv2, tmp_path), quiet=True)
    assert db_snapshot(con) == expected(corpus)
    assert rep.new == len(expected(corpus)) - stored  # only the missing ones were fetched


def _sync_cmd(url: str, db: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "bzmine",
        "sync",
        "--url",
        url,
        "--db",
        str(db),
        "--no-cache",
        "-q",
        "--no-parse",
        *extra,
    ]


def _raw_state(db: Path) -> tuple[Any, ...]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return (
            con.execute("SELECT bug_id, data, is_visible FROM raw_bugs ORDER BY bug_id").fetchall(),
            con.execute("SELECT comment_id, bug_id, data FROM raw_comments ORDER BY comment_id").fetchall(),
            con.execute("SELECT bug_id, seq, data FROM raw_history ORDER BY bug_id, seq").fetchall(),
        )
    finally:
        con.close()


@pytest.mark.faults
def test_sigkill_inside_writes_and_between_them_then_rerun_equals_clean_run(
    make_server: Any, tmp_path: Path
) -> None:
    """Kills driven by observed progress, not by the clock: three inside a batch's open transaction (rows written,
    COMMIT not reached; the test hook holds it open) and one in the middle of fetching; then a plain rerun."""
    from bzmine.synth import synth

    records = {r.id: r for r in synth(150, seed=5)}
    srv = make_server(records, latency_ms=10)
    clean = tmp_path / "clean.duckdb"
    subprocess.run(_sync_cmd(srv.url, clean, "--batch-size", "5"), check=True, cwd=ROOT, timeout=120)
    reference = _raw_state(clean)
    db = tmp_path / "killed.duckdb"
    stored = []
    for batch in (1, 3, 4):  # each run resumes, so batch n of this run holds later bugs than the last kill's
        env = {**os.environ, "BZMINE_TEST_PAUSE_IN_BATCH": str(batch)}
        proc = subprocess.Popen(
            _sync_cmd(srv.url, db, "--batch-size", "5"), cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
        )
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert line.startswith(f"bzmine-test: paused inside batch {batch}"), line
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        stored.append(len(_raw_state(db)[0]))
    served = len(srv.app.requests)
    proc = subprocess.Popen(_sync_cmd(srv.url, db, "--batch-size", "5"), cwd=ROOT, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sum(_is_detail(e) for e in srv.app.requests[served:]) < 3:
        time.sleep(0.01)  # between writes: after the third detail request of this run
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # a kill inside a transaction keeps none of its rows: whole batches only (20 bugs each), and progress is kept
    assert stored[0] == 0 and all(n % 20 == 0 for n in stored) and stored == sorted(stored) and stored[-1] > 0
    subprocess.run(_sync_cmd(srv.url, db), check=True, cwd=ROOT, timeout=120)
    assert _raw_state(db) == reference
    con = duckdb.connect(str(db), read_only=True)
    statuses = [r[0] for r in con.execute("SELECT status FROM sync_runs ORDER BY run_id").fetchall()]
    con.close()
    assert statuses == ["interrupted"] * 4 + ["ok"]


def test_second_concurrent_sync_fails_fast(bmo_server: Any, tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    with db_held_elsewhere(db):
        # fails rather than waits: no request reached the server (a timeout only guards against a hang)
        out = subprocess.run(
            _sync_cmd(bmo_server.url, db), cwd=ROOT, capture_output=True, text=True, timeout=300
        )
        assert out.returncode != 0 and bmo_server.app.requests == []
        assert "in use by another process" in out.stderr and "Traceback" not in out.stderr


def test_api_key_never_reaches_cache_db_logs_or_help(
    bmo_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUGZILLA_API_KEY", API_KEY)
    db = tmp_path / "t.duckdb"
    runner = CliRunner()
    res = runner.invoke(cli, ["-vv", "sync", "--url", bmo_server.url, "--db", str(db)])
    assert res.exit_code == 0, res.output
    assert API_KEY not in res.output
    assert (tmp_path / "http_cache.sqlite").exists()
    for f in tmp_path.iterdir():
        assert API_KEY.encode() not in f.read_bytes(), f"key found in {f.name}"
    assert API_KEY not in runner.invoke(cli, ["sync", "--help"]).output
    # the server saw the header, never a query key
    assert all(
        k.lower() not in ("bugzilla_api_key", "api_key")
        for e in bmo_server.app.requests
        for k, _ in e["query"]
    )
    # and the private bugs came through
    con = duckdb.connect(str(db), read_only=True)
    assert (
        con.execute("SELECT count(*) FROM raw_bugs WHERE json_array_length(data->'groups') > 0").fetchone()[0]
        >= 2
    )
    con.close()


def test_bad_api_key_is_a_clear_error(
    bmo_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUGZILLA_API_KEY", "not-a-key")
    res = CliRunner().invoke(cli, ["sync", "--url", bmo_server.url, "--db", str(tmp_path / "t.duckdb")])
    assert res.exit_code == 1 and "rejected the API key" in res.output and "not-a-key" not in res.output


def test_unreachable_bugzilla_is_a_clear_error(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        cli, ["sync", "--url", "http://127.0.0.1:9", "--db", str(tmp_path / "t.duckdb"), "--retries", "0"]
    )
    assert res.exit_code == 1 and "cannot reach Bugzilla" in res.output


def test_cache_revalidates_instead_of_serving_stale(
    bmo_server: Any, corpus: dict[int, Record], tmp_path: Path
) -> None:
    con = connect(tmp_path / "t.duckdb")
    s = settings(bmo_server, tmp_path)
    sync(con, s, quiet=True)
    victim = sorted(expected(corpus))[0]
    rec = copy.deepcopy(corpus[victim])
    rec.bug["summary"] = "Acme Trust: renamed"
    rec.bug["last_change_time"] = format_bmo_time(utcnow())
    bmo_server.app.put(rec)
    sync(con, s, full=True, quiet=True)
    assert (
        con.execute("SELECT summary FROM bugs WHERE bug_id = ?", [victim]).fetchone()[0]
        == "Acme Trust: renamed"
    )


def test_sync_rejects_corrupted_database(tmp_path: Path) -> None:
    db = tmp_path / "bad.duckdb"
    db.write_bytes(b"this is not a duckdb file" * 100)
    with pytest.raises(SchemaError, match="rebuild it with `bzmine sync --full`"):
        connect(db)


def test_private_bugs_stay_out_of_shared_report_and_export(bmo_server: Any, tmp_path: Path) -> None:
    db = tmp_path / "p.duckdb"
    con = connect(db)
    sync(con, settings(bmo_server, tmp_path, api_key=API_KEY), quiet=True)
    from bzmine.parsing import reparse

    reparse(con, quiet=True)
    private = {r[0] for r in con.execute("SELECT bug_id FROM bugs WHERE is_private").fetchall()}
    con.close()
    assert len(private) >= 2
    run = CliRunner()
    for flag, want_private in (([], False), (["--include-private"], True)):
        out = tmp_path / f"r{len(flag)}"
        assert run.invoke(cli, ["report", "--db", str(db), "--out", str(out), "-q", *flag]).exit_code == 0
        html = "\n".join(p.read_text(encoding="utf-8") for p in out.rglob("*.html"))
        assert any(f'id={b}"' in html for b in private) == want_private
        exp = tmp_path / f"e{len(flag)}"
        assert (
            run.invoke(
                cli, ["export", "--db", str(db), "--out", str(exp), "--format", "csv", *flag]
            ).exit_code
            == 0
        )
        exported = duckdb.sql(f"SELECT DISTINCT bug_id FROM read_csv('{exp / 'raw_bugs.csv'}')").fetchall()
        assert bool({r[0] for r in exported} & private) == want_private


def test_a_bug_turning_private_leaves_the_figures_on_the_next_sync(
    make_server: Any, corpus: dict[int, Record], tmp_path: Path
) -> None:
    from bzmine import metrics

    public = {i: r for i, r in corpus.items() if not r.bug.get("groups")}
    srv = make_server(public)
    db = tmp_path / "v.duckdb"
    assert (
        CliRunner().invoke(cli, ["sync", "--url", srv.url, "--db", str(db), "--no-cache", "-q"]).exit_code
        == 0
    )
    gone = min(public)
    rec = copy.deepcopy(public[gone])
    rec.bug["groups"] = ["ca-confidential"]  # now private: anonymous callers no longer see it
    srv.app.put(rec)
    assert (
        CliRunner()
        .invoke(cli, ["sync", "--url", srv.url, "--db", str(db), "--no-cache", "-q", "--full"])
        .exit_code
        == 0
    )
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT is_visible FROM raw_bugs WHERE bug_id = ?", [gone]).fetchone() == (False,)
    assert con.execute("SELECT is_visible FROM incidents WHERE bug_id = ?", [gone]).fetchone() == (False,)
    assert gone not in set(metrics.bug_metrics(con)["bug_id"])
    con.close()


def test_demo_runs_end_to_end_twice_without_refetching(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`make demo` (bzmine.demo) exits 0; a second run fetches nothing again (no bug reported as changed)."""
    from bzmine import demo

    root = Path(__file__).resolve().parents[1]
    args = [
        "--corpus",
        str(root / "data" / "sample"),
        "--db",
        str(tmp_path / "d.duckdb"),
        "--report",
        str(tmp_path / "r"),
    ]
    assert demo.main(args) == 0
    first = capsys.readouterr().out
    assert (
        "sync full: 77 new" in first
    )  # the sample's 80 bugs, 3 private and (tmp_path / "r" / "index.html").exists()
    assert demo.main(args) == 0
    second = capsys.readouterr().out
    assert "sync full" not in second and "sync incremental: 0 new, 0 changed" in second


@pytest.mark.parametrize("n,page", [(22, 1000), (20, 10), (25, 10), (0, 10)])
def test_request_count_formula_is_exact(make_server: Any, tmp_path: Path, n: int, page: int) -> None:
    """docs/harvest.md: full = 2 + ceil(N/P) + 1 + ceil(N/50); no-change incremental = 3 + [N > 0] + ceil(N/P) + 1
    (the newest bug is listed again: the watermark is never past its change time + 5 min; every run lists every id:
    visibility)."""
    from bzmine.synth import synth

    records = {r.id: r for r in synth(max(n, 1), seed=5)}
    for r in records.values():
        r.bug["groups"], r.bug["product"], r.bug["component"] = [], "CA Program", "CA Certificate Compliance"
    records = dict(list(records.items())[:n])
    srv = make_server(records)
    con = connect(tmp_path / "t.duckdb")
    sync(con, settings(srv, tmp_path, list_page_size=page), quiet=True)
    assert len(srv.app.requests) == 2 + math.ceil(n / page) + 1 + math.ceil(n / 50)
    srv.app.requests.clear()
    rep = sync(con, settings(srv, tmp_path, list_page_size=page), quiet=True)
    assert len(srv.app.requests) == 3 + (1 if n else 0) + math.ceil(n / page) + 1 == rep.requests


def _is_detail(entry: dict[str, Any]) -> bool:
    return entry["path"].endswith("/rest/bug") and any(k == "id" for k, _ in entry["query"])


def test_sigterm_mid_sync_is_one_line_and_the_rerun_fetches_only_the_rest(
    make_server: Any, tmp_path: Path
) -> None:
    from bzmine.synth import synth

    records = {r.id: r for r in synth(150, seed=5)}
    for r in records.values():
        r.bug["groups"], r.bug["product"], r.bug["component"] = [], "CA Program", "CA Certificate Compliance"
    srv = make_server(records, latency_ms=30)
    db = tmp_path / "t.duckdb"
    proc = subprocess.Popen(
        _sync_cmd(srv.url, db, "--batch-size", "5"), cwd=ROOT, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sum(_is_detail(e) for e in list(srv.app.requests)) < 8:
        time.sleep(0.05)  # driven by observed progress: 8 detail batches served
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 143, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("terminated:") and "Traceback" not in err
    con = duckdb.connect(str(db), read_only=True)
    stored = con.execute("SELECT count(*) FROM raw_bugs").fetchone()[0]
    assert con.execute("SELECT status FROM sync_runs").fetchall() == [("interrupted",)]
    con.close()
    assert 0 < stored < 150
    srv.app.requests.clear()
    subprocess.run(_sync_cmd(srv.url, db, "--batch-size", "5"), check=True, cwd=ROOT, timeout=120)
    details = sum(_is_detail(e) for e in srv.app.requests)
    assert details == math.ceil((150 - stored) / 5), (details, stored)  # only the bugs not stored yet


def test_ordered_request_plan_for_120_bugs(make_server: Any, tmp_path: Path) -> None:
    """docs/harvest.md's plan, pinned as Perceval's tests pin theirs: the exact ordered paths and queries of a full
    run, an incremental run after one change, and a run with no change."""
    from bzmine.synth import synth

    records = {r.id: r for r in synth(120, seed=120)}
    for r in records.values():
        r.bug["groups"], r.bug["product"], r.bug["component"] = [], "CA Program", "CA Certificate Compliance"
    srv = make_server(records)
    con = connect(tmp_path / "t.duckdb")
    ids = sorted(records)
    base = [("product", "CA Program"), ("product", "NSS"), ("component", "CA Certificate Compliance")]

    def listing(offset: int, since: str | None = None) -> tuple[str, list[tuple[str, str]]]:
        q = base + [
            ("include_fields", "id,last_change_time"),
            ("order", "bug_id"),
            ("limit", "1000"),
            ("offset", str(offset)),
        ]
        return "/rest/bug", q + ([("last_change_time", since)] if since else [])

    def details(chunk: list[int]) -> tuple[str, list[tuple[str, str]]]:
        return "/rest/bug", [
            ("id", ",".join(map(str, chunk))),
            ("include_fields", "_default,comments,history"),
        ]

    def plan() -> list[tuple[str, list[tuple[str, str]]]]:
        out = [(e["path"], [tuple(x) for x in e["query"]]) for e in srv.app.requests]
        srv.app.requests.clear()
        return out  # type: ignore[return-value]

    sync(con, settings(srv, tmp_path), quiet=True)
    assert plan() == [
        ("/rest/version", []),
        ("/rest/time", []),
        listing(0),
        listing(120),
        details(ids[0:50]),
        details(ids[50:100]),
        details(ids[100:120]),
    ]
    changed = copy.deepcopy(records[ids[7]])
    changed.bug["last_change_time"] = format_bmo_time(utcnow())
    srv.app.put(changed)
    sync(con, settings(srv, tmp_path), quiet=True)
    got = plan()
    assert [p for p, _ in got] == ["/rest/version", "/rest/time"] + ["/rest/bug"] * 5
    since = got[2][1][-1]
    assert since[0] == "last_change_time"  # the previous watermark minus 5 minutes
    # the newest bug of the first run (the watermark is its change time + 5 min) and the changed one, then the
    # empty page
    newest = max(records.values(), key=lambda r: r.bug["last_change_time"]).bug["last_change_time"]
    assert since[1] == newest
    assert got[2] == listing(0, since[1]) and got[3] == listing(2, since[1])
    assert got[4:6] == [listing(0), listing(120)]  # every id: which stored bugs are no longer visible
    assert got[6] == details([ids[7]])
    sync(con, settings(srv, tmp_path), quiet=True)
    got = plan()
    # nothing changed since: the 5-minute overlap lists the bug changed a moment ago again, nothing is fetched
    since = got[2][1][-1][1]
    assert got == [
        ("/rest/version", []),
        ("/rest/time", []),
        listing(0, since),
        listing(1, since),
        listing(0),
        listing(120),
    ]


def test_readers_work_while_a_slow_sync_runs_and_a_second_writer_is_refused(
    make_server: Any, tmp_path: Path
) -> None:
    """A sync lets go of the file while batches arrive slowly: scorecard, due and sql answer meanwhile (DuckDB
    lets one process hold a file); a second sync or parse is refused at once; the sync still ends ok."""
    from bzmine.synth import synth

    records = {r.id: r for r in synth(120, seed=5)}
    db = tmp_path / "r.duckdb"
    fast = make_server(records)
    subprocess.run(_sync_cmd(fast.url, db), check=True, cwd=ROOT, timeout=120)
    # parsed once (readers never parse: on unparsed bugs they say to run `bzmine parse`)
    subprocess.run([sys.executable, "-m", "bzmine", "parse", "--db", str(db), "-q"], check=True, cwd=ROOT)
    # event order, not speed: one batch in the middle never answers until the readers are done (unstall), so the
    # sync is surely still running, waiting on the network, whatever the machine's load
    slow = make_server(records, stall_ids=frozenset({sorted(records)[60]}), stall_seconds=600)
    proc = subprocess.Popen(
        _sync_cmd(slow.url, db, "--full", "--batch-size", "5", "--timeout", "600"),
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert slow.app.stalled.wait(300), "the sync never reached the stalled batch"
        assert proc.poll() is None, "the sync ended before the readers ran"
        second = subprocess.run(
            _sync_cmd(fast.url, db), cwd=ROOT, capture_output=True, text=True, timeout=300
        )
        # refused either by the sync's write lock (file let go) or by DuckDB's (in the middle of a write)
        assert second.returncode == 1 and (
            "being written by another" in second.stderr or "in use by another process" in second.stderr
        ), second.stderr
        assert proc.poll() is None, "the sync ended before the readers ran"
        env = {**os.environ, "BZMINE_READ_WAIT": "20"}
        for args in (
            ["scorecard", "--format", "csv"],
            ["due"],
            ["sql", "SELECT count(*) AS n FROM raw_bugs"],
        ):
            out = subprocess.run(
                [sys.executable, "-m", "bzmine", *args, "--db", str(db)],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert out.returncode == 0, (args, out.stderr)
            assert out.stdout.strip(), args
        assert proc.poll() is None, f"the readers ran after the sync had ended: {proc.communicate()[1]}"
        slow.app.unstall()
    finally:
        slow.app.unstall()
        _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    con = duckdb.connect(str(db), read_only=True)
    assert [r[0] for r in con.execute("SELECT status FROM sync_runs ORDER BY run_id").fetchall()] == [
        "ok",
        "ok",
    ]
    con.close()
