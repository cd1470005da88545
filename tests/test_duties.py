"""Duties by the guideline in force (METRICS.md §10): for each duty kind and each guideline era a hand-built bug that
makes the duty met, missed, pending, waived by a closure summary, resumed by a later question, and closed; the
expected state of each is written by hand from the rule texts (INCIDENT_TEMPLATES.md §3.4), not computed."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from bzmine import metrics as M
from bzmine.cli import cli
from tests.helpers import build_db, mk_bug

ACME = "compliance@acme.example"
RP = "rp@mozilla.com"
CLOSE = [("status", "ASSIGNED", "RESOLVED"), ("resolution", "", "FIXED")]
NEEDINFO_PROGRAM = [("flagtypes.name", "", "needinfo?(incident-reporting@ccadb.org)")]

# one opening day per era (all at 00:00 UTC): v2.0 (before 3.0), 3.0, 3.1, 3.2
ERAS = {
    "pre3": datetime(2024, 6, 3),
    "3.0": datetime(2025, 4, 7),
    "3.1": datetime(2025, 9, 1),
    "3.2": datetime(2026, 4, 6),
}
VERSION = {"pre3": "2.0", "3.0": "3.0", "3.1": "3.1", "3.2": "3.2"}


def ts(t0: datetime, days: float) -> str:
    return (t0 + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def full_report(identified: str, item_due: str | None = None, status: str = "Ongoing") -> str:
    items = (
        f"| Add the lint rule | Prevent | Root Cause # 1 | No recurrence | {item_due} | {status} |"
        if item_due
        else ""
    )
    return f"""## Full Incident Report
### Summary
- **CA Owner CCADB unique ID:** A000001
- **Incident description:** A field was encoded wrongly.
- **Timeline summary:**
   - **Non-compliance start date:** 2020-01-01
   - **Non-compliance identified date:** {identified}
   - **Non-compliance end date:** 2020-01-02
- **Relevant policies:** TLS BR 7.1.2
- **Source of incident disclosure:** Self Reported
### Impact
- **Total number of certificates:** 12
### Timeline
2020-01-01 10:00 UTC: Issuance began.
### Root Cause Analysis
**Contributing Factor #1: no lint rule**
- **Description:** The linter had no rule for the field.
### Lessons Learned
- **What went well:** Quick stop.
### Action Items
| Action Item | Kind | Corresponding Root Cause(s) | Evaluation Criteria | Due Date | Status |
|---|---|---|---|---|---|
{items}
### Appendix
None.
"""


PRELIMINARY = (
    "## Preliminary Incident Report\n### Summary\n- **Incident description:** A field was encoded wrongly."
)
CLOSURE = """### Report Closure Summary
- **Incident description:** A field was encoded wrongly.
- **Incident Root Cause(s):** No lint rule.
- **Remediation description:** Rule added.
- **Commitment summary:** We keep the rule.
All Action Items disclosed in this report have been completed as described, and we request its closure.
"""
UPDATE = "Update: the work goes on as planned."
QUESTION = "Why did the linter not catch this earlier?"

# as_of per scenario, in days after the opening
AS_OF = {"met": 30, "missed": 30, "pending": 1, "waived": 30, "resumed": 30, "closed": 30}
KINDS = (
    "initial_disclosure",
    "full_report",
    "routine_update",
    "action_item_update",
    "revocation_update",
    "next_update",
)


def scenario_bug(bug_id: int, kind: str, scen: str, t0: datetime) -> dict[str, Any]:
    """The bug that puts `kind` in state `scen` (see EXPECTED for what each one does)."""
    comments: list[tuple[str, str, str]] = []
    history: list[tuple[str, str, list[tuple[str, str, str]]]] = []
    wb = "[ca-compliance]"
    creator = ACME
    status = "ASSIGNED"
    if kind == "initial_disclosure":
        creator = RP  # filed by the program: the CA's first word is the disclosure
        comments.append((RP, ts(t0, 0), "A CPR reported this problem."))
        ca_first = {"met": 1, "missed": 4, "waived": 2}.get(scen)
        if ca_first is not None:
            comments.append((ACME, ts(t0, ca_first), CLOSURE if scen == "waived" else UPDATE))
    elif kind == "full_report":
        comments.append((ACME, ts(t0, 0), PRELIMINARY))
        report_day = {"met": 10, "missed": 16}.get(scen)
        if report_day is not None:
            comments.append((ACME, ts(t0, report_day), full_report(t0.strftime("%Y-%m-%d"))))
        if scen == "waived":
            comments.append((ACME, ts(t0, 2), CLOSURE))
    elif kind == "routine_update":
        comments.append((ACME, ts(t0, 0), PRELIMINARY))
        if scen == "met":
            comments.append((ACME, ts(t0, 5), UPDATE))
        if scen == "missed":
            comments.append((ACME, ts(t0, 9), UPDATE))
        if scen in ("waived", "resumed"):
            comments.append((ACME, ts(t0, 2), CLOSURE))
        if scen == "resumed":
            comments.append((RP, ts(t0, 5), QUESTION))
    elif kind == "action_item_update":
        comments.append(
            (
                ACME,
                ts(t0, 0),
                full_report(t0.strftime("%Y-%m-%d"), (t0 + timedelta(days=10)).strftime("%Y-%m-%d")),
            )
        )
        if scen == "met":
            comments.append((ACME, ts(t0, 11), UPDATE))
        if scen == "missed":
            comments.append((ACME, ts(t0, 15), UPDATE))
        if scen in ("waived", "resumed"):
            comments.append((ACME, ts(t0, 5), CLOSURE))
        if scen == "resumed":
            comments.append((RP, ts(t0, 8), QUESTION))
    elif kind == "revocation_update":
        wb = "[ca-compliance] [leaf-revocation-delay]"
        comments.append((ACME, ts(t0, 0), PRELIMINARY))
        if scen == "met":
            comments.append((ACME, ts(t0, 2), UPDATE))
        if scen == "missed":
            comments.append(
                (ACME, ts(t0, 5), UPDATE)
            )  # in time for the 7-day MUST, late for the 3-day SHOULD
        if scen in ("waived", "resumed"):
            comments.append((ACME, ts(t0, 1), CLOSURE))
        if scen == "resumed":
            comments.append((RP, ts(t0, 2), QUESTION))
    elif kind == "next_update":
        comments.append((ACME, ts(t0, 0), PRELIMINARY))
        nu = (t0 + timedelta(days=10)).strftime("%Y-%m-%d")
        history.append((ts(t0, 1), RP, [("whiteboard", wb, f"{wb} Next update {nu}")]))
        wb = f"{wb} Next update {nu}"
        if scen == "met":
            comments.append((ACME, ts(t0, 5), UPDATE))
        if scen in (
            "waived",
            "resumed",
        ):  # the summary comes before the date is set (a later one would meet it)
            comments.append((ACME, ts(t0, 0.5), CLOSURE))
        if scen == "resumed":
            comments.append((RP, ts(t0, 3), QUESTION))
    close_day = {
        "initial_disclosure": 1,
        "full_report": 4,
        "routine_update": 4,
        "action_item_update": 11,
        "revocation_update": 2,
        "next_update": 6,
    }[kind]
    if scen == "closed":
        history.append((ts(t0, close_day), RP, CLOSE))
        status = "RESOLVED"
    return mk_bug(
        bug_id,
        f"Acme: {kind} {scen}",
        ts(t0, 0),
        creator,
        ACME,
        status=status,
        whiteboard=wb,
        comments=comments,
        history=sorted(history),
    )


# (kind, scenario) -> {era: (state, days_late) of the duty arising at `arises` days after opening, or None: no duty}
# days_late is for missed duties only. Hand-written from the rules: D1, D3, D5 from v3.0, D4 from v3.1, D2 and
# Next-update dates in every era here; closure summaries waive D3, D4, D5 and Next-update dates from v3.1 on.
V3 = ("3.0", "3.1", "3.2")


def _all(value: Any, eras: tuple[str, ...] = ("pre3", *V3)) -> dict[str, Any]:
    return {e: value for e in eras}


EXPECTED: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {
    # D1: filed by the program at day 0, due 72 h later
    ("initial_disclosure", "met"): (0, {"pre3": None, **_all(("met", None), V3)}),
    ("initial_disclosure", "missed"): (0, {"pre3": None, **_all(("missed", 1.0), V3)}),
    ("initial_disclosure", "pending"): (0, {"pre3": None, **_all(("pending", None), V3)}),
    # a closure summary as the CA's first word still discloses: D1 is not waivable
    ("initial_disclosure", "waived"): (0, {"pre3": None, **_all(("met", None), V3)}),
    ("initial_disclosure", "closed"): (0, {"pre3": None, **_all(("closed", None), V3)}),
    # D2: 14 days from the CA's own opening; every era since v1.0
    ("full_report", "met"): (0, _all(("met", None))),
    ("full_report", "missed"): (0, _all(("missed", 2.0))),
    ("full_report", "pending"): (0, _all(("pending", None))),
    ("full_report", "waived"): (
        0,
        _all(("missed", 16.0)),
    ),  # not waivable: no full report by day 14, as_of day 30
    ("full_report", "closed"): (0, _all(("closed", None))),
    # D3: the gap from the opening (or from the closure summary at day 2)
    ("routine_update", "met"): (0, {"pre3": None, **_all(("met", None), V3)}),
    ("routine_update", "missed"): (0, {"pre3": None, **_all(("missed", 2.0), V3)}),
    ("routine_update", "pending"): (0, {"pre3": None, **_all(("pending", None), V3)}),
    ("routine_update", "waived"): (
        2,
        {"pre3": None, "3.0": ("missed", 21.0), "3.1": ("waived", None), "3.2": ("waived", None)},
    ),
    ("routine_update", "resumed"): (2, {"pre3": None, **_all(("missed", 21.0), V3)}),
    ("routine_update", "closed"): (0, {"pre3": None, **_all(("closed", None), V3)}),
    # D4: item due day 10 (arises 00:00 that day), update due by the end of day 13
    ("action_item_update", "met"): (
        10,
        {"pre3": None, "3.0": None, "3.1": ("met", None), "3.2": ("met", None)},
    ),
    ("action_item_update", "missed"): (
        10,
        {"pre3": None, "3.0": None, "3.1": ("missed", 1.0), "3.2": ("missed", 1.0)},
    ),
    ("action_item_update", "pending"): (
        10,
        {"pre3": None, "3.0": None, "3.1": ("pending", None), "3.2": ("pending", None)},
    ),
    ("action_item_update", "waived"): (
        10,
        {"pre3": None, "3.0": None, "3.1": ("waived", None), "3.2": ("waived", None)},
    ),
    ("action_item_update", "resumed"): (
        10,
        {"pre3": None, "3.0": None, "3.1": ("missed", 16.0), "3.2": ("missed", 16.0)},
    ),
    ("action_item_update", "closed"): (
        10,
        {"pre3": None, "3.0": None, "3.1": ("closed", None), "3.2": ("closed", None)},
    ),
    # D5 (the 7-day MUST): the gap from the opening (or the summary at day 1)
    ("revocation_update", "met"): (0, {"pre3": None, **_all(("met", None), V3)}),
    ("revocation_update", "missed"): (
        0,
        {"pre3": None, **_all(("met", None), V3)},
    ),  # day 5: in time for 7 days
    ("revocation_update", "pending"): (0, {"pre3": None, **_all(("pending", None), V3)}),
    ("revocation_update", "waived"): (
        1,
        {"pre3": None, "3.0": ("missed", 22.0), "3.1": ("waived", None), "3.2": ("waived", None)},
    ),
    ("revocation_update", "resumed"): (1, {"pre3": None, **_all(("missed", 22.0), V3)}),
    ("revocation_update", "closed"): (0, {"pre3": None, **_all(("closed", None), V3)}),
    # Next-update date day 10 set at day 1 (end of day 10 = 23:59:59)
    ("next_update", "met"): (1, _all(("met", None))),
    ("next_update", "missed"): (1, _all(("missed", 19.0))),
    ("next_update", "pending"): (1, _all(("pending", None))),
    ("next_update", "waived"): (
        1,
        {"pre3": ("missed", 19.0), "3.0": ("missed", 19.0), "3.1": ("waived", None), "3.2": ("waived", None)},
    ),
    ("next_update", "resumed"): (1, _all(("missed", 19.0))),
    ("next_update", "closed"): (1, _all(("closed", None))),
}
# the 3-day SHOULD beside the MUST (D5): (scenario) -> {era: (state, days_late)}
EXPECTED_SHOULD: dict[str, tuple[float, dict[str, Any]]] = {
    "met": (0, {"pre3": None, **_all(("met", None), V3)}),
    "missed": (0, {"pre3": None, **_all(("missed", 2.0), V3)}),
    "pending": (0, {"pre3": None, **_all(("pending", None), V3)}),
    "waived": (1, {"pre3": None, "3.0": ("missed", 26.0), "3.1": ("waived", None), "3.2": ("waived", None)}),
    "resumed": (1, {"pre3": None, **_all(("missed", 26.0), V3)}),
    "closed": (0, {"pre3": None, **_all(("closed", None), V3)}),
}

CASES = [(kind, scen, era) for (kind, scen) in EXPECTED for era in ERAS]


def _bug_id(kind: str, scen: str, era: str) -> int:
    return 10_000 + KINDS.index(kind) * 1000 + list(ERAS).index(era) * 100 + list(AS_OF).index(scen)


def _issue_case() -> dict[str, Any]:
    """The case of issue 24: v3.1 report, items complete, closure summary and needinfo to the program, then the
    program sets Next update 2025-10-20 and does not close the bug."""
    t0 = datetime(2025, 8, 4)
    return mk_bug(
        9001,
        "Acme: issue 24 case",
        ts(t0, 0),
        ACME,
        ACME,
        whiteboard="[ca-compliance] Next update 2025-10-20",
        comments=[
            (ACME, ts(t0, 0), full_report("2025-08-02 10:00", "2025-08-20", "Complete")),
            (ACME, "2025-08-10T09:00:00Z", UPDATE),
            (ACME, "2025-08-16T09:00:00Z", UPDATE),
            (ACME, "2025-08-22T09:00:00Z", CLOSURE),
        ],
        history=[
            ("2025-08-22T09:01:00Z", ACME, NEEDINFO_PROGRAM),
            (
                "2025-10-01T08:00:00Z",
                RP,
                [("whiteboard", "[ca-compliance]", "[ca-compliance] Next update 2025-10-20")],
            ),
        ],
    )


def _extra_bugs() -> list[dict[str, Any]]:
    t22 = datetime(2022, 5, 2)  # before the first CCADB version
    t31 = ERAS["3.1"]
    t30 = ERAS["3.0"]
    return [
        _issue_case(),
        # a Next-update date before CCADB's guidelines: the wiki's rule, no version
        mk_bug(
            9002,
            "Acme: 2022 next update",
            ts(t22, 0),
            ACME,
            ACME,
            whiteboard="[ca-compliance] Next update 2022-05-12",
            comments=[(ACME, ts(t22, 0), PRELIMINARY)],
            history=[
                (
                    ts(t22, 1),
                    RP,
                    [("whiteboard", "[ca-compliance]", "[ca-compliance] Next update 2022-05-12")],
                )
            ],
        ),
        # D1 on a bug the CA filed: identified 48 h before opening (met) and 96 h before (missed by 24 h)
        mk_bug(
            9003,
            "Acme: disclosed in 48 h",
            ts(t31, 0),
            ACME,
            ACME,
            comments=[(ACME, ts(t31, 0), full_report("2025-08-30 00:00"))],
        ),
        mk_bug(
            9004,
            "Acme: disclosed in 96 h",
            ts(t31, 0),
            ACME,
            ACME,
            comments=[(ACME, ts(t31, 0), full_report("2025-08-28 00:00"))],
        ),
        # D7 under 3.0: a needinfo to the program is not yet part of the closure process; a summary is
        mk_bug(
            9005,
            "Acme: 3.0 needinfo only",
            ts(t30, 0),
            ACME,
            ACME,
            comments=[(ACME, ts(t30, 0), PRELIMINARY)],
            history=[(ts(t30, 2), ACME, NEEDINFO_PROGRAM)],
        ),
        mk_bug(
            9006,
            "Acme: 3.1 needinfo only",
            ts(t31, 0),
            ACME,
            ACME,
            comments=[(ACME, ts(t31, 0), PRELIMINARY)],
            history=[(ts(t31, 2), ACME, NEEDINFO_PROGRAM)],
        ),
    ]


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    bugs = [scenario_bug(_bug_id(k, s, e), k, s, t0) for (k, s) in EXPECTED for e, t0 in ERAS.items()]
    return build_db(tmp_path_factory.mktemp("duties") / "duties.duckdb", bugs + _extra_bugs())


_CACHE: dict[str, Any] = {}


def _duties_at(con: duckdb.DuckDBPyConnection, as_of: datetime) -> Any:
    key = as_of.isoformat()
    if key not in _CACHE:
        _CACHE[key] = M.duties(con, as_of)
    return _CACHE[key]


def _one(df: Any, bug_id: int, kind: str, arises: datetime) -> Any:
    rows = df[(df["bug_id"] == bug_id) & (df["kind"] == kind) & (df["arises_at"] == arises)]
    assert len(rows) <= 1, rows
    return rows.iloc[0] if len(rows) else None


def _check(row: Any, want: Any, era: str) -> None:
    if want is None:
        assert row is None, f"expected no duty, got {None if row is None else row.to_dict()}"
        return
    assert row is not None, "expected a duty, got none"
    state, days_late = want
    assert row["state"] == state, row.to_dict()
    assert row["version"] == VERSION[era]
    if days_late is None:
        assert row["days_late"] != row["days_late"] or row["days_late"] is None  # NaN: not missed
    else:
        assert row["days_late"] == pytest.approx(days_late, abs=1e-3)


@pytest.mark.parametrize("kind,scen,era", CASES)
def test_duty_state_per_kind_version_and_scenario(
    con: duckdb.DuckDBPyConnection, kind: str, scen: str, era: str
) -> None:
    arises_days, wants = EXPECTED[(kind, scen)]
    t0 = ERAS[era]
    df = _duties_at(
        con,
        t0
        + timedelta(
            days=AS_OF[scen]
            if (kind, scen) != ("full_report", "pending")
            and (kind, scen) != ("action_item_update", "pending")
            else 11
        ),
    )
    row = _one(df, _bug_id(kind, scen, era), kind, t0 + timedelta(days=arises_days))
    _check(row, wants[era], era)


@pytest.mark.parametrize("scen,era", [(s, e) for s in EXPECTED_SHOULD for e in ERAS])
def test_revocation_delay_should_kind(con: duckdb.DuckDBPyConnection, scen: str, era: str) -> None:
    arises_days, wants = EXPECTED_SHOULD[scen]
    t0 = ERAS[era]
    df = _duties_at(con, t0 + timedelta(days=AS_OF[scen]))
    row = _one(
        df,
        _bug_id("revocation_update", scen, era),
        "revocation_update_should",
        t0 + timedelta(days=arises_days),
    )
    _check(row, wants[era], era)
    if row is not None:
        assert row["strength"] == "SHOULD" and row["source"] == f"CCADB IRG {VERSION[era]} §Updates"


def test_sources_and_strengths_name_the_rule(con: duckdb.DuckDBPyConnection) -> None:
    t0 = ERAS["3.1"]
    df = _duties_at(con, t0 + timedelta(days=30))
    row = _one(df, _bug_id("routine_update", "met", "3.1"), "routine_update", t0)
    assert (row["source"], row["strength"], row["code"], row["met_at"]) == (
        "CCADB IRG 3.1 §Updates",
        "MUST",
        "D3",
        t0 + timedelta(days=5),
    )
    row = _one(df, _bug_id("routine_update", "missed", "3.1"), "routine_update", t0)
    assert row["answered_late_at"] == t0 + timedelta(days=9)
    # the D3 gap after the late comment (day 9) ran out at day 16 and is still unanswered at day 30
    row = _one(df, _bug_id("routine_update", "missed", "3.1"), "routine_update", t0 + timedelta(days=9))
    assert (row["state"], row["days_late"]) == ("missed", pytest.approx(14.0))
    # a Next-update date in force suspends routine updates: none from the opening of the next_update "met" bug
    # beyond the gap before the date was set (day 0 -> day 1, when the date replaced it)
    nu = df[(df["bug_id"] == _bug_id("next_update", "met", "3.1")) & (df["kind"] == "routine_update")]
    assert nu["arises_at"].tolist() == []


def test_next_update_before_ccadb_has_no_version(con: duckdb.DuckDBPyConnection) -> None:
    df = _duties_at(con, datetime(2022, 6, 1))
    rows = df[df["bug_id"] == 9002]
    assert rows["kind"].tolist() == ["next_update"]
    r = rows.iloc[0]
    assert r["version"] is None and r["source"] == "Mozilla wiki §Responding to an Incident"
    assert (r["state"], r["days_late"]) == ("missed", pytest.approx(19.0, abs=1e-3))


def test_initial_disclosure_delay_from_the_identified_date(con: duckdb.DuckDBPyConnection) -> None:
    df = _duties_at(con, ERAS["3.1"] + timedelta(days=30))
    met = df[(df["bug_id"] == 9003) & (df["kind"] == "initial_disclosure")].iloc[0]
    late = df[(df["bug_id"] == 9004) & (df["kind"] == "initial_disclosure")].iloc[0]
    assert (met["state"], met["disclosure_delay_hours"], str(met["arises_at"])) == (
        "met",
        48.0,
        "2025-08-30 00:00:00",
    )
    assert (late["state"], late["disclosure_delay_hours"], late["days_late"]) == ("missed", 96.0, 1.0)
    assert late["version"] == "3.1"  # identified 2025-08-28: v3.1 in force


def test_closure_requested_is_the_programs_queue(con: duckdb.DuckDBPyConnection) -> None:
    t30, t31 = ERAS["3.0"], ERAS["3.1"]
    d30 = _duties_at(con, t30 + timedelta(days=30))
    d31 = _duties_at(con, t31 + timedelta(days=30))
    assert d30[(d30["bug_id"] == 9005) & (d30["kind"] == "closure_requested")].empty  # needinfo under 3.0
    got = d31[(d31["bug_id"] == 9006) & (d31["kind"] == "closure_requested")]
    assert got[["state", "owed_by", "version"]].values.tolist() == [["pending", "program", "3.1"]]
    # a closure summary under 3.0 requests closure too; the closing meets it
    s30 = d30[
        (d30["bug_id"] == _bug_id("routine_update", "waived", "3.0")) & (d30["kind"] == "closure_requested")
    ]
    assert s30[["state", "arises_at"]].values.tolist() == [["pending", t30 + timedelta(days=2)]]
    assert (
        d30[(d30["bug_id"] == _bug_id("routine_update", "waived", "pre3"))]
        .query("kind == 'closure_requested'")
        .empty
    )


def test_issue_case_owes_nothing(con: duckdb.DuckDBPyConnection) -> None:
    due = M.due(con, "2025-11-15")
    assert due[due["bug_id"] == 9001].empty  # nothing is due from the CA
    card = M.scorecard(con, "2025-11-15")
    obl = M.obligations(con, "2025-11-15")
    assert obl[obl["bug_id"] == 9001]["state"].tolist() == ["waived"]
    df = _duties_at(con, datetime(2025, 11, 15))
    mine = df[df["bug_id"] == 9001]
    assert set(mine.loc[mine["state"] == "waived", "kind"]) == {"routine_update", "next_update"}
    # every duty the CA had was met (disclosure, full report, weekly updates) or waived; only the program owes
    assert set(mine.loc[mine["state"].isin(["missed", "pending"]), "kind"]) == {"closure_requested"}
    assert mine.loc[mine["kind"] == "routine_update", "state"].tolist() == ["met", "met", "met", "waived"]
    assert card.set_index("ca").loc["Acme", "next_updates_missed"] == len(
        obl[(obl["state"] == "missed") & (obl["bug_id"] != 9001)]
    )
    prog = M.due(con, "2025-11-15", waiting_on="program")
    row = prog[prog["bug_id"] == 9001].iloc[0]
    assert (row["since"], row["days_waiting"], row["rule"]) == ("2025-08-22", 84.6, "CCADB IRG 3.1 §Closure")


def test_due_cli_lists_rule_and_program_queue(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    con.execute("CHECKPOINT")
    db = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()[0]
    t0 = ERAS["3.1"]
    res = CliRunner().invoke(
        cli, ["due", "--db", db, "--as-of", ts(t0, 30)[:10], "--ca", "Acme"], env={"COLUMNS": "400"}
    )
    assert res.exit_code == 0, res.output
    assert "routine update missed" in res.output and "CCADB IRG 3.1 §Updates, 7 days" in res.output
    res = CliRunner().invoke(cli, ["due", "--db", db, "--as-of", ts(t0, 30)[:10], "--format", "json"])
    rows = json.loads(res.output)
    waived_bug = _bug_id("routine_update", "waived", "3.1")  # its routine update after the summary is waived
    assert [r["what"] for r in rows if r["bug_id"] == waived_bug] == ["full report missed"]  # not waivable
    resumed_bug = _bug_id("routine_update", "resumed", "3.1")
    got = sorted(r["what"] for r in rows if r["bug_id"] == resumed_bug)
    assert got == ["full report missed", "pending question", "routine update missed"], got
    res = CliRunner().invoke(cli, ["due", "--db", db, "--as-of", "2025-11-15", "--waiting-on", "program"])
    assert res.exit_code == 0, res.output
    assert "closure requested" in res.output and "9001" in res.output


def test_scorecard_and_explain_count_duties(tmp_path: Path) -> None:
    t0 = ERAS["3.1"]
    # A: preliminary at day 0, update at day 5. B: the same on a revocation-delay bug.
    bugs = [
        scenario_bug(1, "routine_update", "met", t0),
        scenario_bug(2, "revocation_update", "missed", t0),
    ]
    c = build_db(tmp_path / "card.duckdb", bugs)
    at = t0 + timedelta(days=30)
    card = M.scorecard(c, at).set_index("ca").loc["Acme"]
    # each bug: full report missed (D2); routine gap 0->5 met, gap 5->12 missed (D3); B also revocation gap 0->5
    # met and 5->12 missed (D5, 7 days), and both 3-day gaps missed (SHOULD)
    assert (card["duties_due"], card["duties_missed"], card["duty_miss_rate"]) == (8, 5, 0.625)
    assert (card["routine_update_due"], card["routine_update_missed"]) == (4, 2)
    assert (card["full_report_due"], card["full_report_missed"]) == (2, 2)
    assert (card["revocation_update_due"], card["revocation_update_missed"]) == (2, 1)
    assert (card["revocation_update_should_due"], card["revocation_update_should_missed"]) == (2, 2)
    assert (
        card["initial_disclosure_due"] == 0
        and card["median_disclosure_delay_hours"] != card["median_disclosure_delay_hours"]
    )
    value, rows = M.explain(c, "Acme", "duties_missed", at)
    assert value == 5
    assert sorted(zip(rows["bug_id"], rows["kind"], strict=True)) == [
        (1, "full_report"),
        (1, "routine_update"),
        (2, "full_report"),
        (2, "revocation_update"),
        (2, "routine_update"),
    ]
    assert set(rows["version"]) == {"3.1"} and set(rows["state"]) == {"missed"}
    figs = M.figures(c).set_index("figure")
    assert figs.loc["revocation_update_should_miss_rate", "direction"] == "not_ranked"  # SHOULD: never ranked
    assert figs.loc["revocation_update_miss_rate", "direction"] == "lower_is_better"
    res = CliRunner().invoke(
        cli,
        [
            "explain",
            "duties_missed",
            "--ca",
            "Acme",
            "--db",
            str(tmp_path / "card.duckdb"),
            "--as-of",
            str(at),
        ],
    )
    assert res.exit_code == 0 and "duties_missed = 5 for Acme; 5 row(s)" in res.output, res.output


# -- planted truth of a synthetic corpus (the 520-bug sample of conftest) --

# guideline versions and the first version of each duty, written by hand from METRICS.md §10
_VERSIONS = [
    ("1.0", datetime(2023, 2, 15)),
    ("2.0", datetime(2023, 10, 17)),
    ("3.0", datetime(2025, 3, 1)),
    ("3.1", datetime(2025, 7, 15)),
    ("3.2", datetime(2026, 3, 20)),
]
_FROM = {
    "initial_disclosure": "3.0",
    "full_report": "1.0",
    "routine_update": "3.0",
    "revocation_update": "3.0",
}
_ORDER = [v for v, _ in _VERSIONS]


def _version(t: datetime) -> str | None:
    return next((v for v, start in reversed(_VERSIONS) if start <= t), None)


def _applies(kind: str, t: datetime) -> bool:
    v = _version(t)
    return v is not None and _ORDER.index(v) >= _ORDER.index(_FROM.get(kind, "3.0"))


def _t(s: str | None) -> datetime | None:
    return datetime.fromisoformat(s[:-1]) if s else None


def _expected_duties(b: dict[str, Any], closings: list[datetime], as_of: datetime) -> list[tuple[Any, ...]]:
    """The duties of one planted bug at as_of, from the planted times (METRICS.md §10, P0, P4)."""
    ev = b["duty_events"]
    opened = _t(ev["opened_at"])
    assert opened is not None
    if opened > as_of:
        return []
    ca = sorted(x for x in (_t(c) for c in ev["ca_comments"]) if x and x <= as_of)
    cls = sorted(c for c in closings if c <= as_of)
    full = _t(ev["full_report_at"])
    full = full if full and full <= as_of else None
    asks = sorted(x for x in (_t(q["asked_at"]) for q in b["requests"]) if x and x <= as_of)
    summaries = [s for s in (_t(x) for x in ev["closure_summaries"]) if s and s <= as_of]
    obligations = [(_t(o["set_at"]), date_end(o["due"])) for o in b["obligations"]]
    obligations = [(s, e) for s, e in obligations if s and s <= as_of]

    def after(xs: list[datetime], t: datetime) -> datetime | None:
        return next((x for x in xs if x > t), None)

    def is_open(t: datetime) -> bool:
        return not cls or t < cls[0]  # no CA comment or tag change is planted after a closing

    def waived(due: datetime) -> bool:
        for s in summaries:
            if _ORDER.index(_version(s) or "1.0") < _ORDER.index("3.1"):
                continue
            resume = after(asks, s)
            if due > s and (resume is None or due < resume):
                return True
        return False

    out = []

    def judge(kind: str, arises: datetime, due: datetime, fulfil: datetime | None, waivable: bool) -> None:
        if arises > as_of or not _applies(kind.removesuffix("_should"), arises):
            return
        cl = after(cls, arises)
        late = None
        if fulfil is not None and fulfil <= due and (cl is None or fulfil <= cl):
            state = "met"
        elif cl is not None and cl <= due:
            state = "closed"
        elif waivable and waived(due):
            state = "waived"
        elif due > as_of:
            state = "pending"
        else:
            state = "missed"
            stop = min(x for x in (fulfil, cl, as_of) if x is not None)
            late = round((stop - due).total_seconds() / 86400, 4)
        out.append((b["id"], kind, str(arises), state, late))

    if ev["creator_is_ca"]:
        ident = ev["identified"]
        if ident and full is not None and _t(ev["full_report_at"]) == full and b["duty_events"]["identified"]:
            # the identified date comes with the first v3 full report (posted at or before as_of)
            v3_at = full  # the only full report a v3 bug gets is the v3 one
            if v3_at <= as_of:
                i = datetime.fromisoformat(ident)
                judge("initial_disclosure", i, i + timedelta(hours=72), opened, False)
        disclosed: datetime | None = opened
    else:
        judge("initial_disclosure", opened, opened + timedelta(hours=72), ca[0] if ca else None, False)
        disclosed = ca[0] if ca else None
    if disclosed is not None and opened >= _VERSIONS[0][1]:
        judge("full_report", disclosed, disclosed + timedelta(days=14), full, False)
    for a in sorted({opened, *ca}):
        if not is_open(a) or a < datetime(2025, 3, 1):
            continue
        nxt = after(ca, a)
        due = a + timedelta(days=7)
        in_force = [e for s, e in obligations if s <= a]
        if in_force and in_force[-1] >= a:
            continue  # a Next-update date is pending: it replaces the weekly update
        if any(a < s <= min(due, nxt or due) for s, _ in obligations):
            continue  # a Next-update date set before the gap ran out
        judge("routine_update", a, due, nxt, True)
    tagged = _t(ev["tagged_at"])
    if ev["revocation_delay"] and tagged is not None:
        for a in sorted({x for x in (opened, *ca, tagged) if x >= tagged}):
            if not is_open(a):
                continue
            nxt = after(ca, a)
            judge("revocation_update", a, a + timedelta(days=7), nxt, True)
            judge("revocation_update_should", a, a + timedelta(days=3), nxt, True)
    for s in summaries:
        if is_open(s) and _applies("closure_requested", s):
            out.append((b["id"], "closure_requested", str(s), "met" if after(cls, s) else "pending", None))
    return out


def date_end(d: str) -> datetime:
    return datetime.fromisoformat(d) + timedelta(seconds=86399)


def test_duties_match_planted_truth(sample_db: tuple[Path, dict[int, Any]]) -> None:
    path, truth = sample_db
    c = duckdb.connect(str(path))
    M.include_private(c)  # the truth covers the private bugs the sample's key sees too
    closings: dict[int, list[datetime]] = {
        r[0]: list(r[1])
        for r in c.execute(
            "SELECT bug_id, list(changed_at ORDER BY changed_at) FROM history WHERE field_name='status' "
            "AND added IN ('RESOLVED','VERIFIED','CLOSED') AND removed NOT IN ('RESOLVED','VERIFIED','CLOSED') GROUP BY 1"
        ).fetchall()
    }
    about_ca = {
        r[0]
        for r in c.execute(
            "SELECT bug_id FROM incidents WHERE subject_kind = 'ca' AND ca IS NOT NULL"
        ).fetchall()
    }
    kinds = (
        "initial_disclosure",
        "full_report",
        "routine_update",
        "revocation_update",
        "revocation_update_should",
        "closure_requested",
    )
    seen: set[tuple[str, str]] = set()
    for at in ("2023-06-01", "2025-04-15", "2025-09-15", "2026-01-10", "2026-06-01", "2026-11-01"):
        as_of = datetime.fromisoformat(at)
        want = sorted(
            d
            for b in truth.values()
            if b["id"] in about_ca and b["ca"] is not None
            for d in _expected_duties(b, closings.get(b["id"], []), as_of)
        )
        df = M.duties(c, at)
        df = df[df["kind"].isin(kinds) & df["bug_id"].isin(about_ca)]
        got = sorted(
            (
                int(r.bug_id),
                r.kind,
                str(r.arises_at),
                r.state,
                None if r.days_late != r.days_late else round(float(r.days_late), 4),
            )
            for r in df.itertuples()
        )
        assert got == want, at
        seen |= {(k, s) for _, k, _, s, _ in want}
    # every state of the CA's duties was planted somewhere in the corpus, the closure waiver and its resumption too
    for kind in ("routine_update", "revocation_update"):
        assert {s for k, s in seen if k == kind} >= {"met", "missed", "pending", "waived", "closed"}, kind
    assert {s for k, s in seen if k == "full_report"} >= {
        "met",
        "missed",
        "pending",
    }  # closed: hand-built tests
    assert {s for k, s in seen if k == "closure_requested"} == {"met", "pending"}
    resumed = [
        b
        for b in truth.values()
        if b["duty_events"]["closure_summaries"]
        and any(q["asked_at"] > b["duty_events"]["closure_summaries"][0] for q in b["requests"])
    ]
    assert resumed  # questions after a closure summary were planted


def test_due_scorecard_and_explain_agree_on_every_duty(sample_db: tuple[Path, dict[int, Any]]) -> None:
    path, _ = sample_db
    c = duckdb.connect(str(path))
    for at in ("2025-09-15", "2026-11-01"):
        d = M.duties(c, at)
        open_bugs = set(c.execute("SELECT bug_id FROM metric_bugs WHERE is_open").df()["bug_id"])
        must = d[(d["owed_by"] == "ca") & (d["strength"] == "MUST") & d["code"].str.startswith("D")]
        card = M.scorecard(c, at).set_index("ca")
        for ca, rows in must.groupby("ca"):
            assert card.loc[ca, "duties_missed"] == (rows["state"] == "missed").sum(), (at, ca)
            assert card.loc[ca, "duties_due"] == rows["state"].isin(["met", "missed"]).sum(), (at, ca)
        busiest = must[must["state"] == "missed"]["ca"].value_counts().index[0]
        value, rows = M.explain(c, busiest, "duties_missed", at)
        assert value == len(rows) == ((must["ca"] == busiest) & (must["state"] == "missed")).sum()
        # the due list holds exactly the CA's pending (within 7 days) and unanswered missed duties of open bugs
        due = M.due(c, at)
        listed = due[due["kind"].notna() & (due["kind"] != "response")]
        want = d[
            (d["owed_by"] == "ca")
            & d["bug_id"].isin(open_bugs)
            & (
                ((d["state"] == "missed") & d["answered_late_at"].isna())
                | ((d["state"] == "pending") & (d["due_at"].dt.normalize() <= pd_ts(at) + timedelta(days=7)))
            )
        ]
        latest_nu = d[d["kind"] == "next_update"].groupby("bug_id")["arises_at"].max()
        want = want[(want["kind"] != "next_update") | (want["arises_at"] == want["bug_id"].map(latest_nu))]
        assert sorted(zip(listed["bug_id"], listed["kind"], strict=True)) == sorted(
            zip(want["bug_id"], want["kind"], strict=True)
        ), at
        assert not listed["version"].isna().any() and listed["rule"].str.contains("§").all()


def pd_ts(at: str) -> Any:
    import pandas as pd

    return pd.Timestamp(at)


def test_a_new_guideline_version_is_a_data_change() -> None:
    from bzmine.errors import ConfigError
    from bzmine.store.config import duty_rule_rows

    data = {
        "document": "CCADB IRG",
        "versions": [{"version": "3.1", "from": "2025-07-15"}, {"version": "3.3", "from": "2027-01-01"}],
        "duties": [
            {
                "kind": "routine_update",
                "code": "D3",
                "from": "3.1",
                "hours": 168,
                "strength": "MUST",
                "section": "Updates",
                "owed_by": "ca",
                "waived_by_closure": True,
            },
            {
                "kind": "old_rule",
                "code": "D9",
                "from": "3.1",
                "until": "3.1",
                "hours": 24,
                "strength": "SHOULD",
                "section": "Old",
                "owed_by": "ca",
            },
        ],
    }
    rows = {(r[0], r[3]): r for r in duty_rule_rows(data, "test")}
    assert set(rows) == {("routine_update", "3.1"), ("routine_update", "3.3"), ("old_rule", "3.1")}
    r = rows[("routine_update", "3.3")]
    assert (str(r[4]), r[5], r[6], r[7], r[10]) == ("2027-01-01", None, 168, "MUST", "CCADB IRG 3.3 §Updates")
    assert str(rows[("routine_update", "3.1")][5]) == "2027-01-01"  # 3.1 ends where 3.3 begins
    bad = {**data, "duties": [{**data["duties"][0], "from": "4.0"}]}
    with pytest.raises(ConfigError, match="'from' '4.0' is not a listed version"):
        duty_rule_rows(bad, "test")


def test_shipped_rules_are_loaded_for_the_sql(con: duckdb.DuckDBPyConnection) -> None:
    got = con.execute(
        "SELECT version, hours, strength, source FROM config_duty_rules WHERE kind = 'action_item_update' ORDER BY valid_from"
    ).fetchall()
    assert got == [
        ("3.1", 72, "MUST", "CCADB IRG 3.1 §Updates"),
        ("3.2", 72, "MUST", "CCADB IRG 3.2 §Updates"),
    ]
    pre = con.execute(
        "SELECT version, valid_until, source FROM config_duty_rules WHERE kind = 'next_update' AND version IS NULL"
    ).fetchall()
    assert [(v, str(u)[:10], s) for v, u, s in pre] == [
        (None, "2023-02-15", "Mozilla wiki §Responding to an Incident")
    ]
