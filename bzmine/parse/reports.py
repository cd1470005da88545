"""Comments -> incident reports, for every template generation, in markdown and rendered text.

Kinds (INCIDENT_TEMPLATES.md):
- `seven_questions`: the Mozilla wiki / CCADB 1.0 seven questions, matched by wording, not number;
- `v2_full`: CCADB 2.0 "Incident Report" with Summary / Impact / Timeline / Root Cause Analysis /
  Lessons Learned / Action Items / Appendix;
- `preliminary`: CCADB 3 "Preliminary Incident Report", or a v2-era "Incident Report" that says it
  is preliminary and has fewer than three of the v2 sections;
- `v3_full`: CCADB 3 "Full Incident Report" (also "Draft Incident Report", with `is_draft`);
- `closure`: "Report Closure Summary" / "Closure Report";
- `audit`: "Audit Incident Report" (findings with issue, root cause, remediation).

Rendering is undone line by line: `#` markers, `**bold**`, bullets (`-`, `*`, `•`), numbered
items, curly quotes and apostrophes. A text may hold several reports (a pasted bug page); each
starts at its heading. `parse_text` never raises: what it cannot read becomes a failure reason.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from bzmine.parse.dates import (
    OFFSET_RE,
    TIME_RE,
    ZONE_WORD,
    Stamp,
    Zone,
    find_date,
    find_zone,
    parse_date,
    parse_stamp,
    parse_timestamp,
)

QUESTIONS: list[tuple[str, tuple[str, ...]]] = [
    ("q1_aware", ("first became aware", "how your ca first became aware")),
    ("q2_timeline", ("timeline of the actions", "a timeline of the actions your ca took")),
    (
        "q3_stopped",
        ("has stopped, or has not yet stopped", "whether your ca has stopped", "has not yet stopped"),
    ),
    ("q4_summary", ("summary of the problematic certificates",)),
    ("q5_certificate_data", ("complete certificate data", "certificate data for the problematic")),
    ("q6_root_cause", ("how and why the mistakes were made", "why the mistakes were made")),
    ("q7_steps", ("list of steps your ca is taking", "steps your ca is taking")),
]
REPORT_HEADINGS = {
    "full incident report": "v3_full",
    "draft incident report": "v3_full",
    "preliminary incident report": "preliminary",
    "preliminary report": "preliminary",
    "initial incident report": "preliminary",
    "audit incident report": "audit",
    "incident report": "v2",
    "report closure summary": "closure",
    "closure report": "closure",
    "incident closure summary": "closure",
    "closure summary": "closure",
}
SECTIONS = {
    "summary": "summary",
    "executive summary": "summary",
    "impact": "impact",
    "timeline": "timeline",
    "related incidents": "related_incidents",
    "root cause analysis": "root_cause_analysis",
    "root cause": "root_cause_analysis",
    "lessons learned": "lessons_learned",
    "action items": "action_items",
    "appendix": "appendix",
    "details of affected certificates": "appendix",
}
V2_SECTIONS = {"summary", "impact", "timeline", "root_cause_analysis", "lessons_learned", "action_items"}
LESSONS = {
    "what went well": "what_went_well",
    "what didn't go well": "what_didnt_go_well",
    "where we got lucky": "where_we_got_lucky",
    "fortuitous circumstances": "where_we_got_lucky",  # the v3 heading's pending rename (issue 25)
    "additional": "additional",
    "other": "additional",
}
LABELS = {
    "ca owner ccadb unique id": "ccadb_owner_id",
    "incident description": "incident_description",
    "timeline summary": "timeline_summary",
    "non-compliance start date": "noncompliance_start",
    "non-compliance identified date": "noncompliance_identified",
    "non-compliance end date": "noncompliance_end",
    "relevant policies": "relevant_policies",
    "source of incident disclosure": "disclosure_source",
    "total number of certificates": "total_certificates",
    'total number of "remaining valid" certificates': "remaining_valid_certificates",
    "total number of remaining valid certificates": "remaining_valid_certificates",
    "affected certificate types": "affected_certificate_types",
    "incident heuristic": "incident_heuristic",
    "was issuance stopped in response to this incident, and why or why not?": "issuance_stopped",
    "was issuance stopped in response to this incident, and why or why not": "issuance_stopped",
    "analysis": "analysis",
    "additional considerations": "additional_considerations",
    "incident root cause(s)": "root_causes",
    "incident root causes": "root_causes",
    "remediation description": "remediation_description",
    "commitment summary": "commitment_summary",
    "description": "description",
    "detection": "detection",
    "interaction with other factors": "interaction_with_other_factors",
    "root cause analysis methodology used": "rca_methodology",
    "issue description": "issue_description",
    "root cause of issue": "issue_root_cause",
    "remediation plan for this issue": "remediation_plan",
    **{k: v for k, v in LESSONS.items() if k != "other"},
}
FACTOR_FIELDS = {
    "description",
    "detection",
    "interaction_with_other_factors",
    "rca_methodology",
    "timeline",
}
COLUMNS = {
    "action item": "action",
    "action items": "action",
    "action": "action",
    "kind": "kind",
    "corresponding root cause(s)": "root_causes",
    "corresponding root causes": "root_causes",
    "root cause(s)": "root_causes",
    "evaluation criteria": "evaluation_criteria",
    "due date": "due_raw",
    "due": "due_raw",
    "date": "due_raw",
    "status": "status_raw",
    "bug": "bug",
    "description": "description",
}
# Action-item status phrases -> complete | ongoing | delayed | canceled | unknown, as whole phrases with negation
# and tense, in this order (the first rule that matches decides). Anything unrecognised is `unknown`: a wrong
# `complete` would hide an open item in the CA's favour (tests/test_parse.py, STATUS_PHRASES).
STATUS_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("unknown", re.compile(r"^\W*(n/?a|none|tbd|tbc|unknown|-+|\?+)?\W*$")),
    (
        "canceled",
        re.compile(
            r"\b(cancell?(ed|ation)?|withdrawn|dropped|abandoned|not (be )?pursued|rejected|descoped|"
            r"won'?t (do|fix|implement)|will not (be )?(do|implement|pursu)\w*|no longer (needed|planned|required))\b"
        ),
    ),
    ("delayed", re.compile(r"\b(delay(ed)?|overdue|postponed|slipp(ed|ing)|behind schedule|rescheduled)\b")),
    (
        "ongoing",
        re.compile(
            r"\b(mostly|almost|nearly|largely|half|partly|substantially|in part|not fully|not entirely)\b"
        ),
    ),
    (
        "ongoing",
        re.compile(
            r"\b(incomplete|uncompleted|unfinished|undone|not (yet )?(been )?(complete|completed|done|finished|"
            r"implemented|deployed|started|fixed|resolved)|partial(ly)?|to be|will( be)?|shall( be)?|going to|"
            r"expected (to|by|in)|(planned|scheduled) (for|to|by|in)|^(planned|scheduled)|pending|awaiting|"
            r"waiting)\b"
        ),
    ),
    (
        "ongoing",
        re.compile(
            r"\b(ongoing|on-going|in[ -]progress|open|started|underway|under way|wip|on track|active|"
            r"in (development|testing|review|implementation)|working on|investigating|continuing)\b"
        ),
    ),
    (
        "complete",
        re.compile(
            r"\b(complete|completed|done|closed|implemented|finished|resolved|fixed|deployed|"
            r"accomplished|achieved|live|in place|in production)\b"
        ),
    ),
]
BUG_REF = re.compile(
    r"(?:show_bug\.cgi\?id=|bugzilla\.mozilla\.org/|bugzil\.la/|\bbugzilla\s+(?:bug\s*)?#?\s*|\bbug\s*#?\s*|"
    r"\bbugs?\s+)(\d{5,8})\b",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^(?:[-*+]\s+|[\u2022\u25e6\u25aa\u2023\u00b7\u2013]\s*|\d{1,2}[.)](?=\s|[A-Za-z]))\s*")
_CURLY = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " "})
_INT = re.compile(r"^\s*(?:approximately\s+|about\s+|~\s*)?(\d[\d,. ]*\d|\d)\b")
_FACTOR = re.compile(r"^contributing factor\s*#?\s*(\d+)\s*[:.\-\u2013]?\s*(.*)$", re.IGNORECASE)
_FACTOR_TIMELINE = re.compile(r"^timeline\s*:\s*(.*)$", re.IGNORECASE)  # a factor's own "Timeline:" line
# where a preliminary report promises the full one: "full report by 2024-10-30", "We will provide a full report by
# October 30th", "full incident report will be posted on ...", "Full report expected: ...", "... within 14 days"
_FULL_BY = re.compile(
    r"full (?:incident )?report\b[^.\n]{0,50}?(?:\b(?:by|on|no later than|before|until|around)\b|:|"
    r"(?=\b(?:within|in)\s+(?:\d+|one|two|three|four)\s+(?:day|week|business day)s?))"
    r"(.{0,40})",
    re.IGNORECASE,
)


@dataclass
class Report:
    kind: str
    line: int  # 0-based line where it starts
    sections: dict[str, str] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)
    answers: dict[str, str] = field(default_factory=dict)
    action_items: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    related_incidents: list[dict[str, Any]] = field(default_factory=list)
    contributing_factors: list[dict[str, Any]] = field(default_factory=list)

    def is_full(self) -> bool:
        """A full incident report in the sense of METRICS.md §3."""
        if self.kind == "seven_questions":
            return sum(1 for v in self.answers.values() if v.strip()) >= 4
        if self.kind == "v2_full":
            return len(set(self.sections) & V2_SECTIONS) >= 3
        return self.kind == "v3_full"

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("line")
        return d


@dataclass
class ParseResult:
    reports: list[Report] = field(default_factory=list)
    bug_refs: list[int] = field(default_factory=list)
    bug_ref_spans: list[tuple[int, int, int]] = field(
        default_factory=list
    )  # (bug id, start, end), not in to_json
    failures: list[str] = field(default_factory=list)
    # an Action Items table posted outside any report (a weekly update): still the CA's current list
    action_items: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "reports": [r.to_json() for r in self.reports],
            "bug_refs": self.bug_refs,
            "failures": self.failures,
            "action_items": self.action_items,
        }


@dataclass
class _Line:
    raw: str
    text: str  # bullets, bold, heading markers and curly quotes removed
    is_heading: bool  # had '#', was all bold, or is short and alone
    is_table: bool


def _clean(raw: str, translated: str | None = None) -> _Line:
    """raw: the line as written (kept for section text); translated: the same line with quotes folded."""
    s = (translated if translated is not None else raw.translate(_CURLY)).strip()
    is_table = s.startswith("|")
    hashes = s.startswith("#")
    s = s.lstrip("#").strip()
    bold = s.startswith("**") and s.rstrip(":").endswith("**")
    s = s.replace("**", "").replace("__", "").strip()
    s = _BULLET.sub("", s)
    s = re.sub(r"^\*(.+)\*$", r"\1", s)
    return _Line(raw, s, hashes or bold, is_table)


def _heading_text(line: _Line) -> str:
    return line.text.rstrip(":").strip().lower()


def _report_heading(line: _Line) -> str | None:
    if line.is_table or len(line.text) > 90:
        return None
    t = _heading_text(line)
    if t in REPORT_HEADINGS:
        return REPORT_HEADINGS[t]
    m = re.match(r"^(full|draft|preliminary|audit)?\s*incident report\b[\s:.\-\u2013]*(.*)$", t)
    if m and (line.is_heading or len(t) < 60):
        if "preliminary" in (m.group(2) or ""):
            return "preliminary"
        return REPORT_HEADINGS[f"{m.group(1)} incident report" if m.group(1) else "incident report"]
    return None


_PHRASE_KEY = {p: key for key, phrases in QUESTIONS for p in phrases}
_QUESTION_RE = re.compile(
    "|".join(re.escape(p) for p in sorted(_PHRASE_KEY, key=len, reverse=True)), re.IGNORECASE
)


def _question(text: str) -> str | None:
    """Which of the seven questions a line asks (by wording), if any."""
    m = _QUESTION_RE.search(text, 0, 600)
    return _PHRASE_KEY[m.group(0).lower()] if m else None


def normalise_status(raw: str | None) -> str:
    """Action-item status text -> complete / ongoing / delayed / canceled / unknown (METRICS.md §6)."""
    if not raw:
        return "unknown"
    t = " ".join(raw.translate(_CURLY).lower().replace("\u2019", "'").split())
    for norm, rx in STATUS_RULES:
        if rx.search(t):
            return norm
    return "unknown"


def normalise_disclosure(raw: str | None) -> str | None:
    """ "Source of incident disclosure" -> self / third_party / audit / other; the leading word decides first."""
    if not raw:
        return None
    t = raw.strip().lower()
    for prefix, norm in (
        ("self", "self"),
        ("audit", "audit"),
        ("third", "third_party"),
        ("extern", "third_party"),
    ):
        if t.startswith(prefix):
            return norm
    if "self-report" in t or "self report" in t or "internal" in t:
        return "self"
    if any(w in t for w in ("third", "external", "researcher", "problem report", "community", "reported by")):
        return "third_party"
    if "audit" in t:
        return "audit"
    return "other"


def _to_int(value: str | None) -> int | None:
    if not value:
        return None
    m = _INT.match(value)
    if not m:
        return None
    digits = re.sub(r"[,. ]", "", m.group(1))
    return int(digits) if digits.isdigit() and len(digits) < 15 else None


def _table_rows(lines: list[_Line]) -> list[list[str]]:
    rows = []
    for ln in lines:
        if not ln.is_table:
            continue
        cells = [c.strip() for c in ln.raw.translate(_CURLY).strip().strip("|").split("|")]
        if all(re.fullmatch(r":?-{2,}:?", c) or c == "" for c in cells):
            continue  # markdown separator row
        rows.append([c.replace("**", "").strip() for c in cells])
    return rows


def _map_columns(header: list[str]) -> list[str | None]:
    return [COLUMNS.get(h.strip().lower().rstrip(":")) for h in header]


def parse_action_table(lines: list[_Line]) -> list[dict[str, Any]]:
    rows = _table_rows(lines)
    if len(rows) < 2:
        return []
    cols = _map_columns(rows[0])
    if "action" not in cols:
        return []
    items = []
    for r in rows[1:]:
        item: dict[str, Any] = {
            "action": None,
            "kind": None,
            "root_causes": None,
            "evaluation_criteria": None,
            "due_raw": None,
            "status_raw": None,
        }
        for c, v in zip(cols, r, strict=False):
            if c in item:
                item[c] = v or None
        if not item["action"]:
            continue
        due = parse_date(item["due_raw"])
        item["due_date"] = due.isoformat() if due else None
        status_src = item["status_raw"]
        if status_src is None and item["due_raw"] and due is None:
            status_src = item["due_raw"]  # "Done" written in the date column
        item["status"] = normalise_status(status_src)
        items.append(item)
    return items


def parse_related(lines: list[_Line]) -> list[dict[str, Any]]:
    rows = _table_rows(lines)
    out = []
    for r in rows:
        if r and r[0].strip().lower() in ("bug", "bug id", "related bug id"):
            continue
        joined = " ".join(r)
        ids = [int(x) for x in re.findall(r"\b(\d{5,8})\b", r[0] if r else "")] or [
            int(x) for x in BUG_REF.findall(joined)
        ]
        if not ids:
            continue
        d = parse_date(r[1]) if len(r) > 1 else None
        out.append(
            {
                "bug_id": ids[0],
                "date": d.isoformat() if d else None,
                "date_raw": r[1] if len(r) > 1 else None,
                "description": r[2] if len(r) > 2 else None,
            }
        )
    return out


_BLANKET = re.compile(
    r"^\W*(?:all\s+)?(?:the\s+)?(?:times?|timestamps?|dates? and times?|hours|time\s*zone)\b(?:\s+\w+){0,4}?\s*"
    r"(?:(?:are|is|in|given in|shown in|expressed in|listed in|used)\b|[:=])",
    re.IGNORECASE,
)
_WEEKDAY = re.compile(r"\b(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\b\.?,?", re.I)
# an entry that says it has not happened yet (METRICS.md §10: future entries must be marked)
_PLANNED = re.compile(
    r"\b(expected|planned|plan to|scheduled|estimated|anticipated|target(?:ed)?|forecast|projected|"
    r"will|intend(?:s|ed)? to|tentative(?:ly)?|upcoming|due)\b",
    re.IGNORECASE,
)


def blanket_zone(line: str) -> Zone | None:
    """The zone of a blanket line ("All times are UTC", "All times CEST (UTC+2)", "Timestamps in PST"), else None."""
    if len(line) > 140 or not _BLANKET.search(line):
        return None
    return find_zone(line)


def _date_line(text: str) -> bool:
    """A line that is only a date ("2024-03-05:", "Tuesday, March 5, 2024"), the header of the entries below it."""
    d, m = find_date(text)
    if m is None:
        return False
    rest = _WEEKDAY.sub("", text[: m.start()] + " " + text[m.end() :])
    rest = re.sub(r"\b(st|nd|rd|th)\b", "", rest)
    rest = ZONE_WORD.sub("", OFFSET_RE.sub("", rest))  # "2025-03-04 (CET):" is a date line with a zone
    return not re.search(r"[A-Za-z]{2,}|\d", rest)


def _event(text: str, at_raw: str, st: Stamp) -> dict[str, Any]:
    return {
        "at": st.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "at_raw": at_raw,
        "text": text,
        "zone": st.zone.raw if st.zone else None,
        "utc_offset_minutes": st.zone.offset_minutes if st.zone else None,
        "zone_numeric": bool(st.zone and st.zone.numeric),
        "zone_assumed": st.zone_assumed,
        "date_only": st.date_only,
        "planned": bool(_PLANNED.search(text)),
    }


def parse_timeline(lines: list[_Line]) -> list[dict[str, Any]]:
    """Dated events, times in UTC (METRICS.md §10): one-line `2024-03-05 15:19 UTC: text`, a date line followed by
    `- 15:19 text` (or by entries with no time: `date_only`), table rows; a blanket "All times are ..." line sets the
    zone of entries that declare none (`zone_assumed` when there is none at all)."""
    events: list[dict[str, Any]] = []
    current = None
    blanket: Zone | None = None
    for ln in lines:
        text = ln.text.strip(" |")
        if not text:
            continue
        if ln.is_table:
            cells = [c.strip() for c in ln.raw.translate(_CURLY).strip().strip("|").split("|")]
            if all(re.fullmatch(r":?-{2,}:?", c) or c == "" for c in cells):
                continue
            text = " ".join(cells)
        bz = blanket_zone(text)
        if bz is None and ln.is_table and re.search(r"\b(?:time|date)", text, re.I):
            bz = (
                find_zone(text) if parse_date(text) is None else None
            )  # a header "| Date | Time (UTC) | Event |"
        if bz is None and ln.is_heading or text.lower().startswith("timeline"):
            bz = find_zone(text) if parse_date(text) is None else None  # "Timeline (all times UTC+9)"
        if bz is not None and parse_date(text) is None:
            blanket = bz
            continue
        d = parse_date(text)
        if d is not None:
            if _date_line(text):
                current = d
                blanket = find_zone(text) or blanket  # "2025-03-04 (UTC):" declares the zone of its entries
                continue
            st = parse_stamp(text, default_zone=blanket)
            if st:
                events.append(_event(text, text[:40], st))
            continue
        if current is None:
            continue
        if TIME_RE.match(text):
            st = parse_stamp(text, default_date=current, default_zone=blanket)
            if st:
                events.append(_event(text, f"{current} {text[:8]}", st))
        elif not ln.is_heading and len(re.sub(r"[^A-Za-z]", "", text)) >= 8:
            # an entry under a date line with no time of its own
            st = parse_stamp("", default_date=current)
            if st:
                events.append(_event(text, str(current), st))
    return events


_LABEL_RE = re.compile(
    r"^("
    + "|".join(re.escape(k) for k in sorted(LABELS, key=len, reverse=True))
    + r")\s*(?::|\?:|\??\s[-\u2013\u2014]\s|\??\s[-\u2013\u2014]$|$)\s*(.*)$",
    re.IGNORECASE,
)


def _label(line: _Line) -> tuple[str, str] | None:
    if line.is_table:
        return None
    m = _LABEL_RE.match(line.text)
    if not m:
        return None
    key = LABELS[m.group(1).lower()]
    value = m.group(2).strip()
    # a bare lessons word without colon is only a label when it stands alone (a v2 sub-heading)
    if (
        not line.text[len(m.group(1)) :]
        .lstrip()
        .lstrip("?")
        .lstrip()
        .startswith((":", "-", "\u2013", "\u2014"))
        and value
    ):
        return None
    return key, value


def _parse_structured(kind: str, start: int, lines: list[_Line]) -> Report:
    rep = Report(kind=kind, line=start)
    section: str | None = None
    buckets: dict[str, list[_Line]] = {}
    lesson: str | None = None
    factor: dict[str, Any] | None = None
    cur_field: str | None = None
    cur_target: dict[str, Any] = rep.fields
    heading_seen = False
    open_value = False  # the current label had no value on its line: collect lines until a blank
    for ln in lines[1:]:
        ln_continues = open_value
        low = _heading_text(ln)
        tm = _FACTOR_TIMELINE.match(ln.text) if section == "root_cause_analysis" and not ln.is_table else None
        if tm and factor is not None and (tm.group(1).strip() or _BULLET.match(ln.raw.strip())):
            # a factor's "Timeline:" with a value, or as a bullet; a bare "Timeline" line is the report's section
            factor["timeline"] = tm.group(1).strip()
            cur_target, cur_field, open_value = factor, "timeline", not factor["timeline"]
            buckets.setdefault("root_cause_analysis", []).append(ln)
            continue
        paren = re.match(r"^(.*?)\s*[(\[]([^)\]]*)[)\]]$", low)
        if paren and paren.group(1) in SECTIONS and not ln.is_table:  # "Timeline (all times UTC+9)"
            low = paren.group(1)
        if not ln.is_table and low in SECTIONS and len(ln.text) < 60:
            section, lesson, cur_field, heading_seen = SECTIONS[low], None, None, True
            buckets.setdefault(section, [])
            if paren and section == "timeline":
                buckets[section].append(ln)
            cur_target = rep.fields
            continue
        audit_finding = (
            re.match(r"^(?:finding|issue)\s*#?\s*\d+\b[\s:.\-\u2013]*(.*)$", low) if kind == "audit" else None
        )
        if audit_finding and not ln.is_table and len(ln.text) < 200:
            # an audit report's "Finding #1" / "Issue #1": the text under it (or after it) is the finding
            section, lesson, cur_field, heading_seen = "findings", None, None, True
            cur_target = rep.fields
            buckets.setdefault(section, [])
            if audit_finding.group(1).strip():
                buckets[section].append(_clean(ln.text.split(":", 1)[-1] if ":" in ln.text else ln.text))
            continue
        inline = re.match(r"^([A-Za-z ]{4,30}?)\s*:\s*(\S.*)$", ln.text) if not ln.is_table else None
        in_factor = factor is not None and section == "root_cause_analysis"
        if inline and inline.group(1).lower() in SECTIONS and not in_factor and not _label(ln):
            # a short form: "Summary: we found ...", "Impact: 12 certificates" (preliminary reports, issue 24)
            section, lesson, cur_field, heading_seen = SECTIONS[inline.group(1).lower()], None, None, True
            cur_target = rep.fields
            buckets.setdefault(section, []).append(_clean(inline.group(2)))
            continue
        fm = _FACTOR.match(ln.text) if not ln.is_table else None
        if fm:
            factor = {"number": int(fm.group(1)), "title": fm.group(2).strip() or None}
            rep.contributing_factors.append(factor)
            cur_target, cur_field, section = factor, None, "root_cause_analysis"
            buckets.setdefault(section, []).append(ln)
            continue
        lab = _label(ln)
        if lab:
            key, value = lab
            if key in LESSONS.values():
                lesson = key
                section = "lessons_learned"
                buckets.setdefault(section, []).append(ln)
                rep.fields.setdefault("lessons", {})[key] = value
                cur_field, cur_target = None, rep.fields
                continue
            if (
                factor is not None
                and section == "root_cause_analysis"
                and key in ("description", "detection", "interaction_with_other_factors", "rca_methodology")
            ):
                cur_target = factor
            else:
                cur_target = rep.fields
            cur_target[key] = value
            cur_field = key
            open_value = not value
            if section:
                buckets[section].append(ln)
            continue
        if section:
            buckets.setdefault(section, []).append(ln)
        if lesson and not ln.is_table and ln.text:
            prev = rep.fields["lessons"].get(lesson, "")
            rep.fields["lessons"][lesson] = (prev + "\n" + ln.text).strip()
            continue
        indented = ln.raw[:1].isspace() and not _BULLET.match(ln.raw.strip())
        if (
            cur_field
            and ln.text
            and not ln.is_table
            and (not cur_target.get(cur_field) or indented or ln_continues)
        ):
            prev = cur_target.get(cur_field) or ""
            cur_target[cur_field] = (prev + "\n" + ln.text).strip() if prev else ln.text
        elif not ln.text and cur_field and cur_target.get(cur_field):
            cur_field, open_value = None, False  # a blank line ends a multi-line value
    for name, blines in buckets.items():
        body = "\n".join(b.raw.rstrip() for b in blines).strip()
        if body:
            rep.sections[name] = body
    if "timeline" in buckets:
        rep.timeline = parse_timeline(buckets["timeline"])
    if "action_items" in buckets:
        rep.action_items = parse_action_table(buckets["action_items"]) or _items_from_list(
            buckets["action_items"]
        )
    elif kind in ("closure",) or not heading_seen:
        rep.action_items = parse_action_table([x for x in lines if x.is_table])
    if "related_incidents" in buckets:
        rep.related_incidents = parse_related(buckets["related_incidents"])
    _finish_fields(rep)
    # kind refinements
    if kind == "v2":
        have = set(rep.sections) & V2_SECTIONS
        text = " ".join(ln.text.lower() for ln in lines[:12])
        rep.kind = (
            "preliminary" if len(have) < 3 and ("preliminary" in text or "full report" in text) else "v2_full"
        )
    if rep.kind == "v3_full" and lines and "draft" in lines[0].text.lower():
        rep.fields["is_draft"] = True
    if rep.kind == "preliminary":
        m = _FULL_BY.search(" ".join(ln.text for ln in lines))
        if m:
            d = parse_date(m.group(1))
            rep.fields["full_report_promised_by"] = d.isoformat() if d else None
            rep.fields["full_report_promised_raw"] = m.group(1).strip()
    return rep


def _finish_fields(rep: Report) -> None:
    f = rep.fields
    if f.get("timeline_summary") == "":
        f.pop("timeline_summary")
    for key in ("noncompliance_start", "noncompliance_identified", "noncompliance_end"):
        if key in f:
            raw = f[key]
            ts = parse_timestamp(raw) if raw else None
            f[key] = {"raw": raw, "at": ts.strftime("%Y-%m-%dT%H:%M:%SZ") if ts else None}
    if "disclosure_source" in f:
        f["disclosure_source_norm"] = normalise_disclosure(f["disclosure_source"])
    for key in ("total_certificates", "remaining_valid_certificates"):
        if key in f:
            f[f"{key}_count"] = _to_int(f[key])
    if "issuance_stopped" in f:
        t = (f["issuance_stopped"] or "").strip().lower()
        f["issuance_stopped_bool"] = True if t.startswith("yes") else False if t.startswith("no") else None
    if "ccadb_owner_id" in f:
        m = re.search(r"\bA\d{6}\b", f["ccadb_owner_id"] or "")
        f["ccadb_owner_id"] = m.group(0) if m else (f["ccadb_owner_id"] or None)


def _parse_seven(start: int, lines: list[_Line]) -> Report:
    rep = Report(kind="seven_questions", line=start)
    current: str | None = None
    parts: dict[str, list[str]] = {}
    for ln in lines:
        q = _question(ln.text) if len(ln.text) < 600 else None
        if q and (q not in parts):
            current = q
            parts[q] = []
            # an answer on the question's own line ("2. A timeline of the actions ...: 2018-06-04 ..."), after the
            # first ':' or '?' that follows the question's words (the questions themselves contain neither)
            m = _QUESTION_RE.search(ln.text)
            tail = ln.text[m.end() :] if m else ""
            cut = re.search(r"[:?]\s+(\S.*)$", tail)
            if cut and len(cut.group(1).split()) >= 2:
                parts[q].append(cut.group(1))
            continue
        if current:
            parts[current].append(ln.raw.rstrip())
    rep.answers = {k: "\n".join(v).strip() for k, v in parts.items()}
    if "q2_timeline" in parts:
        rep.timeline = parse_timeline([_clean(x) for x in parts["q2_timeline"]])
    if "q7_steps" in parts:
        rep.action_items = _items_from_steps(parts["q7_steps"])
    return rep


_STATUS_WORD = re.compile(
    r"\b(complete[d]?|done|ongoing|in progress|delayed|cancell?ed|implemented|finished|planned)\b", re.I
)
_SEGMENTS = re.compile(r"\s+[-\u2013\u2014|;:]\s+|\s*[()\[\]]\s*")


def _line_status(text: str) -> str | None:
    """The status written in a free-text action item ("Add a lint - Mostly complete - due 2025-05-01"): a part after
    the action that reads as a status, whole (so "mostly complete", "not yet done", "won't implement" keep their
    qualifier); else a status word with the few words before it."""
    for seg in [x.strip() for x in _SEGMENTS.split(text) if x and x.strip()][1:]:
        if normalise_status(seg) != "unknown":
            return seg
    m = _STATUS_WORD.search(text)
    if not m:
        return None
    before = text[: m.start()].split()[
        -3:
    ]  # "not yet", "mostly", "will be": the words that change its meaning
    return " ".join(before + [m.group(1)])


def _items_from_steps(lines: list[str]) -> list[dict[str, Any]]:
    """Best effort: question 7 as free text; a table if there is one, else bullet lines."""
    cl = [_clean(x) for x in lines]
    table = parse_action_table(cl)
    if table:
        return table
    items = []
    for ln in cl:
        if not ln.text or len(ln.text) < 8 or ln.is_table:
            continue
        if not _BULLET.match(ln.raw.strip()) and not re.search(
            r"\b(due|by|complete|done|ongoing|delayed)\b", ln.text, re.I
        ):
            continue
        due = parse_date(ln.text)
        status_raw = _line_status(ln.text)
        items.append(
            {
                "action": ln.text[:300],
                "kind": None,
                "root_causes": None,
                "evaluation_criteria": None,
                "due_raw": due.isoformat() if due else None,
                "status_raw": status_raw,
                "due_date": due.isoformat() if due else None,
                "status": normalise_status(status_raw),
            }
        )
    return items


_ITEM_LABELS = re.compile(
    r"\b(?P<key>kind|type|(?:corresponding\s+)?root\s+causes?(?:\(s\))?|evaluation(?:\s+criteria)?|"
    r"due(?:\s+date)?|target\s+date|status)\s*[:=]\s*",
    re.IGNORECASE,
)


def _items_from_list(lines: list[_Line]) -> list[dict[str, Any]]:
    """Action items written as a list instead of a table: one bullet per item, its columns as labelled parts
    ("... Kind: Prevent. Root cause: #1. Evaluation: ... Due: 2025-07-31. Status: Complete."), on its line or on
    the indented lines under it."""
    groups: list[list[str]] = []
    for ln in lines:
        if ln.is_table or not ln.text:
            continue
        top = bool(_BULLET.match(ln.raw.strip())) and not ln.raw[:1].isspace()
        if top or not groups:
            groups.append([ln.text])
        else:
            groups[-1].append(ln.text)
    items = []
    for g in groups:
        text = " ".join(g)
        marks = list(_ITEM_LABELS.finditer(text))
        if not marks:
            continue
        cells: dict[str, str] = {}
        for n, m in enumerate(marks):
            end = marks[n + 1].start() if n + 1 < len(marks) else len(text)
            key = m.group("key").lower()
            col = (
                "kind"
                if key in ("kind", "type")
                else "root_causes"
                if "root" in key
                else "evaluation_criteria"
                if key.startswith("evaluation")
                else "status_raw"
                if key == "status"
                else "due_raw"
            )
            cells[col] = text[m.end() : end].strip(" .;,|")
        due = parse_date(cells.get("due_raw"))
        items.append(
            {
                "action": text[: marks[0].start()].strip(" .;,|")[:300],
                "kind": cells.get("kind"),
                "root_causes": cells.get("root_causes"),
                "evaluation_criteria": cells.get("evaluation_criteria"),
                "due_raw": cells.get("due_raw"),
                "status_raw": cells.get("status_raw"),
                "due_date": due.isoformat() if due else None,
                "status": normalise_status(cells.get("status_raw")),
            }
        )
    return items


# Other ways a comment points at a bug (docs/parsing.md lists every form): "#1886467" (6-7 digits, not an HTML entity,
# a URL fragment or a colour), "Incident 2029013", "Bugzilla incident 2029013". Not references: numbers after
# case/ticket/serial/CCADB (case numbers, serials), plain numbers (certificate counts), dates.
HASH_REF = re.compile(r"(?<![\w&/#])#(\d{6,7})(?![\d-])")
INCIDENT_REF = re.compile(r"\bincidents?\s*(?:no\.?\s*|number\s*)?#?\s*(\d{6,7})(?![\d-])", re.IGNORECASE)
_NOT_A_BUG = re.compile(
    r"(?:case|ticket|serial|ccadb|salesforce|order|invoice|request)\s*(?:no\.?|number|id)?\s*[:#]?\s*$",
    re.IGNORECASE,
)


def find_bug_ref_spans(text: str) -> list[tuple[int, int, int]]:
    """Every bug reference in a text as (bug id, start, end) of the referring words, in order of appearance."""
    low = text.lower()
    if not any(w in low for w in ("bug", "#", "incident")):
        return []  # every form of reference names a bug, bugzilla, an incident, or uses '#'
    spans: list[tuple[int, int, int]] = []
    for rx in (BUG_REF, HASH_REF, INCIDENT_REF):  # "Bug #1234567" is one reference, found by the first form
        for m in rx.finditer(text):
            if _NOT_A_BUG.search(text[max(0, m.start() - 24) : m.start()]):
                continue
            if any(m.start() < e and s < m.end() for _, s, e in spans):
                continue
            spans.append((int(m.group(1)), m.start(), m.end()))
    return sorted(spans, key=lambda x: x[1])


def find_bug_refs(text: str) -> list[int]:
    """The distinct bug ids a text refers to, sorted."""
    return sorted({b for b, _, _ in find_bug_ref_spans(text)})


def parse_text(text: str | None) -> ParseResult:
    """All incident reports in one comment or pasted page, plus every bug id it mentions. Never raises."""
    res = ParseResult()
    if not text:
        return res
    try:
        return _parse(text, res)
    except Exception as exc:  # noqa: BLE001 - a parser must never stop the run
        res.reports = []
        res.failures.append(f"internal parser error: {type(exc).__name__}: {exc}"[:300])
        return res


def _parse(text: str, res: ParseResult) -> ParseResult:
    if "\x00" in text:
        text = text.replace("\x00", "")
    res.bug_ref_spans = find_bug_ref_spans(text[:200_000])
    res.bug_refs = sorted({b for b, _, _ in res.bug_ref_spans})
    raw_lines = [_tabbed(x) for x in text.splitlines()]
    folded = [x.translate(_CURLY) for x in raw_lines]
    if len(folded) != len(raw_lines):  # cannot happen with the current table; stay safe
        folded = [x.translate(_CURLY) for x in raw_lines]
    lines = [_clean(r, f) for r, f in zip(raw_lines, folded, strict=True)]
    starts: list[tuple[int, str]] = []
    for i, ln in enumerate(lines):
        kind = _report_heading(ln)
        if kind:
            if kind == "closure" and starts and starts[-1][1] == "closure" and i - starts[-1][0] < 3:
                continue
            starts.append((i, kind))
    # seven questions: wherever the first question appears, when at least three are asked
    qhits = [(i, q) for i, ln in enumerate(lines) if len(ln.text) < 600 and (q := _question(ln.text))]
    if len({q for _, q in qhits}) >= 2:
        first = qhits[0][0]
        # the questions belong to one report unless a structured heading sits between them
        starts = [s for s in starts if not (first <= s[0] <= qhits[-1][0] and s[1] in ("v2", "preliminary"))]
        starts.append((first, "seven_questions"))
    # v2 sections without an "Incident Report" heading
    if not starts:
        sec = [
            i
            for i, ln in enumerate(lines)
            if not ln.is_table and _heading_text(ln) in SECTIONS and len(ln.text) < 60
        ]
        names = {SECTIONS[_heading_text(lines[i])] for i in sec}
        if len(names & V2_SECTIONS) >= 3:
            starts.append((max(sec[0] - 1, 0), "v2"))
        elif _closure_like(lines):
            starts.append((0, "closure"))
    starts.sort()
    for n, (i, kind) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        seg = lines[i:end]
        rep = _parse_seven(i, seg) if kind == "seven_questions" else _parse_structured(kind, i, seg)
        if _empty(rep):
            res.failures.append(
                f"line {i + 1}: '{lines[i].text[:60]}' starts a {kind} report, but no section or field was recognised"
            )
            continue
        res.reports.append(rep)
    if not res.reports and any(ln.is_table for ln in lines):
        res.action_items = parse_action_table(lines)
    return res


def _tabbed(line: str) -> str:
    """A table copied from a rendered page comes as tab-separated cells: made a pipe row (three cells or more)."""
    core = line.strip()
    if core.count("\t") < 2 or core.startswith("|"):
        return line
    return "| " + " | ".join(c.strip() for c in core.split("\t")) + " |"


def _closure_like(lines: list[_Line]) -> bool:
    labels = {lab[0] for ln in lines if (lab := _label(ln))}
    return len(labels & {"root_causes", "remediation_description", "commitment_summary"}) >= 2


def _empty(rep: Report) -> bool:
    return not (
        rep.sections
        or rep.answers
        or rep.action_items
        or {
            k
            for k in rep.fields
            if k not in ("lessons", "is_draft", "full_report_promised_by", "full_report_promised_raw")
        }
    )
