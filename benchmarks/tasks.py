"""One benchmark task per process, so peak memory is the task's own: prints one JSON line of figures.

python -m benchmarks.tasks harvest --plan bzmine|naive|perceval --corpus F --latency-ms N [--mode full|incremental]
python -m benchmarks.tasks parse --db F
python -m benchmarks.tasks parse-pure --corpus F
python -m benchmarks.tasks cli -- <bzmine arguments>
python -m benchmarks.tasks report --db F --out DIR [--workers N] [--as-of T]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import bugzilla
import requests

from bzmine.config import Settings


def peak_mb(children: bool = True) -> float:
    """This task's own peak resident set, and its workers' (children=False: its own only, e.g. when the only child
    is the local server): VmHWM belongs to the process image, so it starts afresh at exec (ru_maxrss of
    RUSAGE_SELF does not: it keeps the forking driver's high-water mark)."""
    own = 0.0
    try:
        with open("/proc/self/status") as fh:
            own = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if not children:
        return own
    return max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """The local Bugzilla-compatible server in its own process (so it does not share our GIL)."""

    def __init__(self, corpus: str, latency_ms: float, log: Path) -> None:
        self.port = free_port()
        self.log = log
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bzmine",
                "serve-corpus",
                corpus,
                "--port",
                str(self.port),
                "--latency-ms",
                str(latency_ms),
                "--request-log",
                str(log),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if "serving" not in line:
            raise SystemExit(f"server did not start: {line!r}")
        self.url = f"http://127.0.0.1:{self.port}"

    def requests(self) -> tuple[int, int]:
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        return len(lines), sum(json.loads(x)["bytes"] for x in lines)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=60)  # a large corpus on a busy machine takes a while to let go
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def naive(url: str) -> int:
    """What a first script does: query, then comments and history bug by bug (python-bugzilla)."""
    bz = bugzilla.Bugzilla(url + "/rest/", force_rest=True, use_creds=False)
    q = bz.build_query(product=["CA Program", "NSS"], component="CA Certificate Compliance")
    bugs = bz.query(q)
    out = []
    for b in bugs:
        comments = bz.get_comments([b.id])
        history = bz.bugs_history_raw([b.id])
        out.append((b.get_raw_data(), comments, history))
    return len(out)


def perceval(url: str) -> int:
    """Perceval's bugzillarest plan: pages of 500 with _all ordered by change date, then per 25 bugs comments,
    history and attachments (PCV bugzillarest.py)."""
    s = requests.Session()
    base = url + "/rest"
    offset, n = 0, 0
    while True:
        params = {
            "product": ["CA Program", "NSS"],
            "component": "CA Certificate Compliance",
            "last_change_time": "1970-01-01T00:00:00Z",
            "limit": 500,
            "order": "changeddate",
            "include_fields": "_all",
        }
        if offset:
            params["offset"] = offset
        bugs = s.get(f"{base}/bug", params=params, timeout=120).json()["bugs"]
        if not bugs:
            return n
        for i in range(0, len(bugs), 25):
            ids = [str(b["id"]) for b in bugs[i : i + 25]]
            s.get(f"{base}/bug/{ids[0]}/comment", params={"ids": ids}, timeout=120).json()
            s.get(f"{base}/bug/{ids[0]}/history", params={"ids": ids}, timeout=120).json()
            s.get(
                f"{base}/bug/{ids[0]}/attachment", params={"ids": ids, "exclude_fields": "data"}, timeout=120
            ).json()
        n += len(bugs)
        offset += 500


def harvest(ns: argparse.Namespace) -> dict[str, Any]:
    if ns.plan == "bzmine":  # the baselines' peak memory is theirs alone: no DuckDB or pandas loaded for them
        from bzmine.parsing import reparse  # noqa: F401  (import cost outside the timing)
        from bzmine.store.db import connect
        from bzmine.sync import sync

    work = Path(tempfile.mkdtemp(prefix="bzbench-"))
    try:
        db = work / "b.duckdb"
        srv = Server(ns.corpus, ns.latency_ms, work / "req.jsonl")
        try:
            settings = Settings(url=srv.url, db=str(db), cache_path=str(work / "cache"))
            if ns.plan == "bzmine" and ns.mode != "full":
                if ns.from_db:
                    shutil.copy(ns.from_db, db)  # the state a full run left
                else:
                    con = connect(db)
                    sync(con, settings, quiet=True)  # the full run before the measured incremental one
                    con.close()
                srv.stop()
                corpus = ns.changed_corpus or ns.corpus
                srv = Server(corpus, ns.latency_ms, work / "req2.jsonl")
                settings = Settings(url=srv.url, db=str(db), cache_path=str(work / "cache"))
            created = time.perf_counter()
            con = connect(db) if ns.plan == "bzmine" else None  # one-time schema creation, reported apart
            created = time.perf_counter() - created
            t0 = time.perf_counter()
            if con is not None:
                rep = sync(con, settings, quiet=True)
                con.close()
                bugs = rep.new + rep.changed
            elif ns.plan == "naive":
                bugs = naive(srv.url)
            else:
                bugs = perceval(srv.url)
            wall = time.perf_counter() - t0
            reqs, nbytes = srv.requests()
            if ns.keep_db and con is not None:
                shutil.copy(db, ns.keep_db)
        finally:
            srv.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {
        "wall_s": wall,
        "requests": reqs,
        "bytes": nbytes,
        "bugs_fetched": bugs,
        # the harvester's own peak: the server is a child of this task, and its corpus is not the harvester's memory
        "peak_mb": peak_mb(children=False),
        "server_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "create_db_s": created,
    }


def parse_db(ns: argparse.Namespace) -> dict[str, Any]:
    from bzmine.parsing import reparse
    from bzmine.store.db import connect

    con = connect(ns.db)
    t0 = time.perf_counter()
    rep = reparse(con, full=True, quiet=True, workers=ns.workers)
    wall = time.perf_counter() - t0
    con.close()
    return {
        "wall_s": wall,
        "comments": rep.comments,
        "comments_per_s": rep.comments / wall,
        "bugs": rep.bugs,
        "peak_mb": peak_mb(),
    }


def parse_pure(ns: argparse.Namespace) -> dict[str, Any]:
    from bzmine.corpus import iter_corpus
    from bzmine.parse.reports import parse_text
    from bzmine.parse.review import review_report

    texts = [
        (c["text"], datetime.fromisoformat(c["creation_time"].replace("Z", "+00:00")))
        for r in iter_corpus(ns.corpus)
        for c in r.comments
    ]
    t0 = time.perf_counter()
    for t, posted in texts:
        reports = parse_text(t).reports
        if ns.review:  # what `parse` adds per report: the review against the guidelines in force
            for rep in reports:
                later = [x.line for x in reports if x.line > rep.line]
                review_report(rep, t, posted, None, min(later) if later else None)
    wall = time.perf_counter() - t0
    return {"wall_s": wall, "comments": len(texts), "comments_per_s": len(texts) / wall, "peak_mb": peak_mb()}


def cli(ns: argparse.Namespace) -> dict[str, Any]:
    from bzmine.cli import cli as bz

    t0 = time.perf_counter()
    with open(os.devnull, "w") as null:
        old = sys.stdout
        sys.stdout = null
        try:
            bz.main(ns.rest, standalone_mode=False)
        finally:
            sys.stdout = old
    return {"wall_s": time.perf_counter() - t0, "peak_mb": peak_mb()}


def report(ns: argparse.Namespace) -> dict[str, Any]:
    """`bzmine report` as the CLI runs it (open for reading, write every page and plot), timed from before the
    report module is imported; says how many plots it drew (the others were unchanged, and kept)."""
    t0 = time.perf_counter()
    from bzmine.database import open_for_reading
    from bzmine.report import write_report

    con = open_for_reading(ns.db)
    try:
        res = write_report(con, ns.out, ns.as_of, quiet=True, workers=ns.workers)
    finally:
        con.close()
    return {
        "wall_s": time.perf_counter() - t0,
        "pages": res.pages,
        "plots": res.plots,
        "plots_drawn": res.plots_drawn,
        "peak_mb": peak_mb(),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="task", required=True)
    h = sub.add_parser("harvest")
    h.add_argument("--plan", choices=["bzmine", "naive", "perceval"], required=True)
    h.add_argument("--corpus", required=True)
    h.add_argument("--changed-corpus")
    h.add_argument("--latency-ms", type=float, default=0.0)
    h.add_argument("--mode", choices=["full", "incremental"], default="full")
    h.add_argument("--keep-db", help="Copy the database this run wrote here.")
    h.add_argument(
        "--from-db", help="Incremental: start from a copy of this database instead of a fresh full sync."
    )
    p = sub.add_parser("parse")
    p.add_argument("--db", required=True)
    p.add_argument("--workers", type=int)
    pp = sub.add_parser("parse-pure")
    pp.add_argument(
        "--review", action="store_true", help="Also review every report found (bzmine/parse/review.py)."
    )
    pp.add_argument("--corpus", required=True)
    r = sub.add_parser("report")
    r.add_argument("--db", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--as-of")
    r.add_argument("--workers", type=int, help="Plot processes (default: as the CLI picks them).")
    c = sub.add_parser("cli")
    c.add_argument("rest", nargs=argparse.REMAINDER)
    ns = ap.parse_args()
    if ns.task == "cli" and ns.rest and ns.rest[0] == "--":
        ns.rest = ns.rest[1:]
    fn = {"harvest": harvest, "parse": parse_db, "parse-pure": parse_pure, "cli": cli, "report": report}[
        ns.task
    ]
    print(json.dumps(fn(ns)))


if __name__ == "__main__":
    main()
