"""Writing output files without following symbolic links: a link planted in an output folder (`report --out`)
must not make bzmine overwrite the file it points to."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bzmine.errors import ConfigError


def refuse_link(path: Path) -> None:
    """A symbolic link where bzmine writes is refused: someone else may have put it there, pointing anywhere."""
    if path.is_symlink():
        raise ConfigError(
            f"{path} is a symbolic link; bzmine does not write through links. Remove it (or choose another "
            "--out) and run the command again"
        )


def make_dir(path: Path) -> Path:
    """mkdir -p, refusing a folder that is a symbolic link."""
    refuse_link(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_bytes(path: Path, data: bytes) -> None:
    """Write to a new temporary file in the same folder, then rename it over `path`: the rename replaces whatever
    entry is there (never the target of a link), and a reader never sees half a file. A link at `path` is refused."""
    refuse_link(path)
    refuse_link(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))
