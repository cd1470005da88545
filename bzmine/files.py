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


MAX_JSON_DEPTH = 100  # config files and corpus records are a few levels deep; far deeper is not one of them


def json_depth(obj: object) -> int:
    """How deeply lists and objects nest in parsed JSON (iterative: no depth can overflow the stack here)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            values: object = value.values()
        elif isinstance(value, list):
            values = value
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((v, depth + 1) for v in values)  # type: ignore[attr-defined]
    return deepest


def load_json(text: str, where: str, error: type[Exception] = ConfigError) -> object:
    """JSON from a user's file, or `error` saying what is wrong with it: invalid JSON, or nesting deeper than
    MAX_JSON_DEPTH (which would overflow the stack of whatever walks it next, json.loads itself included)."""
    import json

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{where}: line {exc.lineno}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        data = None
        depth = MAX_JSON_DEPTH + 1
    else:
        depth = json_depth(data)
    if depth > MAX_JSON_DEPTH:
        raise error(f"{where}: JSON nested more than {MAX_JSON_DEPTH} levels deep; not a file bzmine reads")
    return data
