"""The package's layers (docs/architecture.md, issue 30): imports go one way, down, and never in a circle.

Every import counts, including those inside functions (the circle this replaced was made of them). The checker is
tested on code that breaks each rule, so a broken checker cannot pass silently. A second test runs every reading
command with the writing code (migrations, views, built-in tables, re-parse, the writer) made to fail: reading
reaches none of it.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

PACKAGE = Path(__file__).resolve().parents[1] / "bzmine"

# lowest first; a module may import from its own layer and from the layers listed as below it
LAYERS: dict[str, tuple[str, ...]] = {
    "base": (
        "bzmine.version",
        "bzmine.errors",
        "bzmine.timeutil",
        "bzmine.files",
        "bzmine.terminal",
        "bzmine.table",
        "bzmine.procs",
        "bzmine.http",
        "bzmine.config",
        "bzmine.bundled",
    ),
    "parse": ("bzmine.parse",),  # pure parsers: text in, records out
    "store": ("bzmine.store",),  # the floor: DuckDB files, migrations, views, table writes
    "access": (
        "bzmine.bugzilla",
        "bzmine.sync",
        "bzmine.corpus",
        "bzmine.synth",
        "bzmine.server",
        "bzmine.snapshot",
        "bzmine.parsing",
        "bzmine.database",
    ),
    "analysis": (
        "bzmine.metrics",
        "bzmine.research",
        "bzmine.query",
        "bzmine.export",
        "bzmine.status",
        "bzmine.dictionary",
        "bzmine.plots",
        "bzmine.report",
    ),
    "interface": ("bzmine.cli", "bzmine.demo", "bzmine.__main__", "bzmine"),
}
MAY_IMPORT: dict[str, set[str]] = {
    "base": {"base"},
    "parse": {"base", "parse"},  # parse and store know nothing of each other
    "store": {"base", "store"},
    "access": {"base", "parse", "store", "access"},
    "analysis": {"base", "parse", "store", "access", "analysis"},
    "interface": set(LAYERS),
}


def layer_of(module: str) -> str | None:
    """The layer of a module: the longest listed name that is the module or a package holding it."""
    best: tuple[int, str] | None = None
    for layer, names in LAYERS.items():
        for name in names:
            inside = module == name or (name != "bzmine" and module.startswith(name + "."))
            if inside and (best is None or len(name) > best[0]):
                best = (len(name), layer)
    return best[1] if best else None


def _is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every bzmine module a source imports, anywhere in it (top level, functions, methods, conditionals)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            if not name.startswith("bzmine"):
                continue
            # `from bzmine import metrics` imports the module bzmine.metrics; `from bzmine.x import f` imports bzmine.x
            subs = {name + "." + a.name for a in node.names if _is_module(name + "." + a.name)}
            out.update(subs or {name})
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("bzmine"))
    out.discard(module)
    return out


def package_graph() -> dict[str, set[str]]:
    return {
        module_name(p): imports_of(p.read_text(encoding="utf-8"), module_name(p), p.name == "__init__.py")
        for p in sorted(PACKAGE.rglob("*.py"))
    }


def violations(graph: dict[str, set[str]]) -> list[str]:
    """Each import that goes up a layer or sideways between parse and store, and each module with no layer."""
    out = []
    for module, targets in sorted(graph.items()):
        mine = layer_of(module)
        if mine is None:
            out.append(f"{module}: in no layer (add it to LAYERS here and to docs/architecture.md)")
            continue
        for target in sorted(targets):
            theirs = layer_of(target)
            if theirs is not None and theirs not in MAY_IMPORT[mine]:
                out.append(f"{module} ({mine}) imports {target} ({theirs})")
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Import circles between modules (a package's own __init__ importing its submodules aside)."""
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(graph.get(m, ())):
            if t.startswith(m + "."):  # a package importing its submodules is not a circle
                continue
            if state.get(t) == 1:
                found.append(stack[stack.index(t) :] + [t])
            elif t in graph and t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    return found


def test_imports_go_down_the_layers() -> None:
    graph = package_graph()
    assert len(graph) > 40, "the package was not found"
    assert violations(graph) == []


def test_no_import_circles() -> None:
    assert cycles(package_graph()) == []


def test_store_imports_only_the_base() -> None:
    graph = package_graph()
    store = {m: t for m, t in graph.items() if m.startswith("bzmine.store")}
    assert store and all(layer_of(t) in ("base", "store") for ts in store.values() for t in ts), store


# the checker, tested on code that breaks each rule


def test_a_forbidden_import_inside_a_function_is_caught() -> None:
    graph = package_graph()
    src = "def f():\n    if True:\n        from bzmine.snapshot import is_snapshot\n    return is_snapshot\n"
    graph["bzmine.store.db"] = graph["bzmine.store.db"] | imports_of(src, "bzmine.store.db")
    assert violations(graph) == ["bzmine.store.db (store) imports bzmine.snapshot (access)"]


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        (
            "bzmine.parse.review",
            "import bzmine.store.db\n",
            "bzmine.parse.review (parse) imports bzmine.store.db (store)",
        ),
        (
            "bzmine.store.raw",
            "from ..parse import ca\n",
            "bzmine.store.raw (store) imports bzmine.parse.ca (parse)",
        ),
        (
            "bzmine.metrics",
            "from bzmine import cli\n",
            "bzmine.metrics (analysis) imports bzmine.cli (interface)",
        ),
        (
            "bzmine.timeutil",
            "from bzmine.metrics import x\n",
            "bzmine.timeutil (base) imports bzmine.metrics (analysis)",
        ),
    ],
)
def test_each_kind_of_upward_import_is_caught(module: str, source: str, expected: str) -> None:
    graph = {module: imports_of(source, module)}
    assert violations(graph) == [expected]


def test_a_module_without_a_layer_is_caught() -> None:
    assert violations({"bzmine.newthing": set()}) == [
        "bzmine.newthing: in no layer (add it to LAYERS here and to docs/architecture.md)"
    ]


def test_a_circle_is_caught() -> None:
    graph = {
        "bzmine.metrics": {"bzmine.research"},
        "bzmine.research": {"bzmine.metrics"},
        "bzmine.errors": set(),
    }
    assert cycles(graph) == [["bzmine.metrics", "bzmine.research", "bzmine.metrics"]]
    assert cycles({"bzmine.cli": {"bzmine.cli.metrics"}, "bzmine.cli.metrics": {"bzmine.cli.common"}}) == []


def test_architecture_doc_names_every_layer_module() -> None:
    doc = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [
        m
        for names in LAYERS.values()
        for m in names
        if m != "bzmine" and f"`{m.removeprefix('bzmine.')}" not in doc
    ]
    assert missing == [], "docs/architecture.md does not show these modules in its layers"


# reading reaches no writing code


def _fail(what: str) -> Any:
    def boom(*_: Any, **__: Any) -> Any:
        raise AssertionError(f"a reading command reached {what}")

    return boom


def test_reading_commands_reach_no_writing_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every reading command on a current database file, with migrations, view creation, built-in tables, the
    re-parse and every write-mode open replaced by a failure: each still answers (exit 0)."""
    import bzmine.database
    import bzmine.parsing
    import bzmine.store.config
    import bzmine.store.db
    from bzmine.cli import cli
    from bzmine.research import load_bug_list
    from tests.test_readonly import _readers

    db = tmp_path / "read.duckdb"
    load_bug_list(PACKAGE.parent / "data" / "sample", db).close()  # the bundled sample, written and parsed
    for mod, name in [
        (bzmine.store.db, "migrate"),
        (bzmine.store.db, "apply_views"),
        (bzmine.store.db, "load_builtin"),
        (bzmine.store.config, "load_builtin"),
        (bzmine.store.db, "connect"),
        (bzmine.store.db, "Writer"),
        (bzmine.database, "connect"),
        (bzmine.database, "Writer"),
        (bzmine.database, "open_for_writing"),
        (bzmine.database, "upgrade"),
        (bzmine.parsing, "reparse"),
    ]:
        monkeypatch.setattr(mod, name, _fail(f"{mod.__name__}.{name}"))
    readers = [r for r in _readers(db, tmp_path) if r[0] != "report"]  # report: its own test below
    readers.append(["report", "--db", str(db), "--out", str(tmp_path / "report"), "-q", "--workers", "1"])
    for args in readers:
        res = CliRunner().invoke(cli, args)
        assert res.exit_code == 0, (args, res.output, res.exception)
