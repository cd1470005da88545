"""bzmine review: every rule fires on a report that breaks it and stays quiet on one that keeps it; real pages."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bzmine.cli import cli
from bzmine.parse.reports import Report
from bzmine.review import BugContext, judged_by, load_rules, review_report
from tests.conftest import REALDATA, realdata

FIX = Path(__file__).parent / "fixtures"
ITEM = {
    "action": "Add a pre-issuance lint",
    "kind": "Prevent",
    "due_date": "2025-09-01",
    "due_raw": "2025-09-01",
    "status_raw": "Ongoing",
    "status": "ongoing",
}
CLOSING = (
    "All Action Items disclosed in this report have been completed as described, and we request its closure."
)


def complete(kind: str) -> Report:
    """A report of this kind that meets every rule (written for this test)."""
    r = Report(kind=kind, line=0)
    if kind == "seven_questions":
        r.answers = {
            k: "Answered in full."
            for k in (
                "q1_aware",
                "q2_timeline",
                "q3_stopped",
                "q4_summary",
                "q5_certificate_data",
                "q6_root_cause",
                "q7_steps",
            )
        }
        r.timeline = [{"at": "2023-03-01T10:00:00Z", "text": "2023-03-01 10:00 UTC alert"}]
    elif kind == "v2_full":
        r.sections = {
            k: "Written." for k in ("summary", "impact", "timeline", "root_cause_analysis", "lessons_learned")
        }
        r.timeline = [{"at": "2024-01-01T10:00:00Z", "text": "2024-01-01 10:00 UTC alert"}]
        r.action_items = [dict(ITEM)]
    elif kind == "preliminary":
        r.sections = {"summary": "Written."}
        r.fields = {
            "incident_description": "What happened.",
            "relevant_policies": "TLS BR 4.9.1.1",
            "disclosure_source": "Self Reported",
        }
    elif kind == "v3_full":
        r.sections = {
            k: "Written."
            for k in (
                "summary",
                "impact",
                "timeline",
                "related_incidents",
                "root_cause_analysis",
                "lessons_learned",
                "action_items",
            )
        }
        r.fields = {
            "ccadb_owner_id": "A000123",
            "incident_description": "What happened.",
            "noncompliance_start": "2025-04-01",
            "noncompliance_identified": "2025-04-02",
            "noncompliance_end": "2025-04-03",
            "relevant_policies": "TLS BR 7.1",
            "disclosure_source": "Self Reported",
            "total_certificates": "12",
            "remaining_valid_certificates": "0",
            "affected_certificate_types": "DV",
            "incident_heuristic": "Serials",
            "issuance_stopped": "Yes, at once.",
            "analysis": "Not a revocation delay.",
            "lessons": {"what_didnt_go_well": "Slow triage.", "additional": "Monitoring."},
        }
        r.timeline = [{"at": "2025-04-01T10:00:00Z", "text": "2025-04-01 10:00 UTC alert"}]
        r.related_incidents = [{"bug_id": 1900001, "date": "2024-05-01", "description": "Same linter gap"}]
        r.action_items = [dict(ITEM)]
    elif kind == "closure":
        r.fields = {
            "incident_description": "What happened.",
            "root_causes": "A gap.",
            "remediation_description": "Lint.",
            "commitment_summary": "Keep linting.",
        }
    return r


VERSION_DAY = {
    "mozilla-7q": "2021-06-01",
    "ccadb-1.0": "2023-06-01",
    "ccadb-2.0": "2024-06-01",
    "ccadb-3.0": "2025-04-01",
    "ccadb-3.1": "2025-09-01",
    "ccadb-3.2": "2026-05-01",
}


def breaks(rule: dict[str, Any], rep: Report, ctx: BugContext) -> tuple[Report, BugContext, str]:
    """The same report, changed so that it breaks exactly this rule's check (and the text it came with)."""
    r, c, text = copy.deepcopy(rep), ctx, CLOSING
    check, target = rule["check"], rule["target"]
    if check == "answer":
        r.answers[target] = "N/A"
    elif check == "section":
        r.sections.pop(target, None)
    elif check == "field":
        r.fields[target] = ""
    elif check == "fields":
        r.fields.pop(target.split(",")[0], None)
    elif check == "owner_id":
        r.fields[target] = "123456"
    elif check == "timeline_dated":
        r.timeline = [{"at": None, "text": "we looked at it later"}]
    elif check == "action_items":
        r.action_items = []
    elif check == "item_kind":
        r.action_items[0]["kind"] = "Fix"
    elif check == "item_due":
        r.action_items[0]["due_date"] = None
    elif check == "item_status":
        r.action_items[0]["status_raw"] = "In progress"
    elif check == "lessons_have_items":
        r.action_items = []
    elif check == "revocation_delay_analysis":
        r.fields[target], c = "", BugContext(ctx.opened_at, ("ca-compliance", "leaf-revocation-delay"))
    elif check == "timeline_cpr":
        r.fields["incident_description"] = "A certificate problem report showed a wrong field."
    elif check == "timeline_revocation":
        c = BugContext(ctx.opened_at, ("ca-compliance", "leaf-revocation-delay"))
        r.fields["analysis"] = "Revocation was delayed for a hospital's devices."
    elif check == "within_days":
        c = BugContext(opened_at=ctx.opened_at - timedelta(days=int(target) + 1), tags=ctx.tags)
    elif check == "related_missing":
        c = BugContext(ctx.opened_at, ctx.tags, True, own_recent=(1900001, 1900002))
    elif check == "closing_sentence":
        text = "We are done."
    elif check == "outdated":
        pass  # the date decides: see below
    else:
        raise AssertionError(f"no breaking change written for check {check!r}")
    return r, c, text


RULES = load_rules().rules


@pytest.mark.parametrize("rule", RULES, ids=[r["id"] for r in RULES])
def test_each_rule_fires_and_stays_quiet(rule: dict[str, Any]) -> None:
    exercised = 0
    for kind in rule["kinds"]:
        for version in rule["versions"]:
            posted = datetime.fromisoformat(VERSION_DAY[version])
            judged, _ = judged_by(kind, posted.date())
            if rule["check"] != "outdated" and judged != version:
                continue  # this kind is judged by another version on that day
            ctx = BugContext(
                opened_at=posted - timedelta(hours=1), tags=("ca-compliance",), own_recent=(1900001,)
            )
            exercised += 1
            ok = complete(kind)
            quiet = [f.rule_id for f in review_report(ok, CLOSING, posted, ctx)]
            if rule["check"] == "outdated":
                assert rule["id"] in quiet  # an outdated template is outdated whatever its content
                earlier = datetime.fromisoformat("2021-06-01" if kind == "seven_questions" else "2024-06-01")
                assert rule["id"] not in [f.rule_id for f in review_report(ok, CLOSING, earlier, ctx)]
                continue
            assert quiet == [], (rule["id"], version, quiet)
            bad, c, text = breaks(rule, ok, ctx)
            fired = [f.rule_id for f in review_report(bad, text, posted, c)]
            assert rule["id"] in fired, (rule["id"], version, fired)
    assert exercised, f"{rule['id']} was never exercised"


def test_versions_by_date_and_early_adopters() -> None:
    from datetime import date

    assert judged_by("seven_questions", date(2022, 1, 1)) == ("mozilla-7q", False)
    assert judged_by("seven_questions", date(2023, 3, 1)) == ("ccadb-1.0", False)
    assert judged_by("seven_questions", date(2024, 1, 1)) == ("ccadb-1.0", True)  # v2.0 in force: outdated
    assert judged_by("v3_full", date(2025, 1, 10)) == ("ccadb-3.0", False)  # a v3 draft template used early
    assert judged_by("v2_full", date(2025, 5, 1)) == ("ccadb-2.0", True)
    assert judged_by("v3_full", date(2026, 4, 1)) == ("ccadb-3.2", False)
    assert judged_by("preliminary", date(2024, 10, 15), v3_fields=False) == ("ccadb-2.0", False)


def test_review_command_on_a_text_and_on_a_bug(tmp_path: Path) -> None:
    text = (FIX / "comments" / "v3_full_md.txt").read_text(encoding="utf-8")
    res = CliRunner().invoke(cli, ["review", "-", "--date", "2025-06-01", "--format", "json"], input=text)
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert [r["rule_id"] for r in rows] == ["v3.full.action_items.status"]  # "In progress" is not a v3 status
    assert rows[0]["severity"] == "must" and "In progress" in rows[0]["evidence"]
    from tests.helpers import build_db, mk_bug

    a = "a@acme.example"
    bugs = [
        mk_bug(
            1900001, "Acme: old", "2024-09-01T00:00:00Z", a, a, whiteboard="[ca-compliance] [crl-failure]"
        ),
        mk_bug(
            1900002,
            "Acme: new",
            "2025-05-20T00:00:00Z",
            a,
            a,
            whiteboard="[ca-compliance] [crl-failure]",
            comments=[(a, "2025-06-01T00:00:00Z", text)],
        ),
    ]
    con = build_db(tmp_path / "rv.duckdb", bugs)
    stored = con.execute("SELECT rule_id FROM report_findings WHERE bug_id = 1900002 ORDER BY 1").fetchall()
    con.close()
    assert stored == [
        ("v3.full.action_items.status",)
    ]  # parse fills report_findings (no database look-ups there)
    res = CliRunner().invoke(cli, ["review", "1900002", "--db", str(tmp_path / "rv.duckdb")])
    assert res.exit_code == 0 and "v3.full.related.missing" in res.output and "1900001" in res.output
    res = CliRunner().invoke(cli, ["review", "1234567", "--db", str(tmp_path / "rv.duckdb")])
    assert res.exit_code == 1 and "not in this database" in res.output


@pytest.mark.realdata
def test_real_pages_review_golden() -> None:
    from bzmine.review import review_text

    golden = json.loads((FIX / "review" / "real_pages.json").read_text(encoding="utf-8"))["pages"]
    folder = realdata("pages")
    for page, want in golden.items():
        rows = review_text(
            (folder / f"{page}.txt").read_text(encoding="utf-8"), datetime.fromisoformat(want["posted"])
        )
        assert [[r["report_no"], r["kind"], r["version"], r["rule_id"]] for r in rows] == want["findings"], (
            page
        )


def test_docs_list_every_rule() -> None:
    from bzmine.review import rules_doc

    doc = (Path(__file__).resolve().parents[1] / "docs" / "review.md").read_text(encoding="utf-8")
    assert doc == rules_doc(), "docs/review.md is out of date: run `make docs`"
    assert all(f"`{r['id']}`" in doc for r in RULES)


def test_report_quality_figures_trends_by_rule_and_html(tmp_path: Path) -> None:
    """Three reports with one `must` finding each (the real v3 text's "In progress" status): per CA and year,
    by rule, and on the HTML pages, with hand-counted expectations."""
    from bzmine import metrics
    from bzmine.report import write_report
    from tests.helpers import build_db, mk_bug

    text = (FIX / "comments" / "v3_full_md.txt").read_text(encoding="utf-8")
    a, b = "a@acme.example", "b@beta.example"
    bugs = [
        mk_bug(
            1910001, "Acme: one", "2025-05-20T00:00:00Z", a, a, comments=[(a, "2025-06-01T00:00:00Z", text)]
        ),
        mk_bug(
            1910002, "Acme: two", "2025-07-20T00:00:00Z", a, a, comments=[(a, "2025-08-01T00:00:00Z", text)]
        ),
        mk_bug(
            1910003, "Beta: one", "2026-01-10T00:00:00Z", b, b, comments=[(b, "2026-01-20T00:00:00Z", text)]
        ),
    ]
    db = tmp_path / "q.duckdb"
    build_db(db, bugs).close()
    res = CliRunner().invoke(
        cli, ["trends", "--by", "rule", "--db", str(db), "--as-of", "2026-06-01", "--format", "json"]
    )
    assert res.exit_code == 0, res.output
    counts = {r["period"]: r for r in json.loads(res.output)["counts"]}
    assert counts["2025"]["(reports reviewed)"] == 2 and counts["2025"]["(reports with no must finding)"] == 0
    assert (
        counts["2025"]["v3.full.action_items.status"] == 2
        and counts["2026"]["v3.full.action_items.status"] == 1
    )
    res = CliRunner().invoke(
        cli,
        [
            "trends",
            "--by",
            "rule",
            "--ca",
            "acme",
            "--db",
            str(db),
            "--as-of",
            "2026-06-01",
            "--format",
            "json",
        ],
    )
    assert [r["period"] for r in json.loads(res.output)["counts"]] == ["2025"]
    from bzmine.store.db import open_for_reading

    con = open_for_reading(db)
    try:
        q = metrics.report_quality(con, "2026-06-01")
        rows = {(r["ca"], r["year"]): r for r in q.to_dict("records")}
        assert rows[("Acme", 2025)]["reports_reviewed"] == 2 and rows[("Acme", 2025)]["share_clean"] == 0.0
        assert list(rows[("Acme", 2025)]["common_findings"]) == ["v3.full.action_items.status x2"]
        assert rows[("Beta", 2026)]["reports_reviewed"] == 1
        write_report(con, tmp_path / "rep", "2026-06-01", quiet=True)
    finally:
        con.close()
    index = (tmp_path / "rep" / "index.html").read_text(encoding="utf-8")
    assert "Report quality" in index and "v3.full.action_items.status x2" in index
    acme = next((tmp_path / "rep" / "ca").glob("acme*.html")).read_text(encoding="utf-8")
    assert '<td>2025</td><td class="num">2</td>' in acme and "v3.full.action_items.status x2" in acme


def test_findings_point_at_their_text() -> None:
    """Spans: an action-item finding covers that item's table row; a finding about a missing part covers the report
    (or the heading the rule looks at); every span lies inside the text, on real pages too when present."""
    from bzmine.review import review_text

    text = (FIX / "comments" / "v3_full_md.txt").read_text(encoding="utf-8")
    [row] = review_text(text, datetime(2025, 6, 1))
    cut = text[row["span_start"] : row["span_end"]]
    assert (
        cut.startswith("| Add a linter check") and cut.rstrip().endswith("In progress |") and "\n" not in cut
    )
    bare = "## Incident Report\n\n### Summary\nWe mis-issued 3 certificates.\n\n### Impact\nN/A\n"
    rows = review_text("Preamble.\n\n" + bare, datetime(2021, 6, 1))
    assert rows, "a near-empty v2 report breaks rules"
    for r in rows:
        assert 0 <= r["span_start"] < r["span_end"] <= len(bare) + 11
        assert r["span_start"] >= len("Preamble.\n\n")  # inside the report, not the text before it
    impact = [r for r in rows if "impact" in r["rule_id"]]
    for r in impact:
        assert ("Preamble.\n\n" + bare)[r["span_start"] : r["span_end"]] in ("### Impact", "N/A")
    folder = REALDATA / "pages"
    if folder.exists():
        for page in sorted(folder.glob("*.txt"))[:40]:
            t = page.read_text(encoding="utf-8")
            for r in review_text(t, datetime(2025, 6, 1)):
                assert 0 <= r["span_start"] < r["span_end"] <= len(t), (page.name, r)


def test_timeline_rules_stay_quiet_when_the_entry_is_there() -> None:
    """A third-party report whose timeline has the receipt, and a revocation-delay bug whose timeline has the
    revocation, break neither rule (their firing side is in test_each_rule_fires_and_stays_quiet)."""
    rep = complete("v3_full")
    rep.fields.update(
        disclosure_source="Certificate Problem Report from a researcher", disclosure_source_norm="third_party"
    )
    rep.timeline = [
        {"at": "2025-04-01T10:00:00Z", "text": "2025-04-01 10:00 UTC certificate problem report received"},
        {"at": "2025-04-03T10:00:00Z", "text": "2025-04-03 10:00 UTC all affected certificates revoked"},
    ]
    ctx = BugContext(datetime(2025, 4, 1), ("ca-compliance", "leaf-revocation-delay"))
    got = [f.rule_id for f in review_report(rep, CLOSING, datetime(2025, 4, 4), ctx)]
    assert "v3.full.timeline.cpr" not in got and "v3.full.timeline.revocation" not in got, got
