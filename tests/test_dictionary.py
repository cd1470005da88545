"""The data dictionary covers every column of every table and view a user can query, and is up to date."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from bzmine import dictionary as D
from bzmine.cli import cli
from bzmine.store.db import connect
from tests.docs_examples import ROOT
from tests.helpers import build_db, mk_bug

DOC = ROOT / "docs" / "data-dictionary.md"


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    return connect(tmp_path_factory.mktemp("dd") / "fresh.duckdb")


def test_every_column_of_every_table_and_view_is_documented(fresh: duckdb.DuckDBPyConnection) -> None:
    rels = D.relations(fresh)
    listed = {
        (t, c)
        for t, c in fresh.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'"
        ).fetchall()
    }
    assert {(r.name, c) for r in rels for c, _, _ in r.columns} == listed
    assert len(listed) > 500
    assert D.undocumented(rels) == [], "describe them in bzmine/data/data_dictionary.json, then `make docs`"
    # the columns the issue found documented nowhere
    meaning = {(r.name, c): m for r in rels for c, _, m in r.columns}
    assert "free text" in str(meaning[("incidents", "whiteboard_text")])
    assert "cf_last_resolved" in str(meaning[("incidents", "resolved_at")])
    assert "folded" in str(meaning[("incidents", "ca_key")])
    assert "'(auditor)'" in str(meaning[("trend_bugs", "ca_key")])  # not the same ca_key as incidents'
    assert "higher is better" in str(meaning[("scorecard", "self_reported_share")])


def test_an_undocumented_column_is_caught(tmp_path: Path) -> None:
    con = connect(tmp_path / "x.duckdb")
    con.execute("ALTER TABLE incidents ADD COLUMN frobnication_level INTEGER")
    con.execute("CREATE VIEW my_new_view AS SELECT bug_id, 1 AS zork FROM incidents")
    bad = D.undocumented(D.relations(con))
    assert "incidents.frobnication_level" in bad and "my_new_view.zork" in bad and "my_new_view" in bad
    assert "my_new_view.bug_id" not in bad  # a name the dictionary knows is described wherever it appears
    con.close()


def test_the_committed_dictionary_is_current_and_lists_every_column(fresh: duckdb.DuckDBPyConnection) -> None:
    text = DOC.read_text(encoding="utf-8")
    assert text == D.markdown(D.relations(fresh)), "docs/data-dictionary.md is stale: run `make docs`"
    sections = dict(re.findall(r"^## (\w+)\n(.*?)(?=^## |\Z)", text, re.M | re.S))
    for table, column in fresh.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'"
    ).fetchall():
        assert f"| `{column}` |" in sections[table], f"{table}.{column} missing from {DOC.name}"
    assert "UNDOCUMENTED" not in text
    assert D.main(["--check", str(DOC)]) == 0


def test_the_manifest_format_is_documented_as_written(tmp_path: Path) -> None:
    con = build_db(
        tmp_path / "m.duckdb", [mk_bug(1, "Acme: one", "2024-01-01T00:00:00Z", "a@x.example", "a@x.example")]
    )
    con.close()
    res = CliRunner().invoke(
        cli,
        [
            "snapshot",
            "--db",
            str(tmp_path / "m.duckdb"),
            "--out",
            str(tmp_path / "s"),
            "--as-of",
            "2025-01-01",
        ],
    )
    assert res.exit_code == 0, res.output
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    documented = {k for k, _, _ in D.MANIFEST_FIELDS}
    assert set(manifest) == documented, "document the manifest's keys in bzmine/dictionary.py MANIFEST_FIELDS"
    text = DOC.read_text(encoding="utf-8")
    assert all(f"| `{k}` |" in text for k in documented)
    assert set(next(iter(manifest["tables"].values()))) == {"file", "rows", "sha256"}


def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert D.main([]) == 2
    assert "usage:" in capsys.readouterr().err
