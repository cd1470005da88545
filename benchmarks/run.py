"""`make bench`: every benchmark, with its baseline measured in the same run, into benchmarks/RESULTS.md.

Each figure comes from a separate process (benchmarks/tasks.py) so peak memory is that task's own.
Timings are medians of --repeat runs where a run is cheap; the slow naive baseline runs once.
These machines are shared and noisy: read the ratios and request counts, not the seconds.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
AS_OF = "2026-11-01"


def task(*args: str, cwd: Path = ROOT) -> dict[str, Any]:
    res = subprocess.run(
        [sys.executable, "-m", "benchmarks.tasks", *args], cwd=cwd, capture_output=True, text=True
    )
    if res.returncode != 0:
        raise SystemExit(f"benchmark task failed: {' '.join(args)}\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def command_wall(n: int, *args: str) -> float:
    """Median wall time of a whole `bzmine` process (interpreter start and imports included), as a user waits."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        res = subprocess.run(
            [sys.executable, "-m", "bzmine", *args], cwd=ROOT, capture_output=True, text=True
        )
        times.append(time.perf_counter() - t0)
        if res.returncode != 0:
            raise SystemExit(f"bzmine {' '.join(args)} failed: {res.stderr[-2000:]}")
    return statistics.median(times)


def median_of(n: int, *args: str) -> dict[str, Any]:
    runs = [task(*args) for _ in range(n)]
    out = {k: statistics.median(r[k] for r in runs) for k in runs[0] if isinstance(runs[0][k], (int, float))}
    out["runs"] = n
    return out


def corpus(n: int, changed: int = 0) -> Path:
    """A synthetic corpus as JSON Lines (cached in benchmarks/out); with changed=K, K bugs touched now."""
    from bzmine.corpus import write_corpus
    from bzmine.synth import synth
    from bzmine.timeutil import format_bmo_time, utcnow

    OUT.mkdir(parents=True, exist_ok=True)
    base = OUT / f"corpus-{n}.jsonl"
    if not base.exists():
        records = synth(n, seed=20261128)
        for r in records:
            r.bug["groups"] = []  # anonymous harvests: every bug visible
        write_corpus(records, base)
    if not changed:
        return base
    path = OUT / f"corpus-{n}-changed{changed}.jsonl"  # rewritten on every call: "now" must be fresh
    lines = base.read_text().splitlines()
    now = format_bmo_time(utcnow())
    step = max(1, len(lines) // changed)
    for i in range(0, step * changed, step):
        rec = json.loads(lines[i])
        rec["bug"]["last_change_time"] = now
        rec["bug"]["whiteboard"] += " [touched]"
        lines[i] = json.dumps(rec)
    path.write_text("\n".join(lines) + "\n")
    return path


def database(n: int) -> tuple[Path, float]:
    """A raw-layer database of n synthetic bugs, loaded without HTTP (the sync path is benchmarked separately)."""
    from bzmine.store import raw
    from bzmine.store.db import connect
    from bzmine.synth import synth

    path = OUT / f"db-{n}.duckdb"
    if path.exists():
        path.unlink()
    t0 = time.perf_counter()
    con = connect(path)
    step = 5000
    for start in range(0, n, step):
        recs = synth(min(step, n - start), seed=start + 1, first_id=1_800_000 + start)
        bugs = [{**r.bug, "comments": r.comments, "history": r.history} for r in recs]
        con.execute("BEGIN TRANSACTION")
        raw.upsert_bugs(con, bugs, run_id=1)
        con.execute("COMMIT")
    con.close()
    return path, time.perf_counter() - t0


SECTIONS = ("harvest", "sync-memory", "fixed-cost", "parse", "scale", "report")
REAL_BUGS = ROOT.parent / "shared" / "realdata" / "webpki-observatory" / "bugs_raw.json"


def full_sync_requests(n: int) -> int:
    """The request count of a full sync of n bugs (bzmine/sync.py's docstring; tests/test_sync.py checks it)."""
    return 2 + n // 1000 + 1 + (1 if n % 1000 else 0) + math.ceil(n / 50)


def parsed_database(n: int) -> Path:
    """database(n), parsed (the report reads the parsed tables)."""
    path, _ = database(n)
    task("parse", "--db", str(path))
    return path


def fit_exponent(xs: list[float], ys: list[float]) -> float:
    lx, ly = [math.log(x) for x in xs], [math.log(max(y, 1e-9)) for y in ys]
    mx, my = statistics.mean(lx), statistics.mean(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / sum((a - mx) ** 2 for a in lx)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--quick", action="store_true", help="Small sizes only (a smoke run, not for RESULTS.md)."
    )
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "RESULTS.md"))
    ap.add_argument(
        "--only",
        help=f"Comma-separated sections to run ({','.join(SECTIONS)}); prints them and leaves RESULTS.md alone.",
    )
    ap.add_argument(
        "--sizes",
        help="Comma-separated bug counts for the sync-memory, scale and report sections "
        "(default 1000,20000,100000, 1000,10000,100000 and 1000,10000,30000).",
    )
    ap.add_argument(
        "--report-baseline",
        metavar="REV",
        help="Also time the report with the code of this git revision, in the same run (e.g. the commit before a "
        "change to the report).",
    )
    ns = ap.parse_args()
    only = set(ns.only.split(",")) if ns.only else set(SECTIONS)
    if only - set(SECTIONS):
        raise SystemExit(
            f"--only: unknown section(s) {','.join(sorted(only - set(SECTIONS)))}; pick from {','.join(SECTIONS)}"
        )
    sizes = [int(x) for x in ns.sizes.split(",")] if ns.sizes else None
    started = time.perf_counter()
    small, large = (300, 2000) if ns.quick else (2000, 20000)
    scales = [1000, 3000] if ns.quick else [1000, 10000, 100000]
    rep = ns.repeat
    lines: list[str] = []
    w = lines.append
    cmd = " ".join(["python -m benchmarks.run", *sys.argv[1:]]).strip()
    w("# Benchmark results\n")
    w(
        f"Produced by `{cmd}`{'' if ns.only or ns.quick else ' (what `make bench` runs)'} on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"{os.cpu_count()} cores, {_mem_gib():.0f} GiB RAM, Python {platform.python_version()}, {platform.machine()}. "
        "The machine is shared and noisy: compare the ratios and request counts, which are measured in the same run. "
        f"Timings are medians of {rep} runs unless marked (1 run).\n"
    )

    try:
        sections(w, ns, only, sizes, small, large, scales, rep)
    except BaseException:  # keep what was measured before the failure
        print("\n".join(lines) + "\n(stopped: the sections above are what was measured)")
        raise
    w(f"Whole run: {time.perf_counter() - started:.0f} s.")
    text = "\n".join(lines) + "\n"
    if ns.quick or ns.only:
        print(text)
    else:
        Path(ns.out).write_text(text)
        print(text)
        print(f"wrote {ns.out}")


def sections(
    w: Any,
    ns: argparse.Namespace,
    only: set[str],
    sizes: list[int] | None,
    small: int,
    large: int,
    scales: list[int],
    rep: int,
) -> None:
    if "harvest" in only:
        harvest_section(w, small, large, rep)
    if "sync-memory" in only:
        sync_memory_section(w, sizes or ([300, 1000] if ns.quick else [1000, 20000, 100000]), rep)
    if "fixed-cost" in only:
        fixed_cost_section(w, rep)
    dbs: dict[int, Path] = {}
    load_s: dict[int, float] = {}
    if "parse" in only:
        parse_section(w, large, scales, rep, dbs, load_s)
    if "scale" in only:
        scale_section(w, sizes or scales, rep, dbs, load_s)
    if "report" in only:
        report_section(
            w, sizes or ([300, 1000] if ns.quick else [1000, 10000, 30000]), rep, ns.report_baseline
        )


def harvest_section(w: Any, small: int, large: int, rep: int) -> None:
    w("## Harvest: full and incremental sync through the local Bugzilla-compatible server\n")
    w(
        "Plans: **bzmine** (ids, then 50 bugs per request with comments and history inline; see docs/harvest.md), "
        "**naive** python-bugzilla loop (query, then `get_comments` and `bugs_history_raw` per bug), "
        "**perceval** (pages of 500 with `include_fields=_all`, then comments, history and attachments per 25 bugs). "
        "The server runs in its own process; peak MB is the harvesting process's own (not the server's). bzmine's time "
        "includes writing DuckDB and the HTTP cache; the baselines only fetch.\n"
    )
    w(
        "| bugs | latency | plan | mode | requests | MB transferred | wall s | peak MB | vs bzmine: requests | vs bzmine: wall |"
    )
    w("|---:|---:|---|---|---:|---:|---:|---:|---:|---:|")
    harvest_rows: list[tuple[Any, ...]] = []
    for n in (small, large):
        c = corpus(n)
        reps = rep if n == small else 1  # the 20k runs are long; one each
        for lat in (0, 50):
            kept = OUT / f"full-{n}-{lat}.duckdb"
            base = median_of(
                reps,
                "harvest",
                "--plan",
                "bzmine",
                "--corpus",
                str(c),
                "--latency-ms",
                str(lat),
                "--keep-db",
                str(kept),
            )
            rows = [("bzmine", "full", base)]
            rows.append(
                (
                    "bzmine",
                    "incremental, no change",
                    median_of(
                        reps,
                        "harvest",
                        "--plan",
                        "bzmine",
                        "--corpus",
                        str(c),
                        "--latency-ms",
                        str(lat),
                        "--mode",
                        "incremental",
                        "--from-db",
                        str(kept),
                    ),
                )
            )
            changed = corpus(
                n, 50
            )  # touched now, so the changes fall inside the 5-minute overlap of the kept watermark
            rows.append(
                (
                    "bzmine",
                    "incremental, 50 changed",
                    median_of(
                        reps,
                        "harvest",
                        "--plan",
                        "bzmine",
                        "--corpus",
                        str(c),
                        "--changed-corpus",
                        str(changed),
                        "--latency-ms",
                        str(lat),
                        "--mode",
                        "incremental",
                        "--from-db",
                        str(kept),
                    ),
                )
            )
            if n == small:
                rows.append(
                    (
                        "naive",
                        "full",
                        median_of(
                            1 if lat else rep,
                            "harvest",
                            "--plan",
                            "naive",
                            "--corpus",
                            str(c),
                            "--latency-ms",
                            str(lat),
                        ),
                    )
                )
            if n == small or lat == 0:
                rows.append(
                    (
                        "perceval",
                        "full",
                        median_of(
                            reps,
                            "harvest",
                            "--plan",
                            "perceval",
                            "--corpus",
                            str(c),
                            "--latency-ms",
                            str(lat),
                        ),
                    )
                )
            for plan, mode, r in rows:
                ratio_req = r["requests"] / base["requests"] if plan != "bzmine" else None
                ratio_wall = r["wall_s"] / base["wall_s"] if plan != "bzmine" else None
                w(
                    f"| {n:,} | {lat} ms | {plan} | {mode} | {r['requests']:,.0f} | {r['bytes'] / 1e6:,.1f} | {r['wall_s']:.2f}"
                    f"{' (1 run)' if r['runs'] == 1 else ''} | {r['peak_mb']:.0f} | "
                    f"{'' if ratio_req is None else f'{ratio_req:.1f}x'} | {'' if ratio_wall is None else f'{ratio_wall:.1f}x'} |"
                )
                harvest_rows.append((n, lat, plan, mode, r))
    w("")
    w(
        "Ratios are baseline / bzmine: how many times more requests and wall time the baseline needs. "
        "Issue #3's target: at least 20x fewer requests and 10x less wall time than the naive loop "
        "(2,000 bugs, 50 ms). Requests of a full sync of N bugs, exactly (bzmine/sync.py, docs/harvest.md): "
        "2 + floor(N/1000) + 1 + [N mod 1000 > 0] + ceil(N/50), e.g. "
        f"{full_sync_requests(small):,} for {small:,} and {full_sync_requests(large):,} for {large:,}.\n"
    )


def fixed_cost_section(w: Any, rep: int) -> None:
    w("## Fixed cost of a command\n")
    fresh = OUT / "fixed-cost.duckdb"
    firsts = []
    for _ in range(rep):
        for leftover in (fresh, Path(str(fresh) + ".wal")):
            leftover.unlink(missing_ok=True)
        firsts.append(command_wall(1, "parse", "--db", str(fresh), "-q"))
    later = {
        name: command_wall(rep, *args, "--db", str(fresh))
        for name, args in (("parse", ("parse", "-q")), ("status", ("status",)), ("scorecard", ("scorecard",)))
    }
    w(
        f"Whole `bzmine` processes on an empty database (interpreter start, imports, migrations and views included; "
        f"medians of {rep}): **first command {statistics.median(firsts):.2f} s** (`bzmine parse` creating the file: "
        f"schema and every view), later commands **{later['parse']:.2f} s** (`parse`), **{later['status']:.2f} s** "
        f"(`status`), **{later['scorecard']:.2f} s** (`scorecard`). Targets (issue #13): under 1 s and 0.5 s. Views "
        "are created against empty stand-in tables of the views they read (`bzmine/store/db.py` `apply_views`), so "
        "each is bound once instead of with its whole dependency tree.\n"
    )
    db = str(parsed_database(1000))
    on_1k = {
        name: command_wall(rep, name, "--db", db, "--as-of", AS_OF) for name in ("scorecard", "due", "trends")
    }
    on_1k["status"] = command_wall(rep, "status", "--db", db)
    # same-run baselines: the floor (an interpreter importing DuckDB and the CLI) and the pandas path (csv output)
    floor = statistics.median(_wall([sys.executable, "-c", "import duckdb, bzmine.cli"]) for _ in range(rep))
    with_pandas = command_wall(rep, "scorecard", "--db", db, "--as-of", AS_OF, "--format", "csv")
    w(
        "The same on 1,000 parsed synthetic bugs (whole processes, medians of "
        f"{rep}): "
        + ", ".join(f"**{v:.2f} s** (`{k}`)" for k, v in on_1k.items())
        + f". Same run: `python -c 'import duckdb, bzmine.cli'` {floor:.2f} s (the floor), `scorecard --format csv` "
        f"(the DataFrame path, pandas imported) {with_pandas:.2f} s: the table path takes "
        f"{on_1k['scorecard'] / with_pandas:.2f}x of it. Target (issue #33): under 0.5 s.\n"
    )


def _wall(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, capture_output=True, check=True)
    return time.perf_counter() - t0


def parse_section(
    w: Any, large: int, scales: list[int], rep: int, dbs: dict[int, Path], load_s: dict[int, float]
) -> None:
    w("## Parse throughput\n")
    pure = median_of(rep, "parse-pure", "--corpus", str(corpus(large)))
    w(
        f"- Pure parser, one core, {pure['comments']:,.0f} synthetic comments (`{large:,}` bugs): "
        f"**{pure['comments_per_s']:,.0f} comments/s** (target >= 2,000)."
    )
    reviewed = median_of(rep, "parse-pure", "--corpus", str(corpus(large)), "--review")
    w(
        f"- The same with every report reviewed against the guidelines in force (what `parse` adds): "
        f"{reviewed['comments_per_s']:,.0f} comments/s, **+{100 * (reviewed['wall_s'] / pure['wall_s'] - 1):.0f} %** "
        "time over parsing alone (issue #14: under 20 %)."
    )
    for n in scales:
        dbs[n], load_s[n] = database(n)
    par = median_of(1, "parse", "--db", str(dbs[scales[1]]))
    one = median_of(1, "parse", "--db", str(dbs[scales[1]]), "--workers", "1")
    w(
        f"- Full rebuild of the parsed tables from raw, {scales[1]:,} bugs ({par['comments']:,.0f} comments): "
        f"{one['comments_per_s']:,.0f} comments/s with 1 worker, {par['comments_per_s']:,.0f} comments/s with "
        f"{os.cpu_count()} workers ({one['wall_s'] / par['wall_s']:.2f}x) (1 run each).\n"
    )


def scale_section(
    w: Any, scales: list[int], rep: int, dbs: dict[int, Path], load_s: dict[int, float]
) -> None:
    for n in scales:
        if n not in dbs:
            dbs[n], load_s[n] = database(n)
    w("## Rebuild (parse + metrics) and query latency at scale\n")
    w(
        "Databases are loaded straight into the raw tables (no HTTP). `rebuild` = full parse + computing every metric "
        "layer for one as_of (`bzmine sql` on a metric view); query rows are whole CLI commands (open, refresh views, "
        "snapshot, query, print) as a user runs them. Peak memory is each task's own peak resident set (VmHWM of the task "
        "process, which starts afresh at exec, or of its parse workers if larger), not the driver's.\n"
    )
    w(
        "| bugs | comments | load s | parse s | metrics s | rebuild s | rebuild peak MB | scorecard s | due s | trends s | CLI peak MB |"
    )
    w("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    growth: dict[str, list[float]] = {"rebuild": [], "mem": []}
    for n in scales:
        db = str(dbs[n])
        p = task("parse", "--db", db)
        m = task("cli", "--", "sql", "SELECT count(*) FROM scorecard", "--db", db, "--as-of", AS_OF)
        q = {
            name: median_of(rep, "cli", "--", name, "--db", db, "--as-of", AS_OF)
            for name in ("scorecard", "due", "trends")
        }
        rebuild = p["wall_s"] + m["wall_s"]
        growth["rebuild"].append(rebuild)
        growth["mem"].append(max(p["peak_mb"], m["peak_mb"]))
        w(
            f"| {n:,} | {p['comments']:,} | {load_s[n]:.1f} | {p['wall_s']:.1f} | {m['wall_s']:.1f} | {rebuild:.1f} | "
            f"{max(p['peak_mb'], m['peak_mb']):.0f} | {q['scorecard']['wall_s']:.2f} | {q['due']['wall_s']:.2f} | "
            f"{q['trends']['wall_s']:.2f} | {max(x['peak_mb'] for x in q.values()):.0f} |"
        )
    w("")
    w(
        f"Growth from {scales[0]:,} to {scales[-1]:,} bugs, fitted as time ~ n^k on log-log scale: rebuild time "
        f"k = **{fit_exponent(scales, growth['rebuild']):.2f}**, peak memory k = **{fit_exponent(scales, growth['mem']):.2f}**. "
        "Targets: scorecard and due under 2.5 s (issue #33; 3 s in issue #13) and 2 GiB at 100,000 bugs; parse + "
        "metrics rebuild under 10 minutes. The same commands against an earlier revision in the same run: "
        "`python -m benchmarks.querycost`.\n"
    )


def sync_memory_section(w: Any, sizes: list[int], rep: int) -> None:
    """Peak resident memory of a full sync per N, beside the Perceval-style plan's on the same corpus (0 ms)."""
    w("## Sync peak memory per bug count\n")
    w(
        "Full sync through the local server (0 ms latency), bzmine and the Perceval-style plan on the same corpus in "
        "the same run. Peak MB is the task process's own peak resident set (VmHWM), imports included; the server "
        "runs in its own process and is not counted. Large sizes run once (1 run).\n"
    )
    w("| bugs | plan | requests | wall s | peak MB | peak / Perceval's |")
    w("|---:|---|---:|---:|---:|---:|")
    peaks: dict[int, float] = {}
    for n in sizes:
        c = str(corpus(n))
        reps = rep if n <= 2000 else 1
        ours = median_of(reps, "harvest", "--plan", "bzmine", "--corpus", c, "--latency-ms", "0")
        theirs = median_of(reps, "harvest", "--plan", "perceval", "--corpus", c, "--latency-ms", "0")
        peaks[n] = ours["peak_mb"]
        one = " (1 run)" if reps == 1 else ""
        w(
            f"| {n:,} | bzmine | {ours['requests']:,.0f} (formula {full_sync_requests(n):,}) | "
            f"{ours['wall_s']:.2f}{one} | {ours['peak_mb']:.0f} | {ours['peak_mb'] / theirs['peak_mb']:.2f}x |"
        )
        w(
            f"| {n:,} | perceval | {theirs['requests']:,.0f} | {theirs['wall_s']:.2f}{one} | {theirs['peak_mb']:.0f} | |"
        )
    w("")
    if len(peaks) > 1:
        lo, hi = min(peaks), max(peaks)
        w(
            f"bzmine's peak at {hi:,} bugs is **{peaks[hi] / peaks[lo]:.2f}x** its peak at {lo:,} "
            f"({peaks[hi]:.0f} MB against {peaks[lo]:.0f} MB). Issue #33's targets: under 300 MB at 100,000 bugs, "
            "within 2x of the 20,000 figure.\n"
        )


def baseline_source(rev: str) -> Path:
    """The package (and the files it reads from the source tree) as of git revision `rev`, extracted once into
    benchmarks/out: a task run from that folder imports that bzmine, so older code is timed in the same run."""
    sha = subprocess.run(
        ["git", "rev-parse", "--verify", f"{rev}^{{commit}}"], cwd=ROOT, capture_output=True, text=True
    )
    if sha.returncode != 0:
        raise SystemExit(f"--report-baseline: no git revision {rev!r}")
    dest = OUT / f"src-{sha.stdout.strip()[:12]}"
    if not (dest / "bzmine").is_dir():
        dest.mkdir(parents=True, exist_ok=True)
        tar = subprocess.run(
            ["git", "archive", sha.stdout.strip(), "bzmine", "benchmarks", "docs"],
            cwd=ROOT,
            capture_output=True,
        )
        if tar.returncode != 0:
            raise SystemExit(f"git archive {rev} failed: {tar.stderr.decode()[-500:]}")
        subprocess.run(["tar", "-x", "-C", str(dest)], input=tar.stdout, check=True)
    return dest


def _report_runs(w: Any, label: str, db: Path, runs: int, old: tuple[str, Path] | None = None) -> None:
    """Fresh report with the code of an older revision (if given), with one plot process, with the default, then an
    unchanged rebuild into the same folder."""
    out = OUT / "report-out"

    def run(workers: str | None, fresh: bool, runs: int, cwd: Path = ROOT) -> dict[str, Any]:
        def one() -> dict[str, Any]:
            if fresh and out.exists():
                shutil.rmtree(out)
            args = ["report", "--db", str(db), "--out", str(out), "--as-of", AS_OF]
            return task(*args, *(["--workers", workers] if workers else []), cwd=cwd)

        res = [one() for _ in range(runs)]
        med = {k: statistics.median(r[k] for r in res) for k in ("wall_s", "peak_mb")}
        return {**res[-1], **med, "runs": runs}

    before = run(None, True, runs, old[1]) if old else None  # its default plot processes
    serial = run("1", True, runs)
    default = run(None, True, runs)
    again = run(None, False, runs)  # the folder the default run just wrote: every plot's inputs are unchanged
    one = " (1 run)" if runs == 1 else ""
    old_cells = (
        f"{before['wall_s']:.1f}{one} | {before['wall_s'] / default['wall_s']:.2f}x | " if before else ""
    )
    w(
        f"| {label} | {serial['pages']:,} | {serial['plots']:,} | {old_cells}{serial['wall_s']:.1f}{one} | "
        f"{default['wall_s']:.1f}{one} ({default['plots_drawn']} drawn) | "
        f"{serial['wall_s'] / default['wall_s']:.2f}x | {again['wall_s']:.1f}{one} ({again['plots_drawn']} drawn) | "
        f"{max(serial['peak_mb'], default['peak_mb']):.0f} |"
    )


def report_section(w: Any, sizes: list[int], rep: int, baseline: str | None = None) -> None:
    """`bzmine report` time per bug count and on the real bug list; same-run baselines: one plot process, and the
    code of an older revision (--report-baseline)."""
    old = (baseline, baseline_source(baseline)) if baseline else None
    w("## Report time\n")
    w(
        f"`bzmine report --as-of {AS_OF}` on parsed synthetic databases (loaded without HTTP) and on the real bug "
        "list (`../shared/realdata/webpki-observatory/bugs_raw.json`, synced through the local server as "
        "tests/test_snapshot.py does; skipped when absent). Wall time of the report itself (from importing "
        "bzmine.report to the last file), into an empty folder with `--workers 1` (the baseline) and with the "
        "default plot processes, then again into the folder the default run wrote (plots whose inputs are unchanged "
        "are kept). Peak MB: the task's own peak or its plot workers'."
        + (
            f" `{baseline}` s: the same report by the code of revision {baseline} (its default plot processes), "
            "timed in the same run; `/ default`: that time over this code's default."
            if old
            else ""
        )
        + "\n"
    )
    head = f"{baseline} s | {baseline} / default | " if old else ""
    w(
        f"| bugs | pages | plots | {head}--workers 1 s | default s | workers 1 / default | unchanged rebuild s | "
        "peak MB |"
    )
    w("|---:|---:|---:|" + ("---:|---:|" if old else "") + "---:|---:|---:|---:|---:|")
    for n in sizes:
        _report_runs(w, f"{n:,}", parsed_database(n), rep if n <= 1000 else 1, old)
    if REAL_BUGS.exists():
        kept = OUT / "real.duckdb"
        kept.unlink(missing_ok=True)
        task(
            "harvest",
            "--plan",
            "bzmine",
            "--corpus",
            str(REAL_BUGS),
            "--latency-ms",
            "0",
            "--keep-db",
            str(kept),
        )
        task("parse", "--db", str(kept))
        _report_runs(w, "real list (1,688)", kept, 1, old)
    else:
        w("| real list | skipped: ../shared/realdata is absent | | | | | | |")
    w("")
    w(
        "Issue #33's targets: the real bug list under 8 s and 30,000 bugs under 12 s; an unchanged rebuild draws no "
        "plot.\n"
    )


def _mem_gib() -> float:
    try:
        with open("/proc/meminfo") as fh:
            return int(fh.readline().split()[1]) / 1024 / 1024
    except OSError:
        return float("nan")


if __name__ == "__main__":
    main()
