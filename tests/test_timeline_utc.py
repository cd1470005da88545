"""Timeline times in UTC (METRICS.md §10, issue 24 item 4): declared zones and offsets converted, entries with no
declared zone flagged zone_assumed, dates without a time flagged date_only; stored in timeline_events."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from bzmine.parse.dates import find_zone, parse_stamp
from bzmine.parse.reports import _clean, parse_text, parse_timeline


def events(text: str) -> list[dict]:
    return parse_timeline([_clean(x) for x in text.splitlines()])


@pytest.mark.parametrize(
    ("line", "utc", "zone"),
    [
        ("2025-06-03 16:54 (CEST) report received", "2025-06-03T14:54:00Z", "CEST"),
        ("2025-01-14 09:05 PST: lint deployed", "2025-01-14T17:05:00Z", "PST"),
        ("2025-07-01 08:00 PDT: lint deployed", "2025-07-01T15:00:00Z", "PDT"),
        ("2025-02-10 10:30 JST revocation started", "2025-02-10T01:30:00Z", "JST"),
        ("2025-02-10 10:30 UTC+2 revocation started", "2025-02-10T08:30:00Z", "UTC+2"),
        ("2025-02-10 10:30 GMT-05:00 revocation started", "2025-02-10T15:30:00Z", "GMT-05:00"),
        ("2025-02-10T10:30:00+09:00 revocation started", "2025-02-10T01:30:00Z", "+09:00"),
        ("2025-02-10T10:30:00Z revocation started", "2025-02-10T10:30:00Z", "Z"),
        ("2025-02-10 3:15 pm EST call with the auditor", "2025-02-10T20:15:00Z", "EST"),
        ("2025-02-10 23:30 AEDT ticket opened", "2025-02-10T12:30:00Z", "AEDT"),
        ("2025-02-10 10:30 PST (UTC-8) ticket opened", "2025-02-10T18:30:00Z", "PST UTC-8"),
    ],
)
def test_entry_zones_become_utc(line: str, utc: str, zone: str) -> None:
    [e] = events(line)
    assert (e["at"], e["zone"], e["zone_assumed"], e["date_only"]) == (utc, zone, False, False)


def test_blanket_lines_and_date_headers() -> None:
    text = """All times are CEST (UTC+2).
2025-06-03:
- 16:54 We received the problem report.
- 18:10 (UTC) Issuance stopped.
Tuesday, June 4, 2025
- The certificates were revoked.
2025-06-05 09:00 Full report posted."""
    got = [(e["at"], e["zone"], e["zone_assumed"], e["date_only"]) for e in events(text)]
    assert got == [
        ("2025-06-03T14:54:00Z", "UTC+2", False, False),  # the blanket line's offset
        ("2025-06-03T18:10:00Z", "UTC", False, False),  # the entry's own zone wins
        ("2025-06-04T00:00:00Z", None, False, True),  # a date with no time
        ("2025-06-05T07:00:00Z", "UTC+2", False, False),
    ]
    pst = events("All times are PST\n2024-12-02 17:00 Revoked the last certificate")
    assert pst[0]["at"] == "2024-12-03T01:00:00Z" and pst[0]["zone"] == "PST"
    heading = events("Timeline (all times JST)\n2024-12-02 09:00 found")
    assert heading[0]["at"] == "2024-12-02T00:00:00Z"


def test_no_zone_or_an_ambiguous_one_is_assumed_utc() -> None:
    [a, b, c] = events(
        "2025-03-01 10:00 alert fired\n2025-03-01 11:00 CST call held\n2025-03-20: expected end of revocation"
    )
    assert (a["at"], a["zone"], a["zone_assumed"]) == ("2025-03-01T10:00:00Z", None, True)
    assert (b["at"], b["zone"], b["zone_assumed"]) == ("2025-03-01T11:00:00Z", "CST", True)  # US or China?
    assert c["date_only"] and c["planned"] and not c["zone_assumed"]


def test_zone_words_elsewhere_are_not_zones() -> None:
    [e] = events("2025-03-01 10:00 CA staff in the EST office were told")
    assert e["zone_assumed"] and e["zone"] is None  # "CA" opens the tail, not a zone
    assert find_zone("the estimate was wrong") is None  # lower case words are never zones
    st = parse_stamp("2025-03-01")
    assert st is not None and st.date_only and st.at == datetime(2025, 3, 1, tzinfo=timezone.utc)


def test_flags_reach_timeline_events(tmp_path: Path) -> None:
    from tests.helpers import build_db, mk_bug

    a = "ca@acme.example"
    text = """## Incident Report
### Summary
A lint gap.
### Impact
None.
### Timeline
All times are JST.
2025-01-10:
- 09:00 Alert fired.
- The lint was written.
2025-01-11 12:00 UTC+1 Deployed.
### Root Cause Analysis
The lint lacked a rule because the profile changed.
"""
    con = build_db(
        tmp_path / "t.duckdb",
        [
            mk_bug(
                1930001,
                "Acme: lint",
                "2025-01-12T00:00:00Z",
                a,
                a,
                comments=[(a, "2025-01-12T00:00:00Z", text)],
            )
        ],
    )
    try:
        rows = con.execute(
            "SELECT event_at, zone, utc_offset_minutes, zone_assumed, date_only, planned FROM timeline_events "
            "ORDER BY event_no"
        ).fetchall()
        version = con.execute("SELECT judged_version FROM reports").fetchall()
    finally:
        con.close()
    assert rows == [
        (datetime(2025, 1, 10, 0, 0), "JST", 540, False, False, False),
        (datetime(2025, 1, 10, 0, 0), None, None, False, True, False),
        (datetime(2025, 1, 11, 11, 0), "UTC+1", 60, False, False, False),
    ]
    assert version == [("ccadb-2.0",)]


def test_preliminary_short_forms_are_reports() -> None:
    """Issue 24 item 5: "Preliminary Incident Report" then "Summary: ..." and a promised date."""
    for text, promised in [
        (
            "Preliminary Incident Report\nSummary: A CRL expired for 3 hours. The full report will be posted by "
            "2025-05-20.",
            "2025-05-20",
        ),
        (
            "**Preliminary Incident Report**\n\nSummary: one OCSP responder served stale answers.\n\n"
            "We expect to publish the full incident report on May 2, 2025.",
            "2025-05-02",
        ),
        ("Initial Incident Report\n\nSummary: wrong OU. Full report: 2025-06-01", "2025-06-01"),
    ]:
        res = parse_text(text)
        assert res.failures == [] and [r.kind for r in res.reports] == ["preliminary"], text
        rep = res.reports[0]
        assert rep.sections["summary"] and rep.fields["full_report_promised_by"] == promised


def test_fortuitous_circumstances_is_where_we_got_lucky() -> None:
    """Issue 25 item 5: the pending v3 rename of "Where we got lucky" is read as the same field."""
    text = """## Full Incident Report
### Lessons Learned
- **What went well:** The alert fired at once.
- **What didn't go well:** Nobody owned the alert queue.
- **Fortuitous circumstances:** The affected profile had only test customers.
"""
    [rep] = parse_text(text).reports
    assert rep.fields["lessons"]["where_we_got_lucky"] == "The affected profile had only test customers."


def test_a_zone_on_the_date_line() -> None:
    got = [
        (e["at"], e["zone"]) for e in events("2025-03-04 (CET):\n- 10:00 alert\n2025-03-06 UTC\n- 08:00 fix")
    ]
    assert got == [("2025-03-04T09:00:00Z", "CET"), ("2025-03-06T08:00:00Z", "UTC")]
