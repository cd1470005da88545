"""Files that live outside the package in the source tree, and inside it in a wheel (setup.py copies them).

One copy of each exists in the repository (docs/metrics.md, notebooks/, data/sample/); an installed bzmine finds the
copy its wheel carries, an editable one the source tree's.
"""

from __future__ import annotations

from pathlib import Path

from bzmine.errors import BzmineError

SOURCES = {"metrics.md": "docs/metrics.md", "notebooks": "notebooks", "sample": "data/sample"}


def path(name: str) -> Path:
    """Where a bundled file or folder is: bzmine/_bundled/NAME (a wheel), else the source tree's copy."""
    here = Path(__file__).resolve().parent
    for p in (here / "_bundled" / name, here.parent / SOURCES[name]):
        if p.exists():
            return p
    raise BzmineError(
        f"this bzmine was installed without its {SOURCES[name]}: reinstall it from a wheel or the source tree"
    )
