"""The command examples in README.md, run for real: `check` (a test) and `--write` (`make docs`).

An example is a `$ bzmine ...` line in a fenced block and the lines after it up to the next `$` line. Examples that
depend on the moment or the machine (sync, status, report, snapshot, cite, export, serve-corpus, paper-tables) are not run. The
check: every shown output line, whitespace-normalised and with the local server's port masked, appears in the real
output, in order (`...` marks lines left out). `--write` replaces the output of examples that leave nothing out.
"""

from __future__ import annotations

import atexit
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOT_RUN = {"sync", "status", "report", "snapshot", "cite", "export", "serve-corpus", "paper-tables"}
DEMO_DB = "data/demo.duckdb"
SNAPSHOT = "/tmp/snap"  # the README's snapshot: examples reading it run on a snapshot of the demo database
_SNAPSHOTS: dict[Path, Path] = {}
COLUMNS = 120  # tables fit the terminal: README examples are shown as on a terminal this wide


@dataclass
class Example:
    line: int  # index of the `$` line in the file
    command: str
    shown: list[str]

    @property
    def subcommand(self) -> str:
        return shlex.split(self.command)[1]


def examples(text: str) -> list[Example]:
    out: list[Example] = []
    lines = text.splitlines()
    inside = False
    current: Example | None = None
    for i, ln in enumerate(lines):
        if ln.startswith("```"):
            inside = not inside
            current = None
            continue
        if not inside:
            continue
        if ln.startswith("$ "):
            current = Example(i, ln[2:], []) if ln.startswith("$ bzmine ") else None
            if current:
                out.append(current)
        elif current is not None:
            current.shown.append(ln)
    return out


def _norm(line: str) -> str:
    return " ".join(re.sub(r"http://127\.0\.0\.1:\d+", "http://127.0.0.1:PORT", line).split())


def snapshot_of(db: Path) -> Path:
    """A snapshot of `db` cut as the README's snapshot example cuts it (once per database, in a temporary folder)."""
    if db not in _SNAPSHOTS:
        out = Path(tempfile.mkdtemp(prefix="bzmine-docs-")) / "snap"
        atexit.register(shutil.rmtree, out.parent, True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "bzmine",
                "snapshot",
                "--db",
                str(db),
                "--out",
                str(out),
                "--as-of",
                "2026-11-01",
            ],
            cwd=ROOT,
            capture_output=True,
            check=True,
            timeout=300,
        )
        _SNAPSHOTS[db] = out
    return _SNAPSHOTS[db]


def run(example: Example, db: Path) -> list[str]:
    """The real output lines (stdout, then stderr) of an example, on database `db` (or a snapshot of it)."""
    cmd, _, pipe = example.command.partition(" | ")
    args = [
        str(db) if a == DEMO_DB else str(snapshot_of(db)) if a == SNAPSHOT else a
        for a in shlex.split(cmd)[1:]
    ]
    res = subprocess.run(
        [sys.executable, "-m", "bzmine", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": str(COLUMNS)},
    )
    lines = (res.stdout + res.stderr).splitlines()
    if pipe.startswith("head -"):
        lines = lines[: int(pipe.split("-", 1)[1])]
    return lines


def mismatch(example: Example, actual: list[str]) -> str | None:
    """None when every shown line is in the real output, in order; else the first line that is not."""
    real = [_norm(x) for x in actual]
    pos = 0
    for shown in example.shown:
        if shown.strip() == "...":
            continue
        want = _norm(shown)
        # "..." inside a line stands for text left out there
        rx = re.compile(".*".join(re.escape(p) for p in want.split("...")) + "$") if "..." in want else None
        hit = next((i for i in range(pos, len(real)) if (rx.match(real[i]) if rx else real[i] == want)), None)
        if hit is None:
            return shown
        pos = hit + 1
    return None


def runnable(text: str) -> list[Example]:
    return [e for e in examples(text) if e.subcommand not in NOT_RUN]


def write(path: Path, db: Path) -> list[str]:
    """Rewrite the output of every example that leaves nothing out; return the ones that still differ."""
    lines = path.read_text(encoding="utf-8").splitlines()
    stale = []
    for ex in reversed(runnable("\n".join(lines))):
        actual = run(ex, db)
        if mismatch(ex, actual) is None:
            continue
        if any(s.strip() == "..." for s in ex.shown):
            stale.append(f"{path}:{ex.line + 1}: $ {ex.command}")
            continue
        lines[ex.line + 1 : ex.line + 1 + len(ex.shown)] = actual
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return stale


if __name__ == "__main__":
    db = Path(sys.argv[sys.argv.index("--db") + 1]) if "--db" in sys.argv else ROOT / DEMO_DB
    left = write(ROOT / "README.md", db)
    for s in left:
        print(f"update by hand (the example leaves lines out): {s}", file=sys.stderr)
    sys.exit(1 if left else 0)
