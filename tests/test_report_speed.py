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
    assert len(pngs) == 5 and f"{len(pngs)} plots" in one  # the overview's five (a CA page's chart is HTML)
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


def test_plots_an_earlier_report_wrote_and_this_one_does_not_are_removed(db: Path, tmp_path: Path) -> None:
    """A folder written by an older report (one PNG per CA page) loses the PNGs its index names and this report no
    longer draws; files it never wrote, links and names outside the folder stay."""
    import json

    out = tmp_path / "rep"
    img = out / "img"
    img.mkdir(parents=True)
    outside = tmp_path / "outside.png"
    for p in (img / "peers-old-ca.png", img / "mine.png", outside):
        p.write_bytes(b"\x89PNG old")
    (img / "peers-link.png").symlink_to(outside)
    index = {"peers-old-ca.png": "x", "peers-link.png": "y", "../outside.png": "z", ".hidden.png": "w"}
    (img / PLOT_INDEX).write_text(json.dumps(index))
    (img / ".hidden.png").write_bytes(b"kept")
    con = connect(db)
    try:
        res = write_report(con, out, AS_OF, quiet=True, workers=1)
    finally:
        con.close()
    assert res.plots_drawn == res.plots == 5
    assert not (img / "peers-old-ca.png").exists()
    assert (img / "mine.png").is_file() and outside.is_file() and (img / "peers-link.png").is_symlink()
    assert (img / ".hidden.png").is_file()
    assert set(json.loads((img / PLOT_INDEX).read_text())) == {p.name for p in img.glob("*.png")} - {
        "mine.png",
        "peers-link.png",
        ".hidden.png",
    }
