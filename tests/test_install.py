"""bzmine as a user installs it: the built wheel in a fresh venv, outside the source tree, runs the demo, writes a
report whose Methods page holds every definition, and hands out the notebooks."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# what a wheel is built from: the package and the files setup.py bundles into it (nothing else of the tree)
BUILD_INPUTS = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "bzmine", "docs/metrics.md", "notebooks",
                "data/sample")  # fmt: skip


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, f"{cmd}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res


def _build_wheel(tmp: Path) -> Path:
    """pip wheel from a copy of the build inputs (the source tree gets no build/ folder). Offline when this venv's
    setuptools is new enough (make venv installs it); else pip fetches setuptools into an isolated build env."""
    src = tmp / "src"
    for name in BUILD_INPUTS:
        s, d = ROOT / name, src / name
        d.parent.mkdir(parents=True, exist_ok=True)
        if s.is_dir():
            shutil.copytree(
                s, d, ignore=shutil.ignore_patterns("__pycache__", "_bundled", ".ipynb_checkpoints")
            )
        else:
            shutil.copyfile(s, d)
    major = int(importlib.metadata.version("setuptools").split(".")[0])
    isolation = [] if major < 68 else ["--no-build-isolation"]
    out = tmp / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", *isolation, "-w", str(out), str(src)], tmp)
    (wheel,) = out.glob("bzmine-*.whl")
    return wheel


def _fresh_venv(tmp: Path, wheel: Path) -> Path:
    """A venv with only the wheel installed; its dependencies come from this venv's site-packages through a .pth
    line (a plain path: the editable bzmine's own .pth and finder there are not run, so no source tree is reachable)."""
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp)
    py = venv / "bin" / "python"
    site = Path(
        _run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp).stdout.strip()
    )
    deps = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (site / "zz_bzmine_test_deps.pth").write_text("\n".join(deps) + "\n", encoding="utf-8")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(py),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        tmp,
    )
    return venv


def _figure_names(doc: str) -> list[str]:
    """The scorecard figures docs/metrics.md defines: the first column of its figure table."""
    return re.findall(r"^\| `([a-z0-9_]+)` \|", doc, flags=re.M)


@pytest.mark.slow
def test_the_wheel_installed_in_a_fresh_venv_runs_the_demo_and_reports_the_definitions(
    tmp_path: Path,
) -> None:
    from bzmine.report import methods_html

    wheel = _build_wheel(tmp_path)
    venv = _fresh_venv(tmp_path, wheel)
    home = tmp_path / "user"  # a user's directory: no source tree, nothing of ours on PYTHONPATH
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "BZMINE_DB")}
    env["COLUMNS"] = "120"
    bzmine = str(venv / "bin" / "bzmine")

    where = _run([str(venv / "bin" / "python"), "-c", "import bzmine, sys; print(bzmine.__file__); print(sys.path)"],
                 home, env).stdout  # fmt: skip
    assert where.startswith(str(venv)), where
    assert str(ROOT) not in where.replace(
        str(ROOT / ".venv"), ""
    )  # the tree's own folders are not on the path

    demo = _run([bzmine, "demo"], home, env)
    assert "from the bundled sample" in demo.stdout and "report: " in demo.stdout
    assert "Traceback" not in demo.stdout + demo.stderr
    assert (home / "data" / "demo.duckdb").is_file()

    methods = (home / "data" / "report" / "methods.html").read_text(encoding="utf-8")
    doc = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    names = _figure_names(doc)
    assert len(names) >= 25, names  # the figure table was found
    missing = [n for n in names if n not in methods]
    assert not missing, missing
    assert "definitions are in docs/metrics.md" not in methods
    assert methods_html() in methods  # the whole document, as the source tree renders it

    nb = _run([bzmine, "notebooks", "--out", "nb"], home, env)
    assert "4 copied" in nb.stdout, nb.stdout
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert (home / "nb" / path.name).read_bytes() == path.read_bytes()
    again = _run([bzmine, "notebooks", "--out", "nb"], home, env)
    assert "0 copied" in again.stdout and "kept 4" in again.stdout

    # the built-in tables travel too: the review rules (and the owner table, read by every parse above)
    shutil.copyfile(ROOT / "tests" / "fixtures" / "comments" / "v3_full_md.txt", home / "report.txt")
    review = _run([bzmine, "review", "report.txt", "--date", "2025-06-01"], home, env)
    assert "v3.full.action_items.status" in review.stdout, review.stdout


def test_a_failing_demo_step_is_one_line_and_notebooks_refuse_a_file(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from bzmine.cli import cli

    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    res = CliRunner().invoke(
        cli, ["demo", "--db", str(blocker / "demo.duckdb"), "--report", str(tmp_path / "r")]
    )
    assert res.exit_code == 1, res.output
    err = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(err) == 1 and err[0].startswith("Error: demo step failed: bzmine sync"), res.stderr
    assert "Traceback" not in res.output
    res = CliRunner().invoke(cli, ["notebooks", "--out", str(blocker / "nb")])
    assert res.exit_code == 1 and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert "Traceback" not in res.output
