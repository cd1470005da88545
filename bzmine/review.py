"""Review an incident report against the guidelines in force when it was posted (rules: bzmine/data/review_rules.json).

Pure: a parsed report, its comment text, when it was posted and what is known of its bug go in; findings come out.
The version that applies is the one in force on the posting day, except that a report following a newer template
early is judged by the template it follows, and one following an older template by that template plus an
"outdated template" finding (INCIDENT_TEMPLATES.md §7). docs/review.md lists every rule.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from functools import lru_cache
from importlib import resources
from typing import Any

from bzmine.parse.reports import Report

_BARE = {"", "n/a", "na", "none", "-", "--", "tbd", "tbc", "todo", "?", "n.a."}
_KINDS = {"prevent", "mitigate", "detect"}
_STATUSES = {"ongoing", "complete", "completed", "delayed", "canceled", "cancelled"}
_CLOSING = re.compile(r"all action items disclosed in this report have been completed", re.I)
# the newest guideline each template belongs to, and the first version that uses it
TEMPLATE_OF = {
    "seven_questions": ("mozilla-7q", "ccadb-1.0"),
    "v2_full": ("ccadb-2.0", "ccadb-2.0"),
    "preliminary": ("ccadb-3.0", None),
    "v3_full": ("ccadb-3.0", None),
    "closure": ("ccadb-3.0", None),
}


@dataclass(frozen=True)
class BugContext:
    """What a rule may need to know about the bug: when it opened, its tags, whether this is the first report of
    its kind on the bug, and (when a database is at hand) the CA's own recent incidents a v3 report should list."""

    opened_at: datetime | None = None
    tags: tuple[str, ...] = ()
    first_of_kind: bool = True
    own_recent: tuple[int, ...] | None = None  # None: not known (the parse stage never knows it)


@dataclass
class Finding:
    rule_id: str
    severity: str  # must | should
    version: str
    kind: str
    requirement: str
    evidence: str = ""
    span_start: int | None = None  # characters [start, end) of the comment text the finding concerns
    span_end: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Rules:
    versions: list[dict[str, Any]] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)


@lru_cache(maxsize=1)
def load_rules() -> Rules:
    data = json.loads(
        resources.files("bzmine").joinpath("data/review_rules.json").read_text(encoding="utf-8")
    )
    return Rules(versions=data["versions"], rules=data["rules"])


def version_in_force(on: date, rules: Rules | None = None) -> str:
    r = rules or load_rules()
    current = r.versions[0]["version"]
    for v in r.versions:
        if v["from"] is None or date.fromisoformat(v["from"]) <= on:
            current = v["version"]
    return current


def _order(version: str, rules: Rules) -> int:
    return [v["version"] for v in rules.versions].index(version)


def judged_by(
    kind: str, posted: date, rules: Rules | None = None, v3_fields: bool = True
) -> tuple[str, bool]:
    """(the version a report of this kind posted on that day is judged by, whether its template is outdated)."""
    r = rules or load_rules()
    in_force = version_in_force(posted, r)
    first, last = TEMPLATE_OF.get(kind, (in_force, None))
    if kind == "preliminary" and not v3_fields and _order(in_force, r) < _order("ccadb-3.0", r):
        first = "ccadb-2.0"  # a free-form preliminary report of the v2.0 era (summary + full-report date)
    if _order(in_force, r) < _order(first, r):
        return first, False  # a newer template used early: judged by it
    if last is not None and _order(in_force, r) > _order(last, r):
        return last, True  # an older template used late: judged by it, and told so
    return in_force, False


def _text(v: Any) -> str:
    return v.strip() if isinstance(v, str) else ("" if v is None else str(v))


def _bare(v: Any) -> bool:
    return _text(v).lower().rstrip(".") in _BARE


_CPR = re.compile(r"problem reports?\b|\bcprs?\b", re.I)
_REVOKED = re.compile(r"\brevo(c|k)", re.I)


def _check(rule: dict[str, Any], rep: Report, text: str, posted: datetime, ctx: BugContext) -> str | None:
    """None when the rule is met; else the evidence ('' when something is missing)."""
    check, target = rule["check"], rule["target"]
    if check == "answer":
        return None if not _bare(rep.answers.get(target)) else _text(rep.answers.get(target))
    if check == "section":
        return None if not _bare(rep.sections.get(target)) else _text(rep.sections.get(target))
    if check == "field":
        return None if not _bare(rep.fields.get(target)) else _text(rep.fields.get(target))
    if check == "fields":
        missing = [t for t in target.split(",") if _bare(rep.fields.get(t))]
        return None if not missing else "missing: " + ", ".join(missing)
    if check == "owner_id":
        v = _text(rep.fields.get(target))
        return None if re.fullmatch(r"A\d{6}", v) else v
    if check == "timeline_dated":
        if not rep.timeline:  # text under Timeline (or answer 2) but no dated entry in it
            written = not _bare(rep.sections.get("timeline")) or not _bare(rep.answers.get("q2_timeline"))
            return "no dated entry" if written else None
        undated = [e.get("text", "")[:60] for e in rep.timeline if not e.get("at")]
        return None if not undated else undated[0]
    if check == "action_items":
        return None if rep.action_items else ""
    if check == "item_kind":
        bad = [i for i in rep.action_items if _text(i.get("kind")).lower() not in _KINDS]
        return (
            None
            if not bad
            else f"{_text(bad[0].get('action'))[:50]}: kind {_text(bad[0].get('kind')) or 'missing'}"
        )
    if check == "item_due":
        bad = [i for i in rep.action_items if not i.get("due_date")]
        return (
            None
            if not bad
            else f"{_text(bad[0].get('action'))[:50]}: due {_text(bad[0].get('due_raw')) or 'missing'}"
        )
    if check == "item_status":
        bad = [i for i in rep.action_items if _text(i.get("status_raw")).lower() not in _STATUSES]
        return (
            None
            if not bad
            else f"{_text(bad[0].get('action'))[:50]}: status {_text(bad[0].get('status_raw')) or 'missing'}"
        )
    if check == "lessons_have_items":
        lessons = rep.fields.get("lessons") or {}
        needing = [
            k
            for k in ("what_didnt_go_well", "additional")
            if isinstance(lessons, dict) and not _bare(lessons.get(k))
        ]
        return (
            None if not needing or rep.action_items else f"lessons without action items: {', '.join(needing)}"
        )
    if check == "revocation_delay_analysis":
        if not any("revocation-delay" in t for t in ctx.tags):
            return None
        return None if not _bare(rep.fields.get(target)) else _text(rep.fields.get(target))
    if check == "timeline_cpr":
        # a CPR incident: the disclosure source or the description says a problem report started it; a report
        # without dated timeline entries is left to the timeline rules (and a cut-off text says nothing)
        said = " ".join(_text(rep.fields.get(k)) for k in ("disclosure_source", "incident_description"))
        if not rep.timeline or not _CPR.search(said):
            return None
        return (
            None
            if any(_CPR.search(_text(e.get("text"))) for e in rep.timeline)
            else "no timeline entry for the problem report's receipt"
        )
    if check == "timeline_revocation":
        if not any("revocation-delay" in t for t in ctx.tags):
            return None
        if not rep.timeline:
            return None
        return (
            None
            if any(_REVOKED.search(_text(e.get("text"))) for e in rep.timeline)
            else "no timeline entry for revocation"
        )
    if check == "within_days":
        if not ctx.first_of_kind or ctx.opened_at is None:
            return None
        days = (posted - ctx.opened_at).total_seconds() / 86400
        return None if days <= int(target) else f"posted {days:.1f} days after the bug was opened"
    if check == "related_missing":
        if ctx.own_recent is None:
            return None
        listed = {r.get("bug_id") for r in rep.related_incidents}
        missing = [b for b in ctx.own_recent if b not in listed]
        return None if not missing else "not listed: " + ", ".join(str(b) for b in missing)
    if check == "closing_sentence":
        return None if _CLOSING.search(text or "") else ""
    if check == "outdated":
        return f"outdated template: {rep.kind}"
    raise ValueError(f"unknown review check {check!r} in review_rules.json")


# evidence bzmine writes itself (no text to point at); any other evidence is quoted from the report
_SYNTHETIC = (
    "missing:",
    "no dated entry",
    "posted ",
    "lessons without",
    "not listed",
    "outdated template:",
    "no timeline entry for",
)
_QUESTION_WORDS = {
    "q1": "aware",
    "q2": "timeline",
    "q3": "stop",
    "q4": "summary",
    "q5": "certificate",
    "q6": "root",
    "q7": "steps",
}


def finding_span(
    text: str, rep: Report, end_line: int | None, rule: dict[str, Any], evidence: str
) -> tuple[int, int]:
    """Where in the comment text a finding points: the quoted evidence when it is there, else the heading of the
    section or field the rule looks at, else the whole report (its first line up to the next report)."""
    lines = (text or "").splitlines(keepends=True)
    offs = [0]
    for ln in lines:
        offs.append(offs[-1] + len(ln))
    start = offs[min(rep.line, len(lines))]
    end = offs[min(end_line, len(lines))] if end_line is not None else len(text or "")
    if end <= start:
        end = len(text or "")
    region = (text or "")[start:end]
    probe = evidence.split(": ")[0] if rule["check"].startswith("item_") else evidence
    probe = probe.strip()[:80]
    if len(probe) >= 3 and not evidence.startswith(_SYNTHETIC):
        i = region.find(probe)
        if i >= 0:
            if rule["check"].startswith(
                "item_"
            ):  # the item's whole row: its kind, due date and status are there
                a, b = region.rfind("\n", 0, i) + 1, region.find("\n", i)
                return start + a, start + (b if b >= 0 else len(region))
            return start + i, start + i + len(probe)
    first = rule["target"].split(",")[0]
    word = _QUESTION_WORDS.get(first.split("_")[0]) or next((w for w in first.split("_") if len(w) > 2), "")
    if word and not word.isdigit():
        pos = start
        for ln in region.splitlines(keepends=True):
            if word in ln.lower() and len(ln.strip()) < 120:
                return pos + (len(ln) - len(ln.lstrip())), pos + len(ln.rstrip())
            pos += len(ln)
    return start, start + len(region.rstrip())


def review_report(
    rep: Report, text: str, posted: datetime, ctx: BugContext | None = None, end_line: int | None = None
) -> list[Finding]:
    """Findings for one parsed report (none when it meets every rule that applies), each with the span of the
    comment text it concerns; end_line is where the next report in the same text starts."""
    rules = load_rules()
    ctx = ctx or BugContext()
    if rep.fields.get("is_draft"):
        return []  # a draft says itself that details are missing: it is judged when the full report comes
    v3_fields = any(
        k in rep.fields for k in ("incident_description", "relevant_policies", "disclosure_source")
    )
    version, outdated = judged_by(rep.kind, posted.date(), rules, v3_fields)
    in_force = version_in_force(posted.date(), rules)
    out: list[Finding] = []
    for rule in rules.rules:
        if rep.kind not in rule["kinds"]:
            continue
        applies = (
            version in rule["versions"]
            if rule["check"] != "outdated"
            else outdated and in_force in rule["versions"]
        )
        if not applies:
            continue
        evidence = _check(rule, rep, text, posted, ctx)
        if evidence is not None:
            a, b = finding_span(text, rep, end_line, rule, evidence)
            out.append(
                Finding(rule["id"], rule["severity"], version, rep.kind, rule["text"], evidence[:200], a, b)
            )
    return out


def _next_line(reports: list[Report], n: int) -> int | None:
    later = [r.line for r in reports if r.line > reports[n].line]
    return min(later) if later else None


def review_text(text: str, posted: datetime, ctx: BugContext | None = None) -> list[dict[str, Any]]:
    """Every report in one text (a comment or a pasted page) with its findings, as rows."""
    from bzmine.parse.reports import parse_text

    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    reports = parse_text(text).reports
    for n, rep in enumerate(reports):
        c = ctx or BugContext()
        c = BugContext(c.opened_at, c.tags, rep.kind not in seen and c.first_of_kind, c.own_recent)
        seen.add(rep.kind)
        for f in review_report(rep, text, posted, c, _next_line(reports, n)):
            rows.append({"report_no": n, **f.to_json()})
    return rows


def review_bug(con: Any, bug_id: int) -> list[dict[str, Any]]:
    """Findings for every report in one harvested bug, each with its comment number (as Bugzilla shows it).

    Unlike the parse stage, this knows the database: a v3 full report is also checked for the CA's own incidents of
    the two years before it that share a tag or that the bug cites (rule v3.full.related.missing)."""
    from bzmine.errors import ConfigError

    inc = con.execute("SELECT opened_at, tags, ca_owner FROM incidents WHERE bug_id = ?", [bug_id]).fetchall()
    if not inc:
        raise ConfigError(
            f"bug {bug_id} is not in this database; sync it first, or review a text: bzmine review FILE"
        )
    opened, tags, owner = inc[0]
    own = (
        con.execute(
            """
        SELECT DISTINCT e.bug_id FROM incidents e, incidents b
        WHERE b.bug_id = ? AND e.ca_owner = b.ca_owner AND e.bug_id <> b.bug_id AND e.subject_kind = 'ca'
          AND e.opened_at < b.opened_at AND e.opened_at >= b.opened_at - INTERVAL 730 DAY
          AND (len(list_filter(list_intersect(e.tags, b.tags), lambda t: t <> 'ca-compliance')) > 0
               OR e.bug_id IN (SELECT ref_bug_id FROM bug_refs WHERE bug_id = b.bug_id))
        ORDER BY 1""",
            [bug_id],
        ).fetchall()
        if owner
        else []
    )
    comments = con.execute(
        "SELECT count, created_at, coalesce(data->>'raw_text', data->>'text') FROM raw_comments WHERE bug_id = ? "
        "ORDER BY count",
        [bug_id],
    ).fetchall()
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for count, created, text in comments:
        from bzmine.parse.reports import parse_text

        reports = parse_text(text).reports
        for n, rep in enumerate(reports):
            ctx = BugContext(
                opened_at=opened,
                tags=tuple(tags or ()),
                first_of_kind=rep.kind not in seen,
                own_recent=tuple(r[0] for r in own),
            )
            seen.add(rep.kind)
            for f in review_report(rep, text, created, ctx, _next_line(reports, n)):
                rows.append({"comment": count, "posted_at": created, "report_no": n, **f.to_json()})
    return rows


_SOURCES = {
    "7q": "Mozilla wiki 'Responding to an Incident' / CCADB v1.0 (INCIDENT_TEMPLATES.md §1)",
    "v2": "CCADB v2.0 (§2)",
    "v3": "CCADB v3.0-3.2 (§3, §3.4)",
}
_DOC_HEAD = """# Incident-report review

`bzmine review BUG_ID | FILE | -` checks each incident report against the guidelines in force on the day it was
posted, and `bzmine parse` fills `report_findings` for every report in the database. Exit code 0 even with findings.

## Which version judges a report

The version in force on the posting day (INCIDENT_TEMPLATES.md §7):

| version | from |
|---|---|
"""
_DOC_MIDDLE = """
Exceptions: a report that follows a newer template early (v3 drafts were public from 2024-11-14) is judged by the
template it follows; one that follows an older template (7 questions after 2023-10-17, v2.0 after 2025-03-01) is judged
by that template and gets a `should` finding for the outdated template. A free-form preliminary report of the v2.0 era
(no v3 fields) is judged by v2.0. A "Draft Incident Report" is not judged (it says itself that details are missing).
Deadline rules (72 hours, 14 days) look at the first report of each kind on a bug, measured from the bug's opening.
`v3.full.related.missing` needs the database (the CA's other incidents), so only `bzmine review BUG_ID` checks it.

A field, section or answer is missing when it is absent, empty, or a bare "N/A", "none", "TBD" or dash without
a reason.

## Rules

| rule | severity | versions | report kinds | requirement (bzmine's words) | source |
|---|---|---|---|---|---|
"""
_DOC_TAIL = """
## Figures

- View `report_review`: each report with its `must` and `should` finding counts; `clean` = no `must` finding.
- Scorecard: `reports_reviewed` (not ranked) and `report_quality` = share of the CA's reports that are clean (higher
  is better); `bzmine explain report_quality --ca NAME` lists the reports and the rules they miss.

Tests (`tests/test_review.py`): every rule fires on a report written to break it and stays quiet on one that keeps
it, in every version it belongs to; the real page excerpts are reviewed against a golden file checked by reading.
This page is generated from `bzmine/data/review_rules.json` (`make docs`); a test keeps the two equal.
"""


def rules_doc() -> str:
    """docs/review.md, from the rule table."""
    r = load_rules()
    out = _DOC_HEAD
    for v in r.versions:
        out += f"| {v['label']} (`{v['version']}`) | {v['from'] or 'before 2023-02-15'} |\n"
    out += _DOC_MIDDLE
    for rule in r.rules:
        src = _SOURCES["7q" if rule["id"].startswith("7q") else "v2" if rule["id"].startswith("v2") else "v3"]
        out += (
            f"| `{rule['id']}` | {rule['severity']} | {', '.join(rule['versions'])} | {', '.join(rule['kinds'])} "
            f"| {rule['text']} | {src} |\n"
        )
    return out + _DOC_TAIL


if __name__ == "__main__":
    import sys
    from pathlib import Path

    if len(sys.argv) == 3 and sys.argv[1] == "--write-docs":
        Path(sys.argv[2]).write_text(rules_doc(), encoding="utf-8")
    else:
        sys.exit("usage: python -m bzmine.review --write-docs docs/review.md")
