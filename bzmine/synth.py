"""Synthetic CA compliance corpora with planted ground truth.

`synth(n, seed)` builds bugs the way real CA Certificate Compliance bugs look: summaries
`"<CA>: <title>"` (with alias spellings and a few without a CA prefix), whiteboards in the real
irregular forms, incident reports in every template generation (7 questions; v2.0; v3
preliminary, full, closure; markdown and rendered text), root-program and community questions
(commenters added to CC as BMO's comment form does, with the full address in history),
CA answers after drawn delays (some late, some never), needinfo flags set and cleared in history,
"Next update" dates (met and missed), action-item tables re-posted with status changes and slipped
due dates, closures and reopenings, and a few private bugs.

The generator writes down what it planted (`truth.json`) so tests can check parsers and metrics
against exact numbers. Its conversations are built so the METRICS.md rules give one answer:
every request is answered (or left pending) before the next one is asked.
All text is the project's own.
"""

from __future__ import annotations

import json
import random
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from bzmine.corpus import Record, write_corpus
from bzmine.timeutil import format_bmo_time

# (canonical name, spellings seen in summaries, e-mail domain)
CAS: list[tuple[str, list[str], str]] = [
    ("Acme Trust", ["Acme Trust", "ACME Trust", "Acme Trust Ltd."], "acmetrust.example"),
    ("Northwind PKI", ["Northwind PKI", "NORTHWIND PKI"], "northwind-pki.example"),
    ("Bluefin Certificates", ["Bluefin Certificates", "Bluefin Certificates Inc"], "bluefin.example"),
    ("Cobalt CA", ["Cobalt CA", "Cobalt CA Inc."], "cobaltca.example"),
    ("Datum Signing", ["Datum Signing"], "datum.example"),
    ("Elm Street Trust", ["Elm Street Trust", "ElmStreet Trust"], "elmtrust.example"),
    ("Fjord Sertifikat", ["Fjord Sertifikat", "Fjord Sertifikat AS"], "fjord.example"),
    ("Granite Root Services", ["Granite Root Services", "Granite Root Services LLC"], "graniteroot.example"),
    ("Harbor Digital", ["Harbor Digital"], "harbordigital.example"),
    ("Iris Certification", ["Iris Certification", "IRIS Certification S.A."], "iris-cert.example"),
    ("Juniper Identity", ["Juniper Identity"], "juniperid.example"),
    ("Kestrel Trust Services", ["Kestrel Trust Services", "Kestrel Trust Services, Ltd"], "kestrel.example"),
    ("Lumen Sign", ["Lumen Sign", "LumenSign"], "lumensign.example"),
    ("Meridian Certs", ["Meridian Certs"], "meridian.example"),
    ("Nordlys CA", ["Nordlys CA"], "nordlys.example"),
    ("Orchid Secure", ["Orchid Secure", "Orchid Secure GmbH"], "orchid.example"),
    ("Pinecone PKI", ["Pinecone PKI"], "pinecone.example"),
    ("Quartz Authority", ["Quartz Authority"], "quartz.example"),
]
TAGS = [
    "dv-misissuance",
    "ov-misissuance",
    "ev-misissuance",
    "leaf-revocation-delay",
    "policy-failure",
    "disclosure-failure",
    "ocsp-failure",
    "crl-failure",
    "audit-finding",
    "ca-misissuance",
    "smime-misissuance",
    "uncategorized",
]
TITLES = [
    "Delayed response to certificate problem report",
    "Certificates issued with an invalid organizationName",
    "OCSP responder returned unknown for valid certificates",
    "CRL published with an expired nextUpdate",
    "Late revocation of misissued TLS certificates",
    "CP/CPS not updated within 365 days",
    "Intermediate CA certificate not disclosed in CCADB",
    "Certificates with a lowercase country code",
    "Findings in the annual audit",
    "Domain validation method used after its sunset date",
]
ROOT_PROGRAM = ["rp.lead@mozilla.com", "ca-reviewer@mozilla.org", "chrome-root-program@google.com"]
COMMUNITY = ["webpki.watcher@gmail.com", "cert.researcher@outlook.com", "lint.enthusiast@proton.me"]
BOT = "triage-bot@mozilla.tld"
CC_ON_COMMENT = 0.85  # share of first-time commenters BMO adds to CC (the form's default, left on)
PLACEHOLDER = "nobody@mozilla.org"
SEVEN_Q = [
    "How your CA first became aware of the problem",
    "A timeline of the actions your CA took in response",
    "Whether your CA has stopped, or has not yet stopped, certificate issuance",
    "In a case involving certificates, a summary of the problematic certificates",
    "In a case involving TLS server certificates, the complete certificate data for the problematic certificates",
    "Explanation about how and why the mistakes were made or bugs introduced",
    "List of steps your CA is taking to resolve the situation",
]
STATUS_WORDS = {
    "complete": ["Complete", "Done", "Completed", "Implemented"],
    "ongoing": ["Ongoing", "In progress"],
    "delayed": ["Delayed"],
    "canceled": ["Canceled"],
}
# Status phrases written from what they mean, not from the parser's word list (adversarial: negation, tense,
# qualifiers). Truth `not_complete`: any reading but `complete` is right (ongoing, delayed or unknown), since a
# wrong `complete` would hide an open item in the CA's favour.
STATUS_PHRASES_BY_MEANING = {
    "complete": ["Finished", "Fixed in production", "Completed on {due}", "Done ({due})", "Deployed {due}"],
    "not_complete": [
        "Mostly complete",
        "Half done",
        "Not yet deployed",
        "Scheduled for next quarter",
        "Awaiting vendor release",
        "Partially rolled out",
        "Incomplete",
        "To be implemented",
        "Almost finished",
        "Will be completed by {due}",
        "Not fully deployed",
        "Under review",
        "TBD",
    ],
    "canceled": ["Withdrawn", "No longer needed", "Cancelled", "Won't implement"],
}


def _status_raw(rng: random.Random, status: str, due: str) -> str:
    """The status cell: the template's own words mostly, a phrase written by meaning a quarter of the time."""
    meaning = "not_complete" if status in ("ongoing", "delayed", "not_complete") else status
    if rng.random() < 0.25 and meaning in STATUS_PHRASES_BY_MEANING:
        return rng.choice(STATUS_PHRASES_BY_MEANING[meaning]).format(due=due)
    return rng.choice(STATUS_WORDS["ongoing" if status == "not_complete" else status])


ACTIONS = [
    "Add a linter check for the affected field before signing",
    "Route problem reports to a monitored ticket queue",
    "Retrain validation staff on the revised procedure",
    "Automate the CRL freshness monitor",
    "Review the CP/CPS against the latest Baseline Requirements",
    "Disclose all subordinate CAs in CCADB within 7 days of creation",
    "Add alerting when revocation queues exceed 24 hours",
]
DIDNT = "What didn't go well:"
REMAINING = 'Total number of "remaining valid" certificates:'
WHITEBOARD_DATE_FORMS = ["iso", "iso", "iso", "iso", "d-Mon-Y", "Y-Mon-d", "dd.mm.yyyy"]


def _fmt_next_update(d: date, form: str) -> str:
    mon = d.strftime("%b")
    if form == "d-Mon-Y":
        return f"Next update {d.day}-{mon}-{d.year}"
    if form == "Y-Mon-d":
        return f"Next update {d.year}-{mon}-{d.day:02d}"
    if form == "dd.mm.yyyy":
        return f"Next update at {d.day}.{d.month}.{d.year}"
    return f"Next update {d.isoformat()}"


@dataclass
class _Bug:
    """Builder state for one bug while its story is written."""

    id: int
    ca: str | None
    domain: str
    opened: datetime
    rng: random.Random
    style: str  # "markdown" or "rendered"
    comments: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    whiteboard: str = ""
    status: str = "NEW"
    truth: dict[str, Any] = field(default_factory=dict)
    open_flags: dict[str, dict[str, Any]] = field(default_factory=dict)
    ca_people: tuple[str, ...] = ()
    pending: list[dict[str, Any]] = field(default_factory=list)
    cc: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        # BMO's comment form adds the commenter to CC by default (most leave it on); its own generator, so the
        # CC draws never shift the story's random stream
        self.cc_rng = random.Random(self.id)

    def comment(self, who: str, at: datetime, text: str) -> dict[str, Any]:
        """Add a comment; a CA comment answers every request still waiting (METRICS.md §4)."""
        cid = self.id * 1000 + len(self.comments)  # unique across the corpus
        ts = format_bmo_time(at)
        c = {
            "id": cid,
            "bug_id": self.id,
            "count": len(self.comments),
            "text": text,
            "raw_text": text,
            "creator": who,
            "author": who,
            "time": ts,
            "creation_time": ts,
            "is_private": False,
            "attachment_id": None,
            "tags": [],
            "reactions": {},
        }
        self.comments.append(c)
        if len(self.comments) == 1:
            self.cc.add(who)  # the reporter is on CC from the start (no history entry)
        elif who not in self.cc and self.cc_rng.random() < CC_ON_COMMENT:
            self.cc.add(who)  # history keeps the full address even when the server hides e-mails
            self.change(who, at, "cc", "", who)
        if who in self.ca_people:
            for req in self.pending:
                req.update(answered_at=ts, answered_by=who)
            self.pending.clear()
        return c

    def change(self, who: str, at: datetime, field_name: str, removed: str, added: str) -> None:
        ts = format_bmo_time(at)
        entry = {"field_name": field_name, "removed": removed, "added": added}
        if self.history and self.history[-1]["when"] == ts and self.history[-1]["who"] == who:
            self.history[-1]["changes"].append(entry)
        else:
            self.history.append({"when": ts, "who": who, "changes": [entry]})


def _heading(bug: _Bug, level: int, text: str) -> str:
    return f"{'#' * level} {text}" if bug.style == "markdown" else text


def _label(bug: _Bug, text: str) -> str:
    return f"**{text}**" if bug.style == "markdown" else text


def _bullet(bug: _Bug) -> str:
    return "- " if bug.style == "markdown" else "  • "


def _table(bug: _Bug, header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |"]
    if bug.style == "markdown":
        lines.append("|" + "|".join("---" for _ in header) + "|")
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _apos(bug: _Bug, text: str) -> str:
    return text.replace("'", "\u2019") if bug.rng.random() < 0.3 else text


def _seven_questions(bug: _Bug, title: str, items: list[dict[str, Any]], at: datetime) -> str:
    r = bug.rng
    answers = [
        f"We were notified on {(at - timedelta(days=3)).date()} through our problem reporting address.",
        f"{(at - timedelta(days=3)).date()} 09:12 UTC report received.\n{(at - timedelta(days=2)).date()} 14:00 UTC investigation started.",
        "We have stopped issuance of the affected profile until the fix is deployed.",
        f"{r.randint(1, 900)} certificates, first issued {(at - timedelta(days=200)).date()}, last issued {(at - timedelta(days=4)).date()}.",
        "The affected certificates are listed in the attached file with crt.sh links.",
        "A configuration change was not reviewed against the requirements and the linter did not cover the field.",
        "\n".join(f"{it['action']} - {it['status_raw']} - due {it['due_raw']}" for it in items),
    ]
    numbered = r.random() < 0.7
    parts = [f"This is the incident report for: {title}.", ""]
    for i, (q, a) in enumerate(zip(SEVEN_Q, answers, strict=True), 1):
        prefix = f"{i}. " if numbered else ""
        parts += [f"{prefix}{_apos(bug, q)}.", "", a, ""]
    return "\n".join(parts)


def _v2_full(bug: _Bug, title: str, items: list[dict[str, Any]], at: datetime) -> str:
    r = bug.rng
    rows = [[it["action"], it["kind"], it["due_raw"]] for it in items]
    day = (at - timedelta(days=3)).date()
    text = [
        _heading(bug, 2, "Incident Report"),
        "",
        _heading(bug, 3, "Summary"),
        f"{title}. We detected the problem on {day}.",
        "",
        _heading(bug, 3, "Impact"),
        f"{r.randint(1, 5000)} certificates were affected.",
        "",
        _heading(bug, 3, "Timeline"),
        "All times are UTC.",
        "",
        f"{day}:",
        f"{_bullet(bug)}09:30 Problem report received",
        f"{_bullet(bug)}15:45 Issuance stopped",
        f"{(at - timedelta(days=1)).date()}:",
        f"{_bullet(bug)}10:00 Fix deployed",
        "",
        _heading(bug, 3, "Root Cause Analysis"),
        "A validation rule was missing from the pre-issuance linter.",
        "",
        _heading(bug, 3, "Lessons Learned"),
        _heading(bug, 4, "What went well"),
        "Issuance was stopped within hours.",
        _heading(bug, 4, _apos(bug, "What didn't go well")),
        "The first report sat in a shared inbox.",
        _heading(bug, 4, "Where we got lucky"),
        "No relying party reported failures.",
        "",
        _heading(bug, 3, "Action Items"),
        _table(bug, ["Action Item", "Kind", "Due Date"], rows),
        "",
        _heading(bug, 3, "Appendix"),
        _heading(bug, 4, "Details of affected certificates"),
        "https://crt.sh/?sha256=0000000000000000000000000000000000000000000000000000000000000000",
    ]
    return "\n".join(text)


def _v3_prelim(bug: _Bug, title: str, source: str) -> str:
    b = _bullet(bug)
    return "\n".join(
        [
            _heading(bug, 2, "Preliminary Incident Report"),
            "",
            _heading(bug, 3, "Summary"),
            f"{b}{_label(bug, 'Incident description:')} {title}. Our investigation is ongoing.",
            f"{b}{_label(bug, 'Relevant policies:')} TLS Baseline Requirements section 4.9.1.1",
            f"{b}{_label(bug, 'Source of incident disclosure:')} {source}",
            "",
            "We will publish a full incident report within two weeks.",
        ]
    )


def _audit(bug: _Bug, title: str) -> str:
    """An Audit Incident Report (a finding of the CA's auditor), without action items: the incident report has them."""
    b = _bullet(bug)
    return "\n".join(
        [
            _heading(bug, 2, "Audit Incident Report"),
            "",
            _heading(bug, 3, "Finding #1"),
            "",
            f"{b}{_label(bug, 'Issue Description:')} The auditor found that {title.lower()}.",
            f"{b}{_label(bug, 'Root Cause of Issue:')} A manual step was missed.",
            f"{b}{_label(bug, 'Remediation Plan for this Issue:')} Automate the step and add a check.",
        ]
    )


def _v3_full(
    bug: _Bug, title: str, source: str, items: list[dict[str, Any]], at: datetime, related: int | None
) -> str:
    r = bug.rng
    b = _bullet(bug)
    start = (at - timedelta(days=40)).date()
    found = (at - timedelta(days=5)).date()
    total = r.randint(1, 20000)
    rows = [
        [
            it["action"],
            it["kind"],
            "Root Cause # 1",
            "No recurrence in monitoring",
            it["due_raw"],
            it["status_raw"],
        ]
        for it in items
    ]
    rel_rows = (
        [
            [
                f"[Bug {related}](https://bugzilla.mozilla.org/show_bug.cgi?id={related})",
                str(start),
                "Same root cause",
            ]
        ]
        if related
        else []
    )
    text = [
        _heading(bug, 2, "Full Incident Report"),
        "",
        _heading(bug, 3, "Summary"),
        f"{b}{_label(bug, 'CA Owner CCADB unique ID:')} A{bug.id % 1000000:06d}",
        f"{b}{_label(bug, 'Incident description:')} {title}.",
        f"{b}{_label(bug, 'Timeline summary:')}",
        f"   {b}{_label(bug, 'Non-compliance start date:')} {start}",
        f"   {b}{_label(bug, 'Non-compliance identified date:')} {found}",
        f"   {b}{_label(bug, 'Non-compliance end date:')} {(at - timedelta(days=2)).date()}",
        f"{b}{_label(bug, 'Relevant policies:')} TLS BR 7.1.2",
        f"{b}{_label(bug, 'Source of incident disclosure:')} {source}",
        "",
        _heading(bug, 3, "Impact"),
        f"{b}{_label(bug, 'Total number of certificates:')} {total:,}",
        f"{b}{_label(bug, REMAINING)} {total // 3}",
        f"{b}{_label(bug, 'Affected certificate types:')} OV TLS",
        f"{b}{_label(bug, 'Incident heuristic:')} Certificates issued from the affected profile.",
        f"{b}{_label(bug, 'Was issuance stopped in response to this incident, and why or why not?:')} Yes, until the fix.",
        f"{b}{_label(bug, 'Analysis:')} Not applicable.",
        "",
        _heading(bug, 3, "Timeline"),
        f"{found} 08:15 UTC: Alert raised by the monitoring job.",
        f"{found} 11:40 UTC: Issuance stopped.",
        "",
        _heading(bug, 3, "Related Incidents"),
        _table(bug, ["Bug", "Date", "Description"], rel_rows),
        "",
        _heading(bug, 3, "Root Cause Analysis"),
        _label(bug, "Contributing Factor #1: missing lint rule"),
        f"{b}{_label(bug, 'Description:')} The linter had no rule for the field.",
        f"{b}{_label(bug, 'Timeline:')} Since {start}.",
        f"{b}{_label(bug, 'Detection:')} Monitoring alert.",
        f"{b}{_label(bug, 'Interaction with other factors:')} None.",
        "",
        _heading(bug, 3, "Lessons Learned"),
        f"{b}{_label(bug, 'What went well:')} Fast stop of issuance.",
        f"{b}{_label(bug, _apos(bug, DIDNT))} Slow triage.",
        f"{b}{_label(bug, 'Where we got lucky:')} Few certificates.",
        f"{b}{_label(bug, 'Additional:')} None.",
        "",
        _heading(bug, 3, "Action Items"),
        _table(
            bug,
            [
                "Action Item",
                "Kind",
                "Corresponding Root Cause(s)",
                "Evaluation Criteria",
                "Due Date",
                "Status",
            ],
            rows,
        ),
        "",
        _heading(bug, 3, "Appendix"),
        "See attachment.",
    ]
    return "\n".join(text)


def _closure(bug: _Bug, title: str) -> str:
    b = _bullet(bug)
    return "\n".join(
        [
            _heading(bug, 3, "Report Closure Summary"),
            f"{b}{_label(bug, 'Incident description:')} {title}.",
            f"{b}{_label(bug, 'Incident Root Cause(s):')} A missing lint rule.",
            f"{b}{_label(bug, 'Remediation description:')} Rule added and certificates revoked.",
            f"{b}{_label(bug, 'Commitment summary:')} We keep monitoring the field.",
            "All Action Items disclosed in this report have been completed as described, and we request its closure.",
        ]
    )


def _era(opened: datetime) -> str:
    d = opened.date()
    if d < date(2023, 10, 17):
        return "seven_questions"
    if d < date(2025, 3, 1):
        return "v2"
    return "v3"


def _delay(rng: random.Random) -> timedelta:
    """CA response delay: mostly days, a tail beyond 7 days."""
    hours = min(rng.lognormvariate(3.3, 1.0), 24 * 30)
    return timedelta(hours=max(hours, 0.25), seconds=rng.randint(0, 59))


def _make_items(rng: random.Random, at: datetime, n: int) -> list[dict[str, Any]]:
    items = []
    for action in rng.sample(ACTIONS, n):
        due = (at + timedelta(days=rng.randint(10, 120))).date()
        status = rng.choice(["ongoing", "ongoing", "complete", "delayed", "canceled"])
        raw = _status_raw(rng, status, due.isoformat())
        if status in ("ongoing", "delayed") and raw not in STATUS_WORDS[status]:
            status = "not_complete"  # written by meaning: the truth is only "not complete"
        items.append(
            {
                "action": action,
                "kind": rng.choice(["Prevent", "Mitigate", "Detect"]),
                "due": due.isoformat(),
                "due_raw": due.isoformat(),
                "status": status,
                "status_raw": raw,
            }
        )
    return items


def _build_bug(bug_id: int, rng: random.Random, start: datetime, end: datetime) -> Record:
    span = (end - start).total_seconds()
    opened = start + timedelta(seconds=int(rng.random() * span * 0.97))
    ca_entry = rng.choice(CAS)
    attributed = rng.random() > 0.03
    ca = ca_entry[0] if attributed else None
    spelling = rng.choice(ca_entry[1])
    domain = ca_entry[2]
    # without a CA name only the assignee speaks for the CA (the domain rule needs a CA, METRICS.md §1)
    ca_people = [f"compliance@{domain}", f"pki.ops@{domain}"] if attributed else [f"compliance@{domain}"] * 2
    bug = _Bug(
        bug_id,
        ca,
        domain,
        opened,
        rng,
        "markdown" if rng.random() < 0.85 else "rendered",
        ca_people=tuple(ca_people),
    )
    title = rng.choice(TITLES)
    summary = f"{spelling}: {title}" if attributed else f"{title} at {spelling}"
    tag = rng.choice(TAGS)
    tags = ["ca-compliance", tag]
    wb_form = rng.random()
    if wb_form < 0.04:
        wb_tags = f"[ca compliance] [{tag}]"
    elif wb_form < 0.07 and "-" in tag:
        wb_tags = f"[ca-compliance] [{tag.replace('-', ' ')}]"
    else:
        wb_tags = f"[ca-compliance] [{tag}]"
    self_reported = rng.random() < 0.6
    era = _era(opened)
    source = (
        rng.choice(["Self Reported", "Self-reported"])
        if self_reported
        else rng.choice(["Third Party Reported", "Certificate Problem Report from a third-party researcher"])
    )
    requests: list[dict[str, Any]] = []
    reports: list[dict[str, Any]] = []
    obligations: list[dict[str, Any]] = []
    t = opened
    reporter = rng.choice(ca_people) if self_reported else rng.choice(COMMUNITY + ROOT_PROGRAM[:1])
    items = _make_items(rng, t, rng.randint(1, 3))

    posted: list[dict[str, Any]] = []  # the action items of the latest table the CA posted

    def add_report(
        who: str,
        at: datetime,
        kind: str,
        text: str,
        table: list[dict[str, Any]] | None = None,
        with_status: bool = True,
    ) -> None:
        c = bug.comment(who, at, text)
        reports.append({"comment_id": c["id"], "kind": kind, "style": bug.style})
        if table is not None and who in bug.ca_people:
            posted[:] = [
                {
                    "action": it["action"],
                    "due": it["due"],
                    "status": it["status"] if with_status else "unknown",
                }
                for it in table
            ]

    # comment 0
    if self_reported:
        if era == "seven_questions":
            add_report(reporter, t, "seven_questions", _seven_questions(bug, title, items, t), items)
        elif era == "v2":
            add_report(reporter, t, "v2_full", _v2_full(bug, title, items, t), items, with_status=False)
        else:
            add_report(reporter, t, "preliminary", _v3_prelim(bug, title, source))
    else:
        c0 = bug.comment(
            reporter,
            t,
            f"While checking crt.sh I found certificates from {spelling} that look wrong.\n\n{title}.",
        )
        role = "root_program" if reporter in ROOT_PROGRAM else "community"
        requests.append(
            {"kind": "question", "asked_at": c0["creation_time"], "asked_by": reporter, "asker_role": role}
        )
        bug.pending.append(requests[-1])
    # a placeholder assignee leaves only the CA-domain rule (METRICS.md §1 rule 2), which needs a CA name
    assignee = PLACEHOLDER if attributed and rng.random() < 0.05 else ca_people[0]
    # triage: root program assigns and confirms
    t += timedelta(hours=rng.randint(1, 48), seconds=rng.randint(0, 59))
    rp = rng.choice(ROOT_PROGRAM[:2])
    bug.change(rp, t, "whiteboard", "", wb_tags)
    bug.whiteboard = wb_tags
    tagged_at = format_bmo_time(t)
    bug.change(rp, t, "assigned_to", PLACEHOLDER, assignee)
    bug.change(rp, t, "status", "NEW", "ASSIGNED")
    bug.status = "ASSIGNED"
    ni_target = assignee if assignee != PLACEHOLDER else None
    if not self_reported:
        # the CA's first response answers comment 0
        t = datetime.fromisoformat(requests[0]["asked_at"].replace("Z", "+00:00")) + _delay(rng)
        t = max(
            t, datetime.fromisoformat(bug.history[-1]["when"].replace("Z", "+00:00")) + timedelta(minutes=1)
        )
        if era == "seven_questions":
            add_report(ca_people[0], t, "seven_questions", _seven_questions(bug, title, items, t), items)
        elif era == "v2":
            add_report(ca_people[0], t, "v2_full", _v2_full(bug, title, items, t), items, with_status=False)
        else:
            add_report(ca_people[0], t, "preliminary", _v3_prelim(bug, title, source))
    if tag == "audit-finding" and era != "seven_questions" and rng.random() < 0.6:
        # the auditor's finding in the audit template, posted by the CA beside its incident report
        t = max(t, opened) + timedelta(hours=rng.randint(2, 48), seconds=rng.randint(0, 3599))
        add_report(ca_people[0], t, "audit", _audit(bug, title))
    rounds = rng.randint(1, 5)
    ca_current_items = items
    full_posted = era != "v3"
    close_by: datetime | None = None  # set when the root program closes the bug before a next-update date
    for _ in range(rounds):
        if t > end - timedelta(days=2):
            break
        action = rng.random()
        if action < 0.45:
            # a question, maybe with a needinfo; community questions sometimes get a root-program follow-up
            t += timedelta(days=rng.randint(1, 20), seconds=rng.randint(0, 3599))
            asker = rng.choice(ROOT_PROGRAM + COMMUNITY)
            role = "root_program" if asker in ROOT_PROGRAM else "community"
            bug.comment(
                asker,
                t,
                "Could you explain why the linter did not catch this earlier, and when the fix ships?",
            )
            req = {"kind": "question", "asked_at": format_bmo_time(t), "asked_by": asker, "asker_role": role}
            requests.append(req)
            bug.pending.append(req)
            ni = None
            if role == "root_program" and ni_target and rng.random() < 0.5:
                bug.change(asker, t, "flagtypes.name", "", f"needinfo?({ni_target})")
                ni = {
                    "kind": "needinfo",
                    "asked_at": format_bmo_time(t),
                    "asked_by": asker,
                    "asker_role": role,
                    "requestee": ni_target,
                }
                requests.append(ni)
                bug.pending.append(ni)
                bug.open_flags[ni_target] = {"setter": asker, "at": t}
            if role == "community" and rng.random() < 0.3:
                t += timedelta(hours=rng.randint(2, 30))
                bug.comment(
                    rng.choice(ROOT_PROGRAM), t, "Adding to this: please include the certificate counts."
                )
            answer_at = t + _delay(rng)
            if answer_at > end or rng.random() < 0.08:
                break  # left unanswered: pending, or closed_unanswered if the bug closes below
            t = answer_at
            who = rng.choice(ca_people)
            bug.comment(
                who,
                t,
                "Thank you for the question. The linter lacked a rule for this field; the fix ships next week.",
            )
            if ni:
                bug.change(who, t, "flagtypes.name", f"needinfo?({ni_target})", "")
                bug.open_flags.pop(ni_target or "", None)
        elif action < 0.75:
            # a "Next update" date set by the root program, met or missed
            t += timedelta(days=rng.randint(1, 10), seconds=rng.randint(0, 3599))
            due = (t + timedelta(days=rng.randint(7, 30))).date()
            if obligations and due <= date.fromisoformat(obligations[-1]["due"]):
                due = date.fromisoformat(obligations[-1]["due"]) + timedelta(days=1)  # the date must change
            old_wb = bug.whiteboard
            new_wb = f"{wb_tags} {_fmt_next_update(due, rng.choice(WHITEBOARD_DATE_FORMS))}"
            bug.change(rng.choice(ROOT_PROGRAM[:2]), t, "whiteboard", old_wb, new_wb)
            bug.whiteboard = new_wb
            ob = {"set_at": format_bmo_time(t), "due": due.isoformat(), "answered_at": None}
            obligations.append(ob)
            end_of_d = datetime(due.year, due.month, due.day, 23, 59, 59, tzinfo=timezone.utc)
            t_moved = t + timedelta(hours=rng.randint(1, 72), seconds=rng.randint(0, 3599))
            if rng.random() < 0.15 and t_moved < end_of_d and t_moved < end:
                # the root program moves the date before it comes and before any answer: that one is superseded
                due = due + timedelta(days=rng.randint(3, 14))
                new_wb = f"{wb_tags} {_fmt_next_update(due, rng.choice(WHITEBOARD_DATE_FORMS))}"
                bug.change(rng.choice(ROOT_PROGRAM[:2]), t_moved, "whiteboard", bug.whiteboard, new_wb)
                bug.whiteboard = new_wb
                ob["state"] = "superseded"
                t = t_moved
                ob = {"set_at": format_bmo_time(t), "due": due.isoformat(), "answered_at": None}
                obligations.append(ob)
                end_of_d = datetime(due.year, due.month, due.day, 23, 59, 59, tzinfo=timezone.utc)
            met = rng.random() < 0.7
            if not met and era != "v3" and rng.random() < 0.2:
                # the root program closes the bug before the date comes, the CA silent: that one is closed
                close_by = t + timedelta(hours=rng.randint(1, 48), seconds=rng.randint(0, 3599))
                if close_by < end_of_d and close_by < end:
                    ob["state"] = "closed"
                    break
                close_by = None
            reply = (
                t + timedelta(hours=rng.randint(2, 24 * 6))
                if met
                else end_of_d + timedelta(days=rng.randint(1, 12))
            )
            if reply > end:
                break
            t = reply
            ob["answered_at"] = format_bmo_time(t)
            ca_current_items = [dict(it) for it in ca_current_items]
            for it in ca_current_items:
                if it["status"] in ("ongoing", "delayed", "not_complete") and rng.random() < 0.4:
                    if rng.random() < 0.5:
                        it["status"], it["status_raw"] = "complete", _status_raw(rng, "complete", it["due"])
                    else:
                        slipped = date.fromisoformat(it["due"]) + timedelta(days=rng.randint(7, 60))
                        it.update(
                            due=slipped.isoformat(),
                            due_raw=slipped.isoformat(),
                            status="delayed",
                            status_raw="Delayed",
                        )
            if era == "v3" and not full_posted:
                add_report(
                    ca_people[0],
                    t,
                    "v3_full",
                    _v3_full(bug, title, source, ca_current_items, t, rng.choice([None, bug_id - 7])),
                    ca_current_items,
                )
                full_posted = True
            else:
                rows = _table(
                    bug,
                    ["Action Item", "Kind", "Due Date", "Status"],
                    [[it["action"], it["kind"], it["due_raw"], it["status_raw"]] for it in ca_current_items],
                )
                bug.comment(
                    ca_people[1],
                    t,
                    f"Weekly update: work continues.\n\n{_heading(bug, 3, 'Action Items')}\n{rows}",
                )
                posted[:] = [
                    {"action": it["action"], "due": it["due"], "status": it["status"]}
                    for it in ca_current_items
                ]
        else:
            t += timedelta(days=rng.randint(1, 10), seconds=rng.randint(0, 3599))
            if t < end:
                bug.comment(
                    BOT, t, "This bug has had no activity for a while. The CA is reminded to post an update."
                )
    # closure (most bugs), with an occasional reopen
    closed = close_by is not None or (t < end - timedelta(days=20) and rng.random() < 0.8)
    if closed:
        if close_by is not None:
            t = close_by
        else:
            summary_at = None
            if era == "v3":
                t += timedelta(days=rng.randint(1, 15), seconds=rng.randint(0, 3599))
                add_report(ca_people[0], t, "closure", _closure(bug, title))
                summary_at = t
            t += timedelta(days=rng.randint(3, 30), seconds=rng.randint(0, 3599))
            # a question after the closure summary resumes the CA's duties (METRICS.md §10 D6); drawn from a
            # generator of its own so that every other bug of the corpus stays as it was
            drng = random.Random(bug_id * 7919 + 24)
            if summary_at is not None and drng.random() < 0.35:
                q_at = summary_at + timedelta(hours=drng.randint(12, 60), seconds=drng.randint(0, 59))
                if q_at < t - timedelta(hours=2) and q_at < end:
                    asker = drng.choice(ROOT_PROGRAM[:2])
                    bug.comment(asker, q_at, "Before the final call: were all affected certificates revoked?")
                    req = {"kind": "question", "asked_at": format_bmo_time(q_at), "asked_by": asker}
                    req["asker_role"] = "root_program"
                    requests.append(req)
                    bug.pending.append(req)
                    a_at = q_at + timedelta(hours=drng.randint(2, 240), seconds=drng.randint(0, 59))
                    if drng.random() < 0.6 and a_at < t - timedelta(hours=1) and a_at < end:
                        bug.comment(ca_people[0], a_at, "Yes: every affected certificate has been revoked.")
        if t < end:
            closer = ROOT_PROGRAM[0]
            bug.comment(closer, t, "Closing this bug; thank you for the report and the updates.")
            for req in bug.pending:
                req["closed_unanswered_at"] = format_bmo_time(t)
            bug.pending.clear()
            bug.change(closer, t, "status", bug.status, "RESOLVED")
            bug.change(closer, t, "resolution", "", "FIXED")
            bug.status = "RESOLVED"
            if close_by is None and rng.random() < 0.05 and t + timedelta(days=3) < end:
                t += timedelta(days=3)
                bug.change(closer, t, "status", "RESOLVED", "REOPENED")
                bug.change(closer, t, "resolution", "FIXED", "")
                bug.status = "REOPENED"
                t += timedelta(days=2)
                bug.comment(closer, t, "Closing again after the missing update was posted.")
                bug.change(closer, t, "status", "REOPENED", "RESOLVED")
                bug.change(closer, t, "resolution", "", "FIXED")
                bug.status = "RESOLVED"
    last_change = max(
        [opened]
        + [datetime.fromisoformat(c["creation_time"].replace("Z", "+00:00")) for c in bug.comments]
        + [datetime.fromisoformat(h["when"].replace("Z", "+00:00")) for h in bug.history]
    )
    is_open = bug.status not in ("RESOLVED", "VERIFIED", "CLOSED")
    flags = [
        {
            "id": bug_id * 10 + i,
            "name": "needinfo",
            "type_id": 800,
            "status": "?",
            "setter": f["setter"],
            "requestee": who,
            "creation_date": format_bmo_time(f["at"]),
            "modification_date": format_bmo_time(f["at"]),
        }
        for i, (who, f) in enumerate(bug.open_flags.items())
    ]
    groups = ["ca-confidential"] if rng.random() < 0.03 else []

    def user(email: str) -> dict[str, Any]:
        nick = email.split("@")[0]
        # zlib.crc32, not hash(): the built-in is salted per process, and the same seed must give the same bytes
        return {
            "id": zlib.crc32(email.encode()) % 900000 + 1000,
            "email": email,
            "name": email,
            "nick": nick,
            "real_name": nick.replace(".", " ").title(),
        }

    bug_obj: dict[str, Any] = {
        "id": bug_id,
        "alias": None,
        "summary": summary,
        "whiteboard": bug.whiteboard,
        "product": "CA Program" if opened.year >= 2022 or rng.random() < 0.2 else "NSS",
        "component": "CA Certificate Compliance",
        "classification": "Other",
        "status": bug.status,
        "resolution": "" if is_open else "FIXED",
        "is_open": is_open,
        "creation_time": format_bmo_time(opened),
        "last_change_time": format_bmo_time(last_change),
        "creator": reporter,
        "creator_detail": user(reporter),
        "assigned_to": assignee,
        "assigned_to_detail": user(assignee),
        "qa_contact": "",
        "cc": sorted(bug.cc | {reporter, assignee}),
        "cc_detail": [user(e) for e in sorted(bug.cc | {reporter, assignee})],
        "groups": groups,
        "flags": flags,
        "keywords": [],
        "blocks": [],
        "depends_on": [],
        "see_also": [],
        "dupe_of": None,
        "duplicates": [],
        "regressed_by": [],
        "regressions": [],
        "mentors": [],
        "mentors_detail": [],
        "priority": "--",
        "severity": "--",
        "type": "task",
        "version": "other",
        "op_sys": "Unspecified",
        "platform": "Unspecified",
        "target_milestone": "---",
        "url": "",
        "votes": 0,
        "comment_count": len(bug.comments),
        "is_confirmed": True,
        "is_cc_accessible": True,
        "is_creator_accessible": True,
        "cf_user_story": "",
        "cf_last_resolved": None if is_open else bug.history[-1]["when"],
    }
    # what the duties (METRICS.md §10) follow from: when the CA spoke, reported in full, summarised for closure
    by_id = {c["id"]: c for c in bug.comments}
    ca_reports = [
        (r["kind"], by_id[r["comment_id"]]) for r in reports if by_id[r["comment_id"]]["creator"] in ca_people
    ]
    fulls = [c for k, c in ca_reports if k in ("seven_questions", "v2_full", "v3_full")]
    v3_fulls = [c for k, c in ca_reports if k == "v3_full"]
    duty_events = {
        "creator_is_ca": reporter in ca_people,
        "ca_comments": [c["creation_time"] for c in bug.comments if c["creator"] in ca_people],
        "full_report_at": fulls[0]["creation_time"] if fulls else None,
        # the v3 report's "Non-compliance identified date": 5 days before it was posted (see _v3_full)
        "identified": (
            (datetime.fromisoformat(v3_fulls[0]["creation_time"][:-1]) - timedelta(days=5)).date().isoformat()
            if v3_fulls
            else None
        ),
        "closure_summaries": [c["creation_time"] for k, c in ca_reports if k == "closure"],
        "revocation_delay": tag.endswith("revocation-delay"),
        "opened_at": format_bmo_time(opened),
        "tagged_at": tagged_at,
    }
    # the assignee and whiteboard tags changed during the story: a bug with no next update keeps only tags
    truth = {
        "id": bug_id,
        "ca": ca,
        "ca_raw": spelling if attributed else None,
        "tags": tags,
        "self_reported": self_reported,
        "private": bool(groups),
        "reports": reports,
        "requests": requests,
        "obligations": obligations,
        "action_items": posted,
        "status": bug.status,
        "duty_events": duty_events,
    }
    bug.truth = truth
    rec = Record(bug=bug_obj, comments=bug.comments, history=bug.history)
    rec.truth = truth  # type: ignore[attr-defined]
    return rec


def synth(
    n: int, seed: int = 0, start: str = "2018-01-01", end: str = "2026-10-31", first_id: int = 1800000
) -> list[Record]:
    """Build n synthetic bugs deterministically from seed."""
    rng = random.Random(seed)
    s = datetime.fromisoformat(start).replace(tzinfo=timezone.utc)
    e = datetime.fromisoformat(end).replace(tzinfo=timezone.utc)
    return [_build_bug(first_id + i, random.Random(rng.getrandbits(64)), s, e) for i in range(n)]


def write_synth(
    n: int, seed: int, out: str | Path, start: str = "2018-01-01", end: str = "2026-10-31"
) -> tuple[int, Path]:
    """Write a synthetic corpus and its truth file (`truth.json` beside or inside `out`)."""
    records = synth(n, seed, start, end)
    count = write_corpus(records, out)
    p = Path(out)
    truth_path = p.with_name(p.stem + ".truth.json") if p.suffix == ".jsonl" else p / "truth.json"
    truth = {"seed": seed, "n": n, "start": start, "end": end, "bugs": [r.truth for r in records]}  # type: ignore[attr-defined]
    truth_path.write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    return count, truth_path
