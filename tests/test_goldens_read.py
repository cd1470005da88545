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
