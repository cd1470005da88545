"""README examples against the real CLI (tests/docs_examples.py; `make docs` rewrites the ones it can)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bzmine.cli import cli
from bzmine.corpus import load_corpus
from bzmine.server import LocalBugzilla
from tests.docs_examples import ROOT, mismatch, run, runnable

README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLES = runnable(README)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `make demo` builds: data/sample served locally, synced and parsed."""
    db = tmp_path_factory.mktemp("docs") / "demo.duckdb"
    with LocalBugzilla(load_corpus(ROOT / "data" / "sample")) as srv:
        res = CliRunner().invoke(cli, ["sync", "--url", srv.url, "--db", str(db), "--no-cache", "-q"])
    assert res.exit_code == 0, res.output
    return db


def test_the_readme_has_examples_to_check() -> None:
    assert len(EXAMPLES) >= 12 and {e.subcommand for e in EXAMPLES} >= {
        "scorecard",
        "due",
        "trends",
        "sql",
        "explain",
        "review",
    }


def test_every_example_that_runs_shows_output() -> None:
    """An example without output lines cannot fail its check: every example that runs shows at least one line."""
    empty = [
        f"README.md:{e.line + 1}: $ {e.command}" for e in EXAMPLES if not any(s.strip() for s in e.shown)
    ]
    assert empty == []


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"README:{e.line + 1}" for e in EXAMPLES])
def test_readme_example_matches_the_cli(example, demo_db: Path) -> None:  # type: ignore[no-untyped-def]
    actual = run(example, demo_db)
    wrong = mismatch(example, actual)
    assert wrong is None, (
        f"README.md:{example.line + 1}: `$ {example.command}` no longer prints\n  {wrong!r}\n"
        "run `make docs` (or update the example by hand):\n" + "\n".join(actual[:30])
    )
