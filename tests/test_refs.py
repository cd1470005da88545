"""Every way a bug points at another: text forms, structured fields, Related Incidents tables; and numbers that are not
references (certificate counts, serials, dates, CCADB case and owner numbers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bzmine.parse.reports import find_bug_ref_spans, find_bug_refs
from tests.conftest import realdata
from tests.helpers import build_db, mk_bug


@pytest.mark.parametrize(
    "text,refs",
    [
        ("See bug 1886467 for the earlier incident.", [1886467]),
        ("Same root cause as Bug #1886467.", [1886467]),
        ("Bugs 1886467 and bug 1886468 were opened the same day.", [1886467, 1886468]),
        ("Previously reported in #1886467.", [1886467]),
        ("As in Incident 2029013, the linter missed it.", [2029013]),
        ("Bugzilla incident 2029013 describes the same gap.", [2029013]),
        ("The same lint gap as Bugzilla 1990801.", [1990801]),  # issue 25 item 7: no "bug" word
        ("see Bugzilla #1990801 and Bugzilla bug 1990802", [1990801, 1990802]),
        ("incident #2029013", [2029013]),
        ("https://bugzilla.mozilla.org/show_bug.cgi?id=1886467#c5", [1886467]),
        ("bugzil.la/1886467", [1886467]),
        ("as we said in comment 4 of bug 1886467", [1886467]),
        ("[the earlier report](https://bugzilla.mozilla.org/show_bug.cgi?id=1886467)", [1886467]),
        # not references
        ("We revoked 1234567 certificates on 2024-05-01.", []),
        ("The certificate with serial #1234567 was revoked.", []),
        ("Tracked as CCADB case #1234567 and Salesforce case 00012345.", []),
        ("Our CCADB owner id is A000016.", []),
        ("Ticket #1234567 in our internal tracker.", []),
        ("&#1234567; is an HTML entity; page.html#1234567 a fragment.", []),
        ("Order 12345678 shipped; #12345678 is eight digits.", []),
        ("The 2024-05-01 incident affected 123456 certificates.", []),
    ],
)
def test_reference_forms(text: str, refs: list[int]) -> None:
    assert find_bug_refs(text) == refs


def test_spans_point_at_the_referring_words() -> None:
    text = "Related: Bug #1886467 and Incident 2029013."
    assert [text[s:e] for _, s, e in find_bug_ref_spans(text)] == ["Bug #1886467", "Incident 2029013"]


# what a reader sees referenced on each real page (read by hand): its own URL and every "bug N"
REAL_PAGES = {
    "1576013": [1576013],
    "1729097": [1675821, 1708516, 1729097],
    "1883843": [1883843],
    "1886626": [1886626],
    "1925106": [1925106],
    "1950144": [1910322, 1950144],
    "1962829": [1962829],
    "1994454": [1994454],
    "2015565": [2015565],
    "2052085": [2052085],
}


@pytest.mark.realdata
def test_real_pages_give_the_references_a_reader_sees() -> None:
    folder = realdata("pages")
    for name, want in REAL_PAGES.items():
        # the dates, CCADB owner ids (A000016) and counts on these pages are not references
        assert find_bug_refs((folder / f"{name}.txt").read_text(encoding="utf-8")) == want, name


WORDS = st.sampled_from(
    [
        "we",
        "revoked",
        "certificates",
        "on",
        "the",
        "serial",
        "issued",
        "CRL",
        "at",
        "UTC",
        "total",
        "remaining",
        "audit",
        "report",
        "case",
        "number",
        "and",
        "in",
        "of",
        "2024-05-01",
        "ticket",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(WORDS, st.integers(0, 99_999_999).map(str)), max_size=40))
def test_digits_in_prose_are_not_references(words: list[str]) -> None:
    assert find_bug_refs(" ".join(words)) == []


def test_structured_fields_and_related_tables_become_refs(tmp_path: Path) -> None:
    bugs = [
        mk_bug(
            1900001,
            "Acme: one",
            "2025-01-01T00:00:00Z",
            "a@acme.example",
            "a@acme.example",
            comments=[
                ("a@acme.example", "2025-01-02T00:00:00Z", "Same cause as #1886467 (see bug 1886468)."),
            ],
        )
    ]
    bugs[0].update(
        {
            "dupe_of": None,
            "depends_on": [1700001],
            "blocks": [1700002],
            "regressed_by": [1700003],
            "see_also": [
                "https://bugzilla.mozilla.org/show_bug.cgi?id=1700004",
                "https://github.com/x/y/issues/9",
            ],
        }
    )
    con: duckdb.DuckDBPyConnection = build_db(tmp_path / "r.duckdb", bugs)
    rows = con.execute(
        "SELECT ref_bug_id, source, kind, span_start IS NOT NULL FROM bug_refs ORDER BY ref_bug_id"
    ).fetchall()
    assert rows == [
        (1700001, "field", "depends", False),
        (1700002, "field", "blocks", False),
        (1700003, "field", "regressed_by", False),
        (1700004, "field", "see_also", False),
        (1886467, "text", "cites", True),
        (1886468, "text", "cites", True),
    ]
    con.close()


def test_related_clusters_and_repeats(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from bzmine import metrics as M
    from bzmine.cli import cli

    a = "a@acme.example"
    bugs = [
        mk_bug(
            1800101,
            "Acme: CRL late",
            "2023-01-01T00:00:00Z",
            a,
            a,
            status="RESOLVED",
            whiteboard="[ca-compliance] [crl-failure]",
        ),
        mk_bug(
            1800102,
            "Acme: CRL late again",
            "2024-03-01T00:00:00Z",
            a,
            a,
            whiteboard="[ca-compliance] [crl-failure]",
            comments=[(a, "2024-03-02T00:00:00Z", "This recurs; see #1800101.")],
        ),
        mk_bug(
            1800103,
            "Acme: unrelated",
            "2024-04-01T00:00:00Z",
            a,
            a,
            whiteboard="[ca-compliance] [ov-misissuance]",
            comments=[(a, "2024-04-02T00:00:00Z", "Follow-up in Incident 1800104.")],
        ),
        mk_bug(1800104, "Other CA: something", "2024-05-01T00:00:00Z", "b@other.example", "b@other.example"),
    ]
    bugs[0]["cf_last_resolved"] = "2023-02-01T00:00:00Z"
    con = build_db(tmp_path / "g.duckdb", bugs)
    M.snapshot(con, "2025-01-01")
    clusters = dict(con.execute("SELECT bug_id, cluster_id FROM incident_clusters").fetchall())
    assert clusters == {1800101: 1800101, 1800102: 1800101, 1800103: 1800103, 1800104: 1800103}
    rec = con.execute(
        "SELECT bug_id, earlier_bug_id, shared_tags, cited, after_resolution FROM recurrences"
    ).fetchall()
    assert rec == [
        (1800102, 1800101, ["crl-failure"], True, True)
    ]  # a repeat, cited, after the first was resolved
    card = M.scorecard(con, "2025-01-01").set_index("ca")
    assert card.loc["Acme", "repeat_share"] == pytest.approx(1 / 3)
    rel = M.related(con, 1800102, depth=2, as_of="2025-01-01")
    assert rel["bug_id"].tolist() == [1800101] and rel["link"].tolist() == ["cites (text, out) of 1800102"]
    con.close()
    res = CliRunner().invoke(
        cli, ["related", "1800104", "--db", str(tmp_path / "g.duckdb"), "--as-of", "2025-01-01"]
    )
    assert res.exit_code == 0 and "1800103" in res.output and "cites (text, in)" in res.output


def test_repeats_are_the_bugs_of_recurrences(sample_db: tuple[Path, dict[int, Any]]) -> None:
    """The scorecard counts repeats from view `repeats` (window counts, no pairing); it must name exactly the bugs the
    pairwise view `recurrences` has rows for, at several as_of."""
    import shutil

    from bzmine import metrics as M
    from bzmine.store.db import connect

    copy = sample_db[0].parent / "repeats.duckdb"
    shutil.copy(sample_db[0], copy)
    con = connect(copy)
    try:
        for as_of in ("2021-01-01", "2024-06-01", "2026-11-01"):
            M.snapshot(con, as_of, need=("recurrences", "repeats"))
            pairs = {r[0] for r in con.execute("SELECT DISTINCT bug_id FROM recurrences").fetchall()}
            fast = [r[0] for r in con.execute("SELECT bug_id FROM repeats").fetchall()]
            assert len(fast) == len(set(fast)) and set(fast) == pairs and len(pairs) > 20, as_of
    finally:
        con.close()
