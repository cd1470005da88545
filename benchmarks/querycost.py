"""Metric commands on this tree against a baseline tree, in the same run: whole `bzmine` processes and the query side.

python -m benchmarks.querycost --base-tree ../wt-base --pair 1000=base-1k.duckdb,new-1k.duckdb [--pair ...]

Each --pair gives two copies of one parsed database (benchmarks.run.parsed_database(n), copied), the first upgraded by
the baseline tree's `bzmine upgrade`, the second by this tree's: views are stored in the file, so each tree reads its
own. Runs alternate baseline and this tree (ABAB, then BABA) so that load drifts hit both alike; the figures are
medians and the ratios baseline / this tree. `wall` is a whole process as a user waits (interpreter, imports, open,
snapshot, query, printing); `cpu` its user + system time (both DuckDB threads); `query` the metric call alone
(metrics.scorecard / metrics.due on a fresh connection in a fresh process, pandas already imported: what one
command's queries cost, cold).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-01"
# the query side of one command, run in a fresh interpreter with the tree first on sys.path
_QUERY = """
import json, sys, time
import pandas  # imported before the clock starts: the query side alone (the CLI's table path never imports it)
from bzmine import metrics
from bzmine.database import open_for_reading
con = open_for_reading(sys.argv[1])
t0, c0 = time.perf_counter(), time.process_time()
getattr(metrics, sys.argv[2])(con, sys.argv[3])
print(json.dumps({"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0}))
"""


def _run(tree: Path, args: list[str]) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    res = subprocess.run(
        [sys.executable, *args],
        cwd=tree,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(tree)},
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if res.returncode != 0:
        raise SystemExit(f"{tree}: {' '.join(args)} failed:\n{res.stderr[-2000:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, res.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base-tree", required=True, type=Path, help="A checkout of the baseline revision.")
    ap.add_argument("--pair", action="append", required=True, help="N=BASE_DB,THIS_DB (repeatable).")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--commands", default="scorecard,due")
    ns = ap.parse_args()
    trees = {"baseline": ns.base_tree.resolve(), "this": ROOT}
    w = print
    w(
        f"`{' '.join(['python -m benchmarks.querycost', *sys.argv[1:]])}`, as_of {AS_OF}, {ns.runs} runs each\n"
    )
    w(
        "| bugs | command | wall baseline | wall this | ratio | cpu baseline | cpu this | ratio | query baseline | query this | ratio | load |"
    )
    w("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for pair in ns.pair:
        n, dbs = pair.split("=", 1)
        db = dict(zip(trees, dbs.split(","), strict=True))
        for cmd in ns.commands.split(","):
            got: dict[str, dict[str, list[float]]] = {t: {"wall": [], "cpu": [], "query": []} for t in trees}
            loads = []
            for i in range(ns.runs):
                for t in list(trees) if i % 2 == 0 else list(trees)[::-1]:
                    wall, cpu, _ = _run(trees[t], ["-m", "bzmine", cmd, "--db", db[t], "--as-of", AS_OF])
                    _, _, out = _run(trees[t], ["-c", _QUERY, db[t], cmd, AS_OF])
                    got[t]["wall"].append(wall)
                    got[t]["cpu"].append(cpu)
                    got[t]["query"].append(json.loads(out.strip().splitlines()[-1])["wall"])
                loads.append(os.getloadavg()[0])
            m = {t: {k: statistics.median(v) for k, v in got[t].items()} for t in trees}
            b, s = m["baseline"], m["this"]
            w(
                f"| {int(n):,} | {cmd} | {b['wall']:.2f} | {s['wall']:.2f} | {b['wall'] / s['wall']:.2f}x | "
                f"{b['cpu']:.2f} | {s['cpu']:.2f} | {b['cpu'] / s['cpu']:.2f}x | {b['query']:.3f} | {s['query']:.3f} | "
                f"{b['query'] / s['query']:.2f}x | {min(loads):.1f}-{max(loads):.1f} |"
            )


if __name__ == "__main__":
    main()
