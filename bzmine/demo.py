"""`bzmine demo` (and `make demo`): the whole pipeline, offline, on the bundled sample through the local server.

Starts the local Bugzilla-compatible server on the sample corpus (the one a wheel carries: bzmine/bundled.py), then
runs the same commands a user would run against bugzilla.mozilla.org, and says where the results are.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from click.testing import CliRunner

from bzmine.cli import cli
from bzmine.errors import BzmineError
from bzmine.server import ServerOptions, serve_corpus


def _run(args: list[str]) -> None:
    print(f"\n$ bzmine {shlex.join(args)}", flush=True)
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    sys.stdout.write(result.output)
    if result.exit_code != 0:
        raise BzmineError(
            f"demo step failed: bzmine {shlex.join(args)} (exit {result.exit_code}; its error is above)"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--corpus", default=None, help="a corpus folder (default: the bundled sample)")
    ap.add_argument("--db", default="data/demo.duckdb")
    ap.add_argument("--report", default="data/report")
    ns = ap.parse_args(argv)
    try:
        run_demo(ns.corpus, ns.db, ns.report)
    except BzmineError as exc:
        raise SystemExit(f"Error: {exc}") from None
    return 0


def run_demo(corpus: str | Path | None, db: str, report: str) -> None:
    """Serve the corpus locally, run the demo's commands against it, say where the database and report are."""
    from bzmine.bundled import path

    source = Path(corpus) if corpus else path("sample")
    srv = serve_corpus(source, ServerOptions()).start()
    shown = corpus or "the bundled sample"
    print(
        f"local Bugzilla-compatible server: {srv.url}/rest/ serving {len(srv.app.records)} bugs from {shown}"
    )
    try:
        for step in steps(srv.url, db, report):
            _run(step)
    finally:
        srv.stop()
    print(f"\nrequests served: {len(srv.app.requests)}")
    print(f"database: {Path(db).resolve()}")
    report_index = Path(report) / "index.html"
    if report_index.exists():
        print(f"report: {report_index.resolve()}")


def steps(url: str, db: str, report: str) -> list[list[str]]:
    """The commands the demo runs, in order. A full sync the first time, an incremental one after it (and on
    every later `make demo`: nothing changed, nothing is fetched again)."""
    first = [["sync", "--url", url, "--db", db, "--full"]] if not Path(db).exists() else []
    return [
        *first,
        ["sync", "--url", url, "--db", db],
        ["status", "--db", db],
        ["scorecard", "--db", db, "--as-of", "2026-11-01"],
        ["due", "--db", db, "--as-of", "2026-11-01"],
        ["trends", "--db", db, "--as-of", "2026-11-01", "--by", "subject"],
        ["explain", "pending_requests", "--ca", "Lumen Sign", "--db", db, "--as-of", "2026-11-01"],
        ["report", "--db", db, "--out", report, "--as-of", "2026-11-01"],
    ]


if __name__ == "__main__":
    raise SystemExit(main())
