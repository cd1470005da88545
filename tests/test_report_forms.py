"""Report forms the review corpus showed bzmine could not read (issue 25): action items as a list, tables copied
from a rendered page (tab-separated), seven-question answers on the question's own line."""

from __future__ import annotations

from bzmine.parse.reports import parse_text


def test_action_items_written_as_a_list() -> None:
    text = """## Full Incident Report
### Action Items
- Block the old CRL host in profiles. Kind: Prevent. Root cause: Contributing Factor #1. Evaluation: lint blocks it. Due: 2025-07-31. Status: Complete.
- Alert on CRL fetch errors
  Kind: Detect
  Due date: 2025-08-31
  Status: Ongoing
"""
    [rep] = parse_text(text).reports
    got = [(i["action"], i["kind"], i["root_causes"], i["due_date"], i["status"]) for i in rep.action_items]
    assert got == [
        ("Block the old CRL host in profiles", "Prevent", "Contributing Factor #1", "2025-07-31", "complete"),
        ("Alert on CRL fetch errors", "Detect", None, "2025-08-31", "ongoing"),
    ]
    assert rep.action_items[0]["evaluation_criteria"] == "lint blocks it"


def test_tab_separated_table_from_a_rendered_page() -> None:
    text = "Incident Report\n\nSummary\n\nx\n\nImpact\n\ny\n\nTimeline\n\nz\n\nAction Items\n\n"
    text += "Action Item\tKind\tDue Date\nAdd a lint\tPrevent\t2024-04-15\nReview profiles\t \t2024-05-31\n"
    [rep] = parse_text(text).reports
    assert [(i["action"], i["kind"], i["due_date"]) for i in rep.action_items] == [
        ("Add a lint", "Prevent", "2024-04-15"),
        ("Review profiles", None, "2024-05-31"),  # the empty Kind cell
    ]
    assert parse_text("a\tb\n")  # two cells stay text
    assert parse_text("name\tvalue\n").reports == []


def test_seven_question_answers_on_the_question_line() -> None:
    text = """1. How your CA first became aware of the problem: a forum post on 2018-06-04.
2. A timeline of the actions your CA took in response:
2018-06-04 16:20 UTC post read
3. Whether your CA has stopped, or has not yet stopped, issuing certificates with the problem: stopped on 2018-06-05.
4. A summary of the problematic certificates: five certificates.
"""
    [rep] = parse_text(text).reports
    assert rep.answers["q1_aware"] == "a forum post on 2018-06-04."
    assert rep.answers["q3_stopped"] == "stopped on 2018-06-05."
    assert rep.answers["q4_summary"] == "five certificates."
    assert (
        rep.answers["q2_timeline"] == "2018-06-04 16:20 UTC post read"
    )  # ':' then nothing: the answer follows


def test_zone_in_a_timeline_table_header() -> None:
    from bzmine.parse.reports import _clean, parse_timeline

    rows = "| Date | Time (CEST) | Event |\n|---|---|---|\n| 2025-03-04 | 10:00 | alert |\n"
    [e] = parse_timeline([_clean(x) for x in rows.splitlines()])
    assert (e["at"], e["zone"], e["zone_assumed"]) == ("2025-03-04T08:00:00Z", "CEST", False)
    [e] = parse_timeline([_clean(x) for x in ["Time zone: JST", "2025-03-04 10:00 alert"]])
    assert e["at"] == "2025-03-04T01:00:00Z"


def test_review_accepts_coarse_due_dates_and_status_details() -> None:
    """A due month or quarter is a due date; "Complete (2025-05-01)" is the v3 word Complete with a detail; a
    relative promise "in two weeks" is a promise of the full report within 14 days."""
    from datetime import datetime

    from bzmine.parse.reports import Report
    from bzmine.parse.review import BugContext, review_report

    item = {
        "action": "Add a lint",
        "kind": "Prevent",
        "root_causes": "CF #1",
        "evaluation_criteria": "lint runs",
    }
    rep = Report(kind="v3_full", line=0)
    rep.action_items = [
        dict(item, due_raw="Q3 2025", due_date=None, status_raw="Ongoing"),
        dict(item, due_raw="End of May 2025", due_date=None, status_raw="Complete (2025-05-01)"),
    ]
    got = {f.rule_id for f in review_report(rep, "", datetime(2025, 6, 1))}
    assert "v3.full.action_items.due" not in got and "v3.full.action_items.status.vocabulary" not in got
    rep.action_items[1].update(due_raw="soon", status_raw="Done (2025-05-01)")
    got = {f.rule_id for f in review_report(rep, "", datetime(2025, 6, 1))}
    assert {"v3.full.action_items.due", "v3.full.action_items.status.vocabulary"} <= got
    [prelim] = parse_text(
        "Incident Report\n\nThis is a preliminary report.\n\nSummary\n\nA CRL expired. "
        "We will share the full report in two weeks.\n"
    ).reports
    ctx = BugContext(opened_at=datetime(2024, 5, 1))
    assert [f.rule_id for f in review_report(prelim, "", datetime(2024, 5, 2), ctx)] == []
    prelim.fields["full_report_promised_raw"] = "in three weeks"
    assert [f.rule_id for f in review_report(prelim, "", datetime(2024, 5, 2), ctx)] == [
        "v2.prelim.full_date"
    ]


def test_labels_with_a_dash_instead_of_a_colon() -> None:
    text = """Full Incident Report
Summary
CA Owner CCADB unique ID – A012055
Incident description - A cache kept CAA answers too long.
Was issuance stopped in response to this incident, and why or why not? – Yes, for 4 hours.
Lessons Learned
What went well — The cause was found fast.
What went well was not written down here
"""
    [rep] = parse_text(text).reports
    f = rep.fields
    assert (
        f["ccadb_owner_id"] == "A012055" and f["incident_description"] == "A cache kept CAA answers too long."
    )
    assert f["issuance_stopped"] == "Yes, for 4 hours." and f["issuance_stopped_bool"] is True
    assert f["lessons"]["what_went_well"].startswith(
        "The cause was found fast."
    )  # prose after it is no label
