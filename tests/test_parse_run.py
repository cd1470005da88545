"""`bzmine parse`: raw tables -> parsed tables, offline, checked against the corpus's planted truth."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
from click.testing import CliRunner

from bzmine.cli import cli
from bzmine.store.db import connect

# every spelling the synthetic corpus plants, with the comparison key a reader gives it (case, spacing, punctuation
# and legal suffixes folded away; docs/ca-identity.md), written by hand
KEYS = {
    "ACME Trust": "acmetrust",
    "Acme Trust": "acmetrust",
    "Acme Trust Ltd.": "acmetrust",
    "Bluefin Certificates": "bluefincertificates",
    "Bluefin Certificates Inc": "bluefincertificates",
    "Cobalt CA": "cobaltca",
    "Cobalt CA Inc.": "cobaltca",
    "Datum Signing": "datumsigning",
    "Elm Street Trust": "elmstreettrust",
    "ElmStreet Trust": "elmstreettrust",
    "Fjord Sertifikat": "fjordsertifikat",
    "Fjord Sertifikat AS": "fjordsertifikat",
    "Granite Root Services": "graniterootservices",
    "Granite Root Services LLC": "graniterootservices",
    "Harbor Digital": "harbordigital",
    "IRIS Certification S.A.": "iriscertification",
    "Iris Certification": "iriscertification",
    "Juniper Identity": "juniperidentity",
    "Kestrel Trust Services": "kestreltrustservices",
    "Kestrel Trust Services, Ltd": "kestreltrustservices",
    "Lumen Sign": "lumensign",
    "LumenSign": "lumensign",
    "Meridian Certs": "meridiancerts",
    "NORTHWIND PKI": "northwindpki",
    "Northwind PKI": "northwindpki",
    "Nordlys CA": "nordlysca",
    "Orchid Secure": "orchidsecure",
    "Orchid Secure GmbH": "orchidsecure",
    "Pinecone PKI": "pineconepki",
    "Quartz Authority": "quartzauthority",
}


def test_parsed_tables_match_planted_truth(sample_db: tuple[Path, dict[int, Any]]) -> None:
    path, truth = sample_db
    con = duckdb.connect(str(path), read_only=True)
    got = {(r[0], r[1]): r[2] for r in con.execute("SELECT bug_id, comment_id, kind FROM reports").fetchall()}
    want = {(b["id"], r["comment_id"]): r["kind"] for b in truth.values() for r in b["reports"]}
    assert got == want
    inc = {r[0]: r[1:] for r in con.execute("SELECT bug_id, ca_key, tags FROM incidents").fetchall()}
    assert set(inc) == set(truth)
    planted = {t["ca_raw"] for t in truth.values() if t["ca_raw"]}
    assert planted <= set(KEYS), f"spellings new to this test (add their keys by hand): {planted - set(KEYS)}"
    for bug_id, t in truth.items():
        key, tags = inc[bug_id]
        assert key == (KEYS[t["ca_raw"]] if t["ca_raw"] else None)
        assert tags == t["tags"]
    # every spelling of one CA gets one name
    names = con.execute(
        "SELECT ca_key, count(DISTINCT ca) FROM incidents WHERE ca IS NOT NULL GROUP BY 1 HAVING count(DISTINCT ca) > 1"
    ).fetchall()
    assert names == []
    assert con.execute("SELECT count(*) FROM parse_failures").fetchone()[0] == 0
    # next-update dates set in whiteboard history, in every planted date form
    planted = sorted((b["id"], o["due"]) for b in truth.values() for o in b["obligations"])
    seen = con.execute(
        "SELECT bug_id, strftime(next_update, '%Y-%m-%d') FROM whiteboard_changes WHERE next_update IS NOT NULL ORDER BY 1, changed_at"
    ).fetchall()
    assert sorted(seen) == planted
    con.close()


def test_parse_rebuilds_offline_and_is_idempotent(
    sample_db: tuple[Path, dict[int, Any]], tmp_path: Path
) -> None:
    db = tmp_path / "copy.duckdb"
    shutil.copy(sample_db[0], db)
    con = connect(db)
    before = {
        t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("reports", "action_items", "timeline_events", "incidents")
    }
    con.close()
    runner = CliRunner()
    res = runner.invoke(cli, ["parse", "--db", str(db), "--full", "-q"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["parse", "--db", str(db)])
    assert res.exit_code == 0 and "0 bugs" in res.output  # nothing changed since the last parse
    con = connect(db)
    after = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in before}
    assert after == before and before["reports"] > 0
    con.close()


def test_parse_report_cli_prints_documented_keys(tmp_path: Path) -> None:
    src = Path(__file__).parent / "fixtures" / "comments" / "v3_full_md.txt"
    res = CliRunner().invoke(cli, ["parse-report", str(src)])
    assert res.exit_code == 0
    out = json.loads(res.output)
    assert set(out) == {"reports", "bug_refs", "failures", "action_items"}
    assert set(out["reports"][0]) == {
        "kind",
        "sections",
        "fields",
        "answers",
        "action_items",
        "timeline",
        "related_incidents",
        "contributing_factors",
    }
    res = CliRunner().invoke(cli, ["parse-report", "-"], input="just a question about bug 1234567?")
    assert json.loads(res.output)["bug_refs"] == [1234567]


def test_record_fields_name_every_column_of_the_parsed_tables(tmp_path: Path) -> None:
    """Records are written by column name: ROW_COLUMNS must name exactly the columns each parsed table has, so a
    migration that adds one fails here instead of shifting values into the wrong column."""
    from bzmine.parse.run import COMMENT_TABLES, ROW_COLUMNS
    from tests.helpers import migrated

    con = connect(migrated(tmp_path / "cols.duckdb"))
    try:
        for table in COMMENT_TABLES:
            have = {
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]
                ).fetchall()
            }
            assert set(ROW_COLUMNS[table]) == have, table
            assert len(ROW_COLUMNS[table]) == len(set(ROW_COLUMNS[table])), table
    finally:
        con.close()
