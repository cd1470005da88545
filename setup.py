"""Only the build step pyproject.toml cannot say: the wheel carries files kept outside the package.

docs/metrics.md (the Methods page of every report), notebooks/ (`bzmine notebooks`) and data/sample/ (`bzmine demo`)
have one copy each, in the source tree; building a wheel copies them into bzmine/_bundled/. An editable install reads
them where they are (bzmine/bundled.py).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLED = {"metrics.md": "docs/metrics.md", "notebooks": "notebooks", "sample": "data/sample"}


class BuildPyWithBundled(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        dest = Path(self.build_lib) / "bzmine" / "_bundled"
        for name, src in BUNDLED.items():
            source, target = ROOT / src, dest / name
            if not source.exists():
                raise SystemExit(f"setup.py: {src} is missing; a wheel without it would be a lesser bzmine")
            if source.is_dir():
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(
                    source, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
                )
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)


setup(cmdclass={"build_py": BuildPyWithBundled})
