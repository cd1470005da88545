"""The report's plots: drawn in worker processes with the same bytes as in one process, and kept when unchanged."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bzmine.errors import ConfigError
from bzmine.report import PLOT_INDEX, write_report
from bzmine.store.db import connect

AS_OF = "2026-11-01"
ROOT = Path(__file__).resolve().parents[1]


def _files(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def db(sample_db: tuple[Path, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rs") / "r.duckdb"
    shutil.copy(sample_db[0], path)
    return path


def _report(db: Path, out: Path, workers: int) -> str:
    # a process of its own: the plot workers (and multiprocessing's resource tracker) end with it
    res = subprocess.run(
        [sys.executable, "-m", "bzmine", "report", "--db", str(db), "--out", str(out), "--as-of", AS_OF]
        + ["--workers", str(workers)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_parallel_plots_are_pixel_identical_to_serial(db: Path, tmp_path: Path) -> None:
    one = _report(db, tmp_path / "one", 1)
    two = _report(db, tmp_path / "two", 2)
    a, b = _files(tmp_path / "one"), _files(tmp_path / "two")
    assert one == two.replace("/two/", "/one/") and "plots; open" in one
    pngs = [k for k in a if k.endswith(".png")]
    assert len(pngs) >= 6 and f"{len(pngs)} plots" in one  # five overview plots and one per CA page
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []  # every page and every plot byte-identical


def test_an_unchanged_rebuild_keeps_its_plots_and_a_new_as_of_redraws(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "rep"
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    con = connect(db)
    try:
        first = write_report(con, out, AS_OF, quiet=True, workers=1)
        before = {p.name: p.stat().st_mtime_ns for p in (out / "img").glob("*.png")}
        again = write_report(con, out, AS_OF, quiet=True, workers=1)
        after = {p.name: p.stat().st_mtime_ns for p in (out / "img").glob("*.png")}
        # a plot deleted by hand is drawn again
        (out / "img" / "within_7d.png").unlink()
        mended = write_report(con, out, AS_OF, quiet=True, workers=1)
        # a plot replaced by a symlink is refused, never written through (bzmine.files)
        (out / "img" / "within_7d.png").unlink()
        (out / "img" / "within_7d.png").symlink_to(victim)
        with pytest.raises(ConfigError, match="symbolic link"):
            write_report(con, out, AS_OF, quiet=True, workers=1)
        (out / "img" / "within_7d.png").unlink()
        later = write_report(con, out, "2026-12-01", quiet=True, workers=1)
    finally:
        con.close()
    assert first.plots_drawn == first.plots and (out / "img" / PLOT_INDEX).is_file()
    assert again.plots_drawn == 0 and before == after
    assert mended.plots_drawn == 1 and victim.read_text() == "keep me"
    assert (out / "img" / "within_7d.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a later as_of changes the time-to-close curve (and more), but not every CA's percentiles
    assert 2 <= later.plots_drawn <= later.plots
