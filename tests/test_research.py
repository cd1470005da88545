"""Paper tables: long form with metadata, explicit zero periods, exclusions at as_of, a CSV round trip, and the real
bug list's per-year totals under every exclusion setting."""

from __future__ import annotations

import collections
import json
import math
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner

from bzmine import metrics as M
from bzmine import research
from bzmine.cli import cli
from bzmine.corpus import load_corpus
from bzmine.server import LocalBugzilla
from tests.docs_examples import ROOT
from tests.helpers import build_db, mk_bug

AS_OF = "2026-11-01"
CORE = ["period", "period_kind", "dimension", "value", "measure", "figure"]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `make demo` builds: data/sample served locally, synced and parsed."""
    db = tmp_path_factory.mktemp("paper") / "demo.duckdb"
    with LocalBugzilla(load_corpus(ROOT / "data" / "sample")) as srv:
        res = CliRunner().invoke(cli, ["sync", "--url", srv.url, "--db", str(db), "--no-cache", "-q"])
    assert res.exit_code == 0, res.output
    return db


@pytest.fixture(scope="module")
def demo_tables(
    demo_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, pd.DataFrame]]:
    import bzmine

    out = tmp_path_factory.mktemp("paper_out")
    con = bzmine.connect(str(demo_db))
    try:
        M.set_exclusions(con, ["INVALID", "DUPLICATE"])
        research.write_paper_tables(con, out, AS_OF, source=demo_db)
        tables = research.paper_tables(con, AS_OF)
    finally:
        con.close()
    return out, tables


def test_every_paper_table_is_long_with_metadata(demo_tables: tuple[Path, dict[str, pd.DataFrame]]) -> None:
    out, tables = demo_tables
    assert set(tables) == set(research.TABLES) and len(tables) >= 11
    for name, df in tables.items():
        header = (out / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
        assert header[:4] == CORE[:4] and header[-2:] == CORE[-2:], name  # no index column, `period` first
        assert list(df.columns) == header
        assert len(df) > 0 and set(df.period_kind) <= {"year", "quarter"}
        kinds = set(df.period_kind)
        assert len(kinds) == 1, name
        pattern = r"^\d{4}$" if kinds == {"year"} else r"^\d{4}-Q[1-4]$"
        assert df.period.str.match(pattern).all(), name
        # one observation per row: no two rows for the same period, value, attributes and measure
        keys = [c for c in df.columns if c != "figure"]
        assert not df.duplicated(keys).any(), name
        # every period of the sample (2018 .. as_of 2026) is there for every value and measure: zeros, not gaps
        years = [str(y) for y in range(2018, 2027)]
        want = years if kinds == {"year"} else [f"{y}-Q{q}" for y in years for q in (1, 2, 3, 4)]
        assert sorted(set(df.period)) == want, name
        series = df.drop(columns=["period", "figure"]).drop_duplicates()
        assert len(df) == len(want) * len(series), name
        meta = json.loads((out / f"{name}.meta.json").read_text(encoding="utf-8"))
        assert meta["as_of"] == "2026-11-01T00:00:00"
        assert meta["exclusions"]["excluded_resolutions"] == ["DUPLICATE", "INVALID"]
        assert meta["exclusions"]["default"] == {"excluded_resolutions": [], "only_ca_subjects": False}
        assert meta["source"]["kind"] == "database" and meta["source"]["name"] == "demo.duckdb"
        assert meta["source"]["bugs_harvested"] == 77  # `bzmine status`: bugs: 77
        assert {"bzmine_version", "parser_version", "schema_version"} <= set(meta)
        assert [c["name"] for c in meta["columns"]] == header
        assert all(c["description"] for c in meta["columns"])
        assert set(df.measure) == set(meta["measures"]), (
            name
        )  # every measure is defined, every definition used
        assert meta["rows"] == len(df)


def test_known_demo_figures(demo_tables: tuple[Path, dict[str, pd.DataFrame]]) -> None:
    """Figures of the demo sample checked against `bzmine sql` counts written down by hand."""
    _, t = demo_tables
    subj = t["incidents_by_subject"].set_index(["period", "value"]).figure
    # 80 sample bugs, 77 visible in the bug set; 3 name no CA (bzmine status lists 1800032, 1800039, 1800074)
    assert subj.sum() == 77
    assert subj.xs("unknown", level="value").sum() == 3
    assert sorted(subj.index.get_level_values("period").unique()) == [str(y) for y in range(2018, 2027)]
    status = t["incidents_by_owner_status"]
    # 'unknown' is an owner status; a bug naming no CA is labelled so, never '(unknown)'
    assert "not a CA: none named" in set(status.value) and not any(v.startswith("(") for v in status.value)
    assert status[status.value == "not a CA: none named"].figure.sum() == 3
    per_year = t["days_to_close"].pivot(index="period", columns="measure", values="figure")
    assert (
        per_year.loc["2024", "bugs"] == 13 and per_year.loc["2025", "bugs"] == 7
    )  # the README trends example
    assert per_year.loc["2024", "bugs_closed"] == 10 and per_year.loc["2024", "still_open"] == 3
    assert round(per_year.loc["2024", "median_days_to_close"], 2) == 46.27


def test_round_trip_csv_and_metadata_give_the_same_figures(
    demo_tables: tuple[Path, dict[str, pd.DataFrame]],
) -> None:
    out, tables = demo_tables
    for name, df in tables.items():
        back, meta = research.read_table(out / f"{name}.csv")
        assert meta["table"] == name
        pd.testing.assert_frame_equal(back, df.astype({c: object for c in df.columns if c != "figure"}))
    # counts are written as whole numbers, undefined figures as empty fields
    text = (out / "delayed_revocation_per_quarter.csv").read_text(encoding="utf-8")
    assert ",bugs,0\n" in text and ",median_days_tagged,\n" in text and ",bugs,0.0" not in text


def test_read_table_refuses_a_csv_without_its_metadata(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("period,figure\n2024,1\n")
    with pytest.raises(Exception, match="no readable metadata"):
        research.read_table(tmp_path / "x.csv")


ACME = "pki@acme.example"
RP = "rp@mozilla.com"


def _bugs() -> list[dict[str, Any]]:
    wb = "[ca-compliance] [leaf-revocation-delay]"
    return [
        # 2019: resolved INVALID in 2019
        mk_bug(
            1,
            "Acme: one",
            "2019-03-01T00:00:00Z",
            RP,
            ACME,
            status="RESOLVED",
            history=[
                ("2019-04-01T00:00:00Z", RP, [("status", "NEW", "RESOLVED"), ("resolution", "", "INVALID")])
            ],
        ),
        # 2021: open; revocation-delay tag added 2021-05-10, removed 2021-08-01 (still counts from when added)
        mk_bug(
            2,
            "Acme: two",
            "2021-02-01T00:00:00Z",
            ACME,
            ACME,
            history=[
                ("2021-05-10T00:00:00Z", RP, [("whiteboard", "[ca-compliance]", wb)]),
                ("2021-08-01T00:00:00Z", RP, [("whiteboard", wb, "[ca-compliance]")]),
            ],
        ),
        # 2021: a meta bug, about no CA
        mk_bug(3, "[meta] tracking", "2021-06-01T00:00:00Z", RP, RP),
        # 2021: open at 2021-12-31, resolved INVALID on 2022-01-10 (after that as_of)
        mk_bug(
            4,
            "Acme: four",
            "2021-09-01T00:00:00Z",
            RP,
            ACME,
            status="RESOLVED",
            history=[
                ("2022-01-10T00:00:00Z", RP, [("status", "NEW", "RESOLVED"), ("resolution", "", "INVALID")])
            ],
        ),
    ]


@pytest.fixture(scope="module")
def hand_con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    bugs = _bugs()
    bugs[0]["resolution"] = bugs[3]["resolution"] = "INVALID"
    return build_db(tmp_path_factory.mktemp("hand") / "h.duckdb", bugs)


def _fig(df: pd.DataFrame, period: str, value: str, measure: str = "bugs") -> float:
    row = df[(df.period == period) & (df.value == value) & (df.measure == measure)]
    assert len(row) == 1, (period, value, measure)
    return float(row.figure.iloc[0])


def test_empty_periods_are_zero_rows(hand_con: duckdb.DuckDBPyConnection) -> None:
    M.set_exclusions(hand_con, [])
    t = research.paper_tables(hand_con, "2021-12-31")
    subj = t["incidents_by_subject"]
    assert sorted(set(subj.period)) == ["2019", "2020", "2021"]
    assert [_fig(subj, "2020", v) for v in ("ca", "auditor", "program", "meta", "unknown")] == [0, 0, 0, 0, 0]
    assert _fig(subj, "2019", "ca") == 1 and _fig(subj, "2021", "ca") == 2 and _fig(subj, "2021", "meta") == 1
    owner = t["incidents_by_owner"]
    assert _fig(owner, "2020", "Acme") == 0 and _fig(owner, "2021", "not a CA: meta") == 1
    assert set(owner[owner.value == "Acme"].owner_status) == {"unknown"}
    # lineage: a CA the owner table does not know has no standing; a bug not about a CA keeps its label
    assert set(owner[owner.value == "Acme"].subject_status) == {"unknown"}
    assert set(owner[owner.value == "not a CA: meta"].subject_status) == {"not a CA: meta"}
    # the quarter grid runs from the first bug's quarter to as_of's: 2019-Q1 .. 2021-Q4
    rev = t["delayed_revocation_per_quarter"]
    assert sorted(set(rev.period)) == [f"{y}-Q{q}" for y in (2019, 2020, 2021) for q in (1, 2, 3, 4)]
    assert _fig(rev, "2021-Q2", "*revocation-delay*") == 1 and _fig(rev, "2021-Q3", "*revocation-delay*") == 0
    # a median over no bugs is undefined (NaN, an empty CSV field), not zero
    assert math.isnan(_fig(rev, "2020-Q1", "*revocation-delay*", "median_days_tagged"))
    assert _fig(rev, "2021-Q2", "*revocation-delay*", "still_open") == 1
    # tagged 2021-05-10, open at 2021-12-31: 235 days
    assert _fig(rev, "2021-Q2", "*revocation-delay*", "median_days_tagged") == 235.0
    days = t["days_to_close"]
    assert [_fig(days, "2020", "all", m) for m in ("bugs", "bugs_closed", "still_open")] == [0, 0, 0]


def test_exclusions_use_the_resolution_at_as_of(hand_con: duckdb.DuckDBPyConnection) -> None:
    M.set_exclusions(hand_con, ["INVALID"])
    try:
        before = research.paper_tables(hand_con, "2021-12-31")["incidents_by_subject"]
        # bug 1 was INVALID by then and is left out; bug 4 was still open (INVALID only from 2022-01-10)
        assert _fig(before, "2019", "ca") == 0 and _fig(before, "2021", "ca") == 2
        after = research.paper_tables(hand_con, "2022-02-01")["incidents_by_subject"]
        assert _fig(after, "2021", "ca") == 1
        meta = research.table_meta(hand_con, "incidents_by_subject", after)
        assert meta["exclusions"]["excluded_resolutions"] == ["INVALID"]
        assert M.bug_metrics(hand_con, "2021-12-31").set_index("bug_id").loc[4, "resolution"] == ""
    finally:
        M.set_exclusions(hand_con, [])


def test_cli_writes_the_tables_and_refuses_bad_input(demo_db: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(
        cli, ["paper-tables", "--db", str(demo_db), "--out", str(tmp_path / "p"), "--as-of", AS_OF]
    )
    assert res.exit_code == 0, res.output
    assert "incidents_by_owner:" in res.output and (tmp_path / "p" / "incidents_by_owner.meta.json").is_file()
    meta = json.loads((tmp_path / "p" / "incidents_by_subject.meta.json").read_text())
    assert meta["exclusions"]["excluded_resolutions"] == []  # the shared default
    bad = CliRunner().invoke(
        cli,
        ["paper-tables", "--db", str(demo_db), "--out", str(tmp_path / "q"), "--exclude-resolution", "BOGUS"],
    )
    assert bad.exit_code == 1 and "unknown resolution BOGUS" in bad.output and "Traceback" not in bad.output


def test_snapshot_source_is_recorded(demo_db: Path, tmp_path: Path) -> None:
    import bzmine

    run = CliRunner()
    assert run.invoke(cli, ["snapshot", "--db", str(demo_db), "--out", str(tmp_path / "s")]).exit_code == 0
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    con = bzmine.connect(str(tmp_path / "s"))
    try:
        research.write_paper_tables(con, tmp_path / "p", AS_OF, source=tmp_path / "s")
    finally:
        con.close()
    meta = json.loads((tmp_path / "p" / "days_to_close.meta.json").read_text())
    assert meta["source"]["kind"] == "snapshot" and meta["source"]["snapshot_id"] == manifest["snapshot_id"]


@pytest.mark.realdata
def test_real_bug_list_per_year_totals_under_every_exclusion(make_server: Any, tmp_path: Path) -> None:
    """The 1,688 real bugs: for every exclusion setting, the per-year totals of the paper tables equal the bugs per
    creation year that the setting keeps (resolution from the bug list: it has no history, so today's is as_of's)."""
    import bzmine
    from tests.conftest import realdata

    records = load_corpus(realdata("webpki-observatory") / "bugs_raw.json")
    srv = make_server(records)
    db = tmp_path / "real.duckdb"
    res = CliRunner().invoke(cli, ["sync", "--url", srv.url, "--db", str(db), "--no-cache", "-q"])
    assert res.exit_code == 0, res.output
    con = bzmine.connect(str(db))
    try:
        kinds = dict(con.execute("SELECT bug_id, subject_kind FROM incidents").fetchall())
        settings = [((), False), (("INVALID",), False), (("INVALID", "DUPLICATE"), False), ((), True)]
        settings.append((M.RESOLUTIONS, True))
        for resolutions, only_ca in settings:
            M.set_exclusions(con, resolutions, only_ca)
            t = research.paper_tables(con)
            want = collections.Counter(
                r.bug["creation_time"][:4]
                for r in records.values()
                if (r.bug.get("resolution") or "") not in resolutions and (not only_ca or kinds[r.id] == "ca")
            )
            for name in ("incidents_by_subject", "incidents_by_owner_status", "incidents_by_owner"):
                df = t[name]
                got = {p: int(n) for p, n in df.groupby("period").figure.sum().items() if n}
                assert got == dict(want), (name, resolutions, only_ca)
            days = t["days_to_close"]
            got = {p: int(n) for p, n in days[days.measure == "bugs"].set_index("period").figure.items() if n}
            assert got == dict(want)
            if not resolutions and not only_ca:
                assert sum(want.values()) == 1688
    finally:
        con.close()


def test_observatory_rule_on_a_hand_made_list(tmp_path: Path) -> None:
    """The Observatory's counting rule, on bugs written here: no CA name, an unmapped name, a distrusted owner."""

    def bug(i: int, summary: str, created: str) -> dict[str, Any]:
        return {
            "id": i,
            "summary": summary,
            "creation_time": created,
            "status": "NEW",
            "creator": "x@example.org",
        }

    bugs = [
        bug(1, "Acme: one", "2020-01-01T00:00:00Z"),
        bug(2, "[meta] tracking: things", "2020-02-01T00:00:00Z"),
        bug(3, "Nowhere CA: two", "2020-03-01T00:00:00Z"),
        bug(4, "Gone Trust: three", "2021-01-01T00:00:00Z"),
        bug(5, "[uncertain] Acme: four", "2021-02-01T00:00:00Z"),
        bug(6, "no colon at all", "2021-03-01T00:00:00Z"),
    ]
    maps = {
        "mappings": {
            "Acme": {"ccadb_owner": "Acme Ltd", "status": "active"},
            "Gone Trust": {"ccadb_owner": "Gone", "status": "distrusted"},
        }
    }
    (tmp_path / "bugs_raw.json").write_text(json.dumps(bugs))
    (tmp_path / "bugzilla_ca_mappings.json").write_text(json.dumps(maps))
    obs = research.observatory_counts(tmp_path).set_index("period")
    assert obs.loc["2020"].to_dict() == {
        "bugs_listed": 3,
        "observatory": 1,
        "no_ca_name": 1,
        "unmapped_name": 1,
        "distrusted_owner": 0,
    }
    assert obs.loc["2021"].to_dict() == {
        "bugs_listed": 3,
        "observatory": 1,
        "no_ca_name": 1,
        "unmapped_name": 0,
        "distrusted_owner": 1,
    }
    cmp = research.compare_with_observatory(tmp_path, tmp_path).set_index("period")
    assert cmp.loc["2020", "bzmine"] == 3 and cmp.loc["2020", "gap"] == 2 and cmp.loc["2021", "gap"] == 2
    text = research.observatory_summary(cmp.reset_index())
    assert "6 bugs in the Observatory's list; bzmine counts 6" in text and "rule counts 2" in text


@pytest.mark.realdata
def test_real_bug_list_against_the_observatory(tmp_path: Path) -> None:
    """On the Observatory's own bug list: bzmine's per-year totals are the bugs per creation year (under each
    exclusion), and every bug the Observatory's rule leaves out is accounted for by a reason."""
    from tests.conftest import realdata

    folder = realdata("webpki-observatory")
    bugs = json.loads((folder / "bugs_raw.json").read_text(encoding="utf-8"))
    for n, resolutions in enumerate([(), ("INVALID", "DUPLICATE")]):
        (tmp_path / str(n)).mkdir()
        cmp = research.compare_with_observatory(folder, tmp_path / str(n), resolutions=resolutions)
        want = collections.Counter(
            b["creation_time"][:4] for b in bugs if (b.get("resolution") or "") not in resolutions
        )
        assert dict(zip(cmp.period, cmp.bzmine, strict=True)) == dict(want)
        assert cmp.bugs_listed.sum() == 1688
        left_out = cmp.no_ca_name + cmp.unmapped_name + cmp.distrusted_owner
        assert (cmp.observatory + left_out == cmp.bugs_listed).all()
        assert 1300 < cmp.observatory.sum() < cmp.bzmine.sum()


def test_report_derived_tables_on_a_hand_built_bug(tmp_path: Path) -> None:
    """One CA-opened, revocation-delay-tagged bug with a v3 full report (tests/fixtures, identified 2025-03-28, end
    2025-03-31; items due 2025-05-01 ongoing and 2025-03-15 complete) and a later table marking both complete."""
    v3 = (ROOT / "tests" / "fixtures" / "comments" / "v3_full_md.txt").read_text(encoding="utf-8")
    later = (
        "### Action Items\n| Action Item | Kind | Due Date | Status |\n|---|---|---|---|\n"
        "| Add a linter check for the affected field before signing | Prevent | 2025-05-01 | Complete |\n"
        "| Route problem reports to a monitored ticket queue | Detect | 2025-03-15 | Complete |"
    )
    bug = mk_bug(
        10,
        "Acme: revocation delayed",
        "2025-03-30T00:00:00Z",
        ACME,
        ACME,
        whiteboard="[ca-compliance] [leaf-revocation-delay]",
        comments=[
            (ACME, "2025-03-30T00:00:00Z", "We are reporting a delayed revocation."),
            (ACME, "2025-04-05T00:00:00Z", v3),
            (ACME, "2025-04-20T00:00:00Z", later),
        ],
    )
    con = build_db(tmp_path / "r.duckdb", [bug])
    try:
        t = research.paper_tables(con, "2025-06-01")
    finally:
        con.close()
    rev, val = t["delayed_revocation_per_quarter"], "*revocation-delay*"
    assert _fig(rev, "2025-Q1", val) == 1 and _fig(rev, "2025-Q2", val) == 0
    assert _fig(rev, "2025-Q1", val, "median_days_tagged") == 63.0  # tagged at opening 03-30, open at 06-01
    assert _fig(rev, "2025-Q1", val, "bugs_with_end_date") == 1
    assert _fig(rev, "2025-Q1", val, "median_days_identified_to_end") == 3.0  # 03-28 -> 03-31
    dis = t["disclosure_delay"]
    assert _fig(dis, "2025", "all", "bugs_with_identified_date") == 1
    assert _fig(dis, "2025", "all", "median_disclosure_delay_hours") == 48.0  # opened 03-30, identified 03-28
    assert _fig(dis, "2025", "all", "over_72h") == 0
    full = t["full_report_on_time"]
    assert [_fig(full, "2025", "all", m) for m in ("full_reports_evaluated", "on_time", "on_time_share")] == [
        1,
        1,
        1,
    ]
    items = t["action_item_completion"]
    # the 05-01 item was marked complete on 04-20 (by its due date); the 03-15 one first on 04-05 (after it)
    assert [
        _fig(items, "2025", "all", m)
        for m in (
            "items_due",
            "complete_by_due",
            "complete_by_due_share",
            "complete_at_as_of",
            "complete_at_as_of_share",
        )
    ] == [2, 1, 0.5, 2, 1.0]
    resp = t["response_breaches"]
    assert _fig(resp, "2025", "all", "requests") == 0 and math.isnan(
        _fig(resp, "2025", "all", "breach_share")
    )
    selfr = t["self_reported_share"]
    assert _fig(selfr, "2025", "all", "self_reported") == 1  # opened by the CA's own account
    assert _fig(selfr, "2025", "all", "source_self_share") == 0.0  # the report states a third-party source


def test_cli_says_what_it_left_out(demo_db: Path) -> None:
    run = CliRunner()
    res = run.invoke(
        cli,
        ["trends", "--db", str(demo_db), "--as-of", AS_OF, "--by", "all", "--exclude-resolution", "invalid"],
    )
    assert res.exit_code == 0 and "note: left out resolutions INVALID (at as_of)" in res.stderr
    plain = run.invoke(cli, ["trends", "--db", str(demo_db), "--as-of", AS_OF, "--by", "all"])
    assert plain.exit_code == 0 and "note:" not in plain.stderr  # the default leaves nothing out
    # the demo sample has no INVALID bug: the same figures either way
    assert res.stdout == plain.stdout
