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
from bzmine.parse.review import BugContext, judged_by, load_rules, report_version, review_report
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


LESSONS = {
    "what_went_well": "The alert fired within minutes.",
    "what_didnt_go_well": "The pre-issuance lint was missing.",
    "where_we_got_lucky": "Only test domains were affected.",
    "additional": "Monitoring.",
}


def complete(kind: str, version: str | None = None) -> Report:
    """A report of this kind that meets every rule (written for this test); a preliminary report of the v2.0 era
    is the free-form kind (summary and the full report's date)."""
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
        r.timeline = [{"at": "2020-03-01T10:00:00Z", "text": "2020-03-01 10:00 UTC alert"}]
    elif kind == "v2_full":
        r.sections = {
            k: "Written." for k in ("summary", "impact", "timeline", "root_cause_analysis", "lessons_learned")
        }
        r.timeline = [{"at": "2020-01-01T10:00:00Z", "text": "2020-01-01 10:00 UTC alert"}]
        r.fields = {"lessons": dict(LESSONS)}
        r.action_items = [dict(ITEM)]
    elif kind == "preliminary" and version == "ccadb-2.0":
        r.sections = {"summary": "This is a preliminary report: a lint gap let 3 certificates out."}
        r.fields = {"full_report_promised_by": None, "full_report_promised_raw": "within 10 days"}
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
                "appendix",
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
            "lessons": dict(LESSONS),
        }
        r.timeline = [{"at": "2020-04-01T10:00:00Z", "text": "2020-04-01 10:00 UTC alert"}]
        r.related_incidents = [{"bug_id": 1900001, "date": "2024-05-01", "description": "Same linter gap"}]
        r.action_items = [
            dict(ITEM, root_causes="Contributing Factor #1", evaluation_criteria="Lint blocks a test")
        ]
    elif kind == "audit":
        r.fields = {
            "issue_description": "The audit found two key ceremonies without a signed witness log.",
            "issue_root_cause": "The checklist had no witness step because it was copied from an older script.",
            "remediation_plan": "Add the step and re-train the ceremony team.",
        }
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
        r.action_items[0]["status_raw"] = "TBD"
    elif check == "item_status_vocab":
        r.action_items[0]["status_raw"] = "In progress"
    elif check == "section_or_field":
        for place in target.split("|"):
            if place in r.fields:
                r.fields[place] = "TBD"
            else:
                r.sections[place] = "TBD"
    elif check == "timeline_time":
        r.timeline.append({"at": "2020-05-02T00:00:00Z", "text": "2020-05-02: we revoked", "date_only": True})
    elif check == "timeline_zone":
        r.timeline.append(
            {"at": "2020-05-02T10:00:00Z", "text": "2020-05-02 10:00 PST lint deployed", "zone": "PST"}
        )
    elif check == "timeline_future":
        r.timeline.append({"at": "2031-01-01T10:00:00Z", "text": "2031-01-01 10:00 UTC all revoked"})
    elif check == "timeline_order":
        r.timeline.insert(0, {"at": "2020-06-01T10:00:00Z", "text": "2020-06-01 10:00 UTC fix deployed"})
    elif check == "lessons_fields":
        r.fields["lessons"]["where_we_got_lucky"] = "TBD"
    elif check == "lessons_addressed":
        r.fields["lessons"]["what_didnt_go_well"] = "Our pager rota left a weekend uncovered."
    elif check == "factor_fields":
        r.contributing_factors = [
            {"number": 1, "title": "lint gap", "description": "TBD", "detection": "Alert"}
        ]
    elif check == "item_cells":
        r.action_items[0]["evaluation_criteria"] = "-"
    elif check == "appendix":
        r.sections.pop("appendix", None)
        r.fields["total_certificates"] = "12"
        r.sections["impact"] = "We issued 12 certificates with the bad field."
    elif check == "prelim_full_date":
        if target == "required":
            r.fields.pop("full_report_promised_raw", None)
        else:
            r.fields["full_report_promised_by"] = (ctx.opened_at + timedelta(days=28)).date().isoformat()  # type: ignore[operator]
    elif check == "root_cause_substance":
        r.answers["q6_root_cause"] = "Human error."
        r.sections["root_cause_analysis"] = "Human error by an operator."
        r.fields["root_causes"] = "Human error."
        r.fields["issue_root_cause"] = "Human error."
    elif check == "superseded":
        pass  # the date decides: see below
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
            ok = complete(kind, version)
            judged = report_version(ok, posted)
            if rule["check"] not in ("outdated", "superseded") and judged != version:
                continue  # this kind is judged by another version on that day
            ctx = BugContext(
                opened_at=posted - timedelta(hours=1), tags=("ca-compliance",), own_recent=(1900001,)
            )
            exercised += 1
            quiet = [f.rule_id for f in review_report(ok, CLOSING, posted, ctx)]
            if rule["check"] in ("outdated", "superseded"):
                assert rule["id"] in quiet  # an outdated template is outdated whatever its content
                earlier = datetime.fromisoformat(
                    "2021-06-01"
                    if kind == "seven_questions" and rule["check"] == "outdated"
                    else "2024-06-01"
                )
                if rule["check"] == "superseded":
                    earlier = datetime(2025, 7, 14)  # before CCADB Policy 2.0 §6.1: the should rule applies
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
    # "In progress" is not a v3 status word, and "Slow triage." has no action item: substance, not must/should
    assert [r["rule_id"] for r in rows] == [
        "v3.full.lessons.addressed",
        "v3.full.action_items.status.vocabulary",
    ]
    assert {r["severity"] for r in rows} == {"quality"} and "In progress" in rows[1]["evidence"]
    assert {(r["kind"], r["version"], r["outcome"]) for r in rows} == {("v3_full", "ccadb-3.0", "findings")}
    text = text.replace("| In progress |", "| TBD |")
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
        ("v3.full.action_items.status",),  # "TBD"
        ("v3.full.action_items.status.vocabulary",),  # "Done"
        ("v3.full.lessons.addressed",),
    ]  # parse fills report_findings (no database look-ups there)
    res = CliRunner().invoke(cli, ["review", "1900002", "--db", str(tmp_path / "rv.duckdb")])
    assert res.exit_code == 0 and "v3.full.related.missing" in res.output and "1900001" in res.output
    res = CliRunner().invoke(cli, ["review", "1234567", "--db", str(tmp_path / "rv.duckdb")])
    assert res.exit_code == 1 and "not in this database" in res.output


@pytest.mark.realdata
def test_real_pages_review_golden() -> None:
    from bzmine.parse.review import review_text

    golden = json.loads((FIX / "review" / "real_pages.json").read_text(encoding="utf-8"))["pages"]
    folder = realdata("pages")
    for page, want in golden.items():
        rows = review_text(
            (folder / f"{page}.txt").read_text(encoding="utf-8"), datetime.fromisoformat(want["posted"])
        )
        got = [[r["report_no"], r["kind"], r["version"], r.get("rule_id") or r["outcome"]] for r in rows]
        assert got == want["findings"], page


def test_docs_list_every_rule() -> None:
    from bzmine.parse.review import rules_doc

    doc = (Path(__file__).resolve().parents[1] / "docs" / "review.md").read_text(encoding="utf-8")
    assert doc == rules_doc(), "docs/review.md is out of date: run `make docs`"
    assert all(f"`{r['id']}`" in doc for r in RULES)


def test_report_quality_figures_trends_by_rule_and_html(tmp_path: Path) -> None:
    """Three reports with one `must` finding each (the real v3 text's "In progress" status): per CA and year,
    by rule, and on the HTML pages, with hand-counted expectations."""
    from bzmine import metrics
    from bzmine.report import write_report
    from tests.helpers import build_db, mk_bug

    text = (
        (FIX / "comments" / "v3_full_md.txt")
        .read_text(encoding="utf-8")
        .replace("| In progress |", "| TBD |")
    )
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
    from bzmine.database import open_for_reading

    con = open_for_reading(db)
    try:
        q = metrics.report_quality(con, "2026-06-01")
        rows = {(r["ca"], r["year"]): r for r in q.to_dict("records")}
        assert rows[("Acme", 2025)]["reports_reviewed"] == 2 and rows[("Acme", 2025)]["share_clean"] == 0.0
        assert list(rows[("Acme", 2025)]["common_findings"]) == [
            "v3.full.action_items.status x2",  # the must finding ("TBD"), then the two quality ones
            "v3.full.action_items.status.vocabulary x2",
            "v3.full.lessons.addressed x2",
        ]
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
    from bzmine.parse.review import review_text

    text = (FIX / "comments" / "v3_full_md.txt").read_text(encoding="utf-8")
    lessons, row = review_text(text, datetime(2025, 6, 1))
    assert text[lessons["span_start"] : lessons["span_end"]].startswith("Slow triage.")  # the lesson quoted
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
                if r["outcome"] == "findings":
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


CLOSURE_OK = """### Report Closure Summary
- **Incident description:** One issuing CA published a CRL whose nextUpdate had passed, for five hours.
- **Incident Root Cause(s):** The signing job ran on a single host without failover, so one disk fault stopped it.
- **Remediation description:** The job now runs on two hosts and pages the on-call engineer when a run is missed.
- **Commitment summary:** We keep the two-host setup and test failover every quarter.

All Action Items disclosed in this report have been completed as described, and we request its closure.
"""


def test_outcomes_through_the_cli() -> None:
    """Issue 25 item 1: clean (with kind and version), not recognised (with the parse failure) and not a report
    are three different answers, in the table and in JSON."""
    run = CliRunner(env={"COLUMNS": "300"})  # tables cut long text to the terminal's width
    res = run.invoke(cli, ["review", "-", "--date", "2025-09-01", "--format", "json"], input=CLOSURE_OK)
    assert res.exit_code == 0, res.output
    assert json.loads(res.output) == [
        {
            "report_no": 0,
            "kind": "closure",
            "version": "ccadb-3.1",
            "outcome": "clean",
            "requirement": "every rule of ccadb-3.1 that applies is met",
        }
    ]
    res = run.invoke(cli, ["review", "-", "--date", "2025-09-01"], input=CLOSURE_OK)
    assert "closure" in res.output and "ccadb-3.1" in res.output and " clean " in res.output
    cut = "## Preliminary Incident Report\n\n(details to follow)\n"
    res = run.invoke(cli, ["review", "-", "--date", "2025-09-01", "--format", "json"], input=cut)
    [row] = json.loads(res.output)
    assert row["outcome"] == "not_recognised" and "starts a preliminary report" in row["evidence"]
    res = run.invoke(cli, ["review", "-", "--date", "2025-09-01"], input=cut)
    assert "not_recognised" in res.output and "no incident report recognised" in res.output
    res = run.invoke(cli, ["review", "-", "--format", "json"], input="Thanks, we are looking into it.\n")
    assert [r["outcome"] for r in json.loads(res.output)] == ["not_a_report"]
    res = run.invoke(cli, ["review", "-"], input="Thanks, we are looking into it.\n")
    assert "not_a_report" in res.output and "clean" not in res.output


PRELIM = """## Preliminary Incident Report
### Summary
- **Incident description:** 40 OV certificates carried a locality that does not exist.
- **Relevant policies:** TLS BR 7.1.4.2.2
- **Source of incident disclosure:** Third Party Reported
"""


def test_opened_runs_the_deadline_rules_on_a_text(tmp_path: Path) -> None:
    """Issue 25 item 4: --opened gives a pasted text its bug's opening, so the 72-hour rule runs (file and stdin)."""
    run = CliRunner()
    res = run.invoke(cli, ["review", "-", "--date", "2025-06-05", "--format", "json"], input=PRELIM)
    assert [r["outcome"] for r in json.loads(res.output)] == ["clean"]
    res = run.invoke(
        cli,
        ["review", "-", "--date", "2025-06-05", "--opened", "2025-06-01", "--format", "json"],
        input=PRELIM,
    )
    assert [r["rule_id"] for r in json.loads(res.output)] == ["v3.prelim.72h"]
    f = tmp_path / "prelim.md"
    f.write_text(PRELIM.replace("### Summary", "We will post the full report by 2025-06-30.\n### Summary"))
    res = run.invoke(
        cli, ["review", str(f), "--date", "2025-06-02", "--opened", "2025-06-01", "--format", "json"]
    )
    assert [(r["rule_id"], r["evidence"]) for r in json.loads(res.output)] == [
        (
            "v3.prelim.full_date",
            "full report promised 29 days after the initial disclosure: 2025-06-30 (from 2025-06-01)",
        )
    ]
    res = run.invoke(cli, ["review", str(f), "--opened", "June"])
    assert res.exit_code == 1 and "--opened 'June' is not a date" in res.output


def test_a_bug_with_no_report_and_one_with_a_clean_report(tmp_path: Path) -> None:
    """review BUG_ID: a bug whose comments hold no report says so (not 'clean'); a clean closure summary is one
    clean row naming its comment, kind and version."""
    from tests.helpers import build_db, mk_bug

    a = "a@acme.example"
    bugs = [
        mk_bug(
            1940001, "Acme: talk", "2025-08-01T00:00:00Z", a, a, comments=[(a, "2025-08-01T00:00:00Z", "Hi.")]
        ),
        mk_bug(
            1940002,
            "Acme: closed",
            "2025-08-01T00:00:00Z",
            a,
            a,
            comments=[(a, "2025-08-01T00:00:00Z", "Opened."), (a, "2025-09-01T00:00:00Z", CLOSURE_OK)],
        ),
    ]
    db = tmp_path / "b.duckdb"
    con = build_db(db, bugs)
    versions = con.execute("SELECT bug_id, kind, judged_version FROM reports ORDER BY 1").fetchall()
    con.close()
    assert versions == [(1940002, "closure", "ccadb-3.1")]
    res = CliRunner().invoke(cli, ["review", "1940001", "--db", str(db), "--format", "json"])
    [row] = json.loads(res.output)
    assert row["outcome"] == "not_a_report" and "no incident report in this bug" in row["requirement"]
    res = CliRunner().invoke(cli, ["review", "1940002", "--db", str(db), "--format", "json"])
    [row] = json.loads(res.output)
    assert (row["comment"], row["kind"], row["version"], row["outcome"]) == (
        1,
        "closure",
        "ccadb-3.1",
        "clean",
    )


def test_the_parser_stamp_follows_the_rules_not_their_notes() -> None:
    """A changed rule re-parses every database (the stamp changes); an edited "_about" note does not."""
    import json as _json
    from importlib import resources

    from bzmine.parse import parser_stamp, rules_stamp

    text = resources.files("bzmine").joinpath("data/review_rules.json").read_text(encoding="utf-8")
    data = _json.loads(text)
    assert rules_stamp(text) == parser_stamp()
    assert rules_stamp(_json.dumps({**data, "_about": "reworded"})) == parser_stamp()
    changed = {**data, "rules": [{**data["rules"][0], "severity": "quality"}, *data["rules"][1:]]}
    assert rules_stamp(_json.dumps(changed)) != parser_stamp()


def test_empty_lessons_are_named_in_the_templates_words() -> None:
    """The evidence names each blank Lessons Learned field as the template writes it (with its apostrophe)."""
    rep = complete("v3_full")
    rep.fields["lessons"] = {**rep.fields["lessons"], "what_didnt_go_well": "TBD", "where_we_got_lucky": ""}
    found = [
        f
        for f in review_report(rep, CLOSING, datetime(2025, 4, 4))
        if f.evidence.startswith("empty or missing")
    ]
    assert found and found[0].evidence == "empty or missing: what didn't go well, where we got lucky", found
