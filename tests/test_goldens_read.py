"""Facts read by a person in each golden fixture's text (tests/fixtures/comments/*.txt), written by hand: the golden
JSON files are regenerated from the parser's own output (`pytest --regenerate`), so these pin what the text says
independently of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bzmine.parse.reports import parse_text

FIX = Path(__file__).parent / "fixtures" / "comments"


def parsed(name: str) -> dict[str, Any]:
    return parse_text((FIX / f"{name}.txt").read_text(encoding="utf-8")).to_json()


def test_v3_contributing_factor_timeline_is_parsed() -> None:
    """docs/parsing.md: contributing_factors carry number, title, description, timeline, detection, interaction with
    other factors; the fixture's factor says "Timeline: Since 2025-02-21." in both forms."""
    for style in ("md", "rendered"):
        factors = parsed(f"v3_full_{style}")["reports"][0]["contributing_factors"]
        assert factors == [
            {
                "number": 1,
                "title": "missing lint rule",
                "description": "The linter had no rule for the field.",
                "timeline": "Since 2025-02-21.",
                "detection": "Monitoring alert.",
                "interaction_with_other_factors": "None.",
            }
        ], style
    # a factor timeline over several lines, and two factors: each keeps its own; the report's Timeline section is
    # still the report's
    text = (
        "## Full Incident Report\n\n### Timeline\n- 2025-03-01 10:00 UTC: found.\n\n### Root Cause Analysis\n"
        "**Contributing Factor #1: no lint**\n- **Description:** No rule.\n- **Timeline:**\n"
        "  2024-01-01 rule dropped\n  2025-02-21 first bad certificate\n\n"
        "**Contributing Factor #2: slow review**\n- **Timeline:** Since 2023.\n- **Detection:** Audit.\n"
    )
    rep = parse_text(text).reports[0]
    assert [(f["number"], f.get("timeline")) for f in rep.contributing_factors] == [
        (1, "2024-01-01 rule dropped\n2025-02-21 first bad certificate"),
        (2, "Since 2023."),
    ]
    assert rep.contributing_factors[1]["detection"] == "Audit."
    assert [e["at"] for e in rep.timeline] == ["2025-03-01T10:00:00Z"]


def test_seven_questions_read_by_hand() -> None:
    for style in ("md", "rendered"):
        rep = parsed(f"seven_questions_{style}")["reports"][0]
        assert (
            rep["answers"]["q4_summary"]
            == "244 certificates, first issued 2024-09-14, last issued 2025-03-29."
        )
        assert rep["answers"]["q1_aware"].startswith("We were notified on 2025-03-30")
        assert [(e["at"], e["text"]) for e in rep["timeline"]] == [
            ("2025-03-30T09:12:00Z", "2025-03-30 09:12 UTC report received."),
            ("2025-03-31T14:00:00Z", "2025-03-31 14:00 UTC investigation started."),
        ]
        # answer 7 written as "action - status - due DATE" lines: the whole line is the action
        assert [(i["due_date"], i["status_raw"], i["status"]) for i in rep["action_items"]] == [
            ("2025-05-01", "In progress", "ongoing"),
            ("2025-03-15", "Done", "complete"),
        ]


def test_v2_full_read_by_hand() -> None:
    for style in ("md", "rendered"):
        rep = parsed(f"v2_full_{style}")["reports"][0]
        # times under a date line take that date; "All times are UTC"
        assert [(e["at"], e["text"]) for e in rep["timeline"]] == [
            ("2025-03-30T09:30:00Z", "09:30 Problem report received"),
            ("2025-03-30T15:45:00Z", "15:45 Issuance stopped"),
            ("2025-04-01T10:00:00Z", "10:00 Fix deployed"),
        ]
        assert rep["fields"]["lessons"] == {
            "what_went_well": "Issuance was stopped within hours.",
            "what_didnt_go_well": "The first report sat in a shared inbox.",
            "where_we_got_lucky": "No relying party reported failures.",
        }
        assert rep["sections"]["impact"] == "4513 certificates were affected."


def test_v3_full_fields_read_by_hand() -> None:
    for style in ("md", "rendered"):
        rep = parsed(f"v3_full_{style}")["reports"][0]
        f = rep["fields"]
        assert (f["noncompliance_identified"]["at"], f["noncompliance_end"]["at"]) == (
            "2025-03-28T00:00:00Z",
            "2025-03-31T00:00:00Z",
        )
        assert (f["total_certificates_count"], f["remaining_valid_certificates_count"]) == (15410, 5136)
        assert f["relevant_policies"] == "TLS BR 7.1.2" and f["affected_certificate_types"] == "OV TLS"
        assert f["lessons"]["what_didnt_go_well"] == "Slow triage."
        assert rep["related_incidents"] == [
            {
                "bug_id": 1899990,
                "date": "2025-02-21",
                "date_raw": "2025-02-21",
                "description": "Same root cause",
            }
        ]
        assert [(e["at"], e["text"]) for e in rep["timeline"]] == [
            ("2025-03-28T08:15:00Z", "2025-03-28 08:15 UTC: Alert raised by the monitoring job."),
            ("2025-03-28T11:40:00Z", "2025-03-28 11:40 UTC: Issuance stopped."),
        ]
        assert [(i["kind"], i["due_date"], i["status_raw"], i["status"]) for i in rep["action_items"]] == [
            ("Prevent", "2025-05-01", "In progress", "ongoing"),
            ("Detect", "2025-03-15", "Done", "complete"),
        ]


def test_preliminary_closure_audit_and_others_read_by_hand() -> None:
    for style in ("md", "rendered"):
        pre = parsed(f"preliminary_v3_{style}")["reports"][0]
        assert pre["kind"] == "preliminary" and pre["fields"]["disclosure_source_norm"] == "self"
        assert pre["fields"]["full_report_promised_by"] is None  # "within two weeks": no date written
        closure = parsed(f"closure_{style}")["reports"][0]
        assert (closure["fields"]["root_causes"], closure["fields"]["commitment_summary"]) == (
            "A missing lint rule.",
            "We keep monitoring the field.",
        )
        assert closure["action_items"] == []
    audit = parsed("audit_md")["reports"][0]
    assert audit["fields"]["remediation_plan"] == "Generate the appendix from the CA inventory."
    # a table without a Status column: unknown, except "Done" written in the Due Date column (docs/metrics.md)
    assert [(i["due_raw"], i["status"]) for i in audit["action_items"]] == [
        ("2024-09-30", "unknown"),
        ("Done", "complete"),
    ]
    page = parsed("page_two_reports")
    assert page["bug_refs"] == [1999999]
    prelim, full = page["reports"]
    assert (
        prelim["fields"]["relevant_policies"] == "TLS BR 4.9.7" and "ccadb_owner_id" not in prelim["fields"]
    )
    assert full["fields"]["ccadb_owner_id"] == "A123456"
    assert full["fields"]["noncompliance_identified"]["at"] == "2025-08-01T07:10:00Z"
    assert [e["at"] for e in full["timeline"]] == ["2025-08-01T02:00:00Z", "2025-08-01T07:45:00Z"]
    assert [(i["action"], i["status"]) for i in full["action_items"]] == [
        ("Alert on CRL age over 1 hour", "complete")
    ]
    weekly = parsed("weekly_update_table")
    assert [(i["due_date"], i["status"]) for i in weekly["action_items"]] == [
        ("2025-05-20", "delayed"),
        ("2025-03-15", "complete"),
        ("2025-06-01", "canceled"),
    ]
    assert (
        parsed("preliminary_v2_freeform")["reports"][0]["fields"]
        == {
            "full_report_promised_by": "2024-11-08",
            "full_report_promised_raw": "2024-11-08 after our investigation comp",  # the promise as written (40 chars)
        }
    )
