"""Raw rows in, parsed records out: one bug's fields, comments and history become rows for every parsed table.

Pure apart from the worker set-up: no database here (bzmine/parsing.py reads the raw rows, runs the pool and
writes the records by column name, ROW_COLUMNS).
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime
from typing import Any

from bzmine.parse import PARSER_VERSION
from bzmine.parse.ca import CaTable, lineage_name, owner_status, parse_ca
from bzmine.parse.reports import parse_text
from bzmine.parse.review import BugContext, report_version, review_report
from bzmine.parse.whiteboard import parse_whiteboard
from bzmine.procs import die_with_parent
from bzmine.timeutil import utcnow

log = logging.getLogger(__name__)
CLOSED = {"RESOLVED", "VERIFIED", "CLOSED"}
COMMENT_TABLES = (
    "reports",
    "report_sections",
    "action_items",
    "timeline_events",
    "related_incidents",
    "bug_refs",
    "parse_failures",
    "whiteboard_changes",
    "incidents",
    "history_changes",
    "comment_meta",
    "bug_accounts",
    "report_findings",
)
ROW_COLUMNS: dict[str, tuple[str, ...]] = {
    # the fields of each record parse_bug_rows makes, in the order it makes them (written by name)
    "reports": (
        "bug_id",
        "comment_id",
        "report_no",
        "kind",
        "is_full",
        "posted_at",
        "author",
        "disclosure_source",
        "disclosure_source_norm",
        "ccadb_owner_id",
        "total_certificates",
        "remaining_valid_certificates",
        "issuance_stopped",
        "fields",
        "answers",
        "parser_version",
        "judged_version",
    ),
    "report_sections": ("bug_id", "comment_id", "report_no", "section", "text", "parser_version"),
    "action_items": (
        "bug_id",
        "comment_id",
        "report_no",
        "item_no",
        "posted_at",
        "author",
        "action",
        "kind",
        "root_causes",
        "evaluation_criteria",
        "due_raw",
        "due_date",
        "status_raw",
        "status",
        "parser_version",
    ),
    "timeline_events": (
        "bug_id",
        "comment_id",
        "report_no",
        "event_no",
        "event_at",
        "at_raw",
        "text",
        "parser_version",
        "zone",
        "utc_offset_minutes",
        "zone_assumed",
        "date_only",
        "planned",
    ),
    "related_incidents": (
        "bug_id",
        "comment_id",
        "report_no",
        "related_bug_id",
        "opened_date",
        "description",
        "parser_version",
    ),
    "bug_refs": (
        "bug_id",
        "comment_id",
        "ref_bug_id",
        "parser_version",
        "source",
        "kind",
        "span_start",
        "span_end",
    ),
    "parse_failures": ("bug_id", "comment_id", "reason", "parser_version"),
    "whiteboard_changes": (
        "bug_id",
        "changed_at",
        "who",
        "whiteboard",
        "tags",
        "next_update",
        "close_on",
        "parser_version",
    ),
    "incidents": (
        "bug_id",
        "ca_raw",
        "ca_key",
        "ca_alias",
        "ca",
        "title",
        "summary",
        "tags",
        "whiteboard_text",
        "next_update",
        "close_on",
        "opened_at",
        "closed_at",
        "status",
        "resolution",
        "is_open",
        "product",
        "is_visible",
        "parser_version",
        "creator",
        "assigned_to",
        "ca_owner",
        "sub_ca",
        "subject_kind",
        "owner_status",
        "resolved_at",
        "is_private",
        "lineage_name",
    ),
    "history_changes": (
        "bug_id",
        "seq",
        "change_no",
        "changed_at",
        "who",
        "field_name",
        "removed",
        "added",
        "parser_version",
    ),
    "comment_meta": ("bug_id", "comment_id", "count", "created_at", "author", "parser_version"),
    "bug_accounts": ("bug_id", "account", "account_id", "nick", "real_name", "parser_version"),
    "report_findings": (
        "bug_id",
        "comment_id",
        "report_no",
        "kind",
        "version",
        "rule_id",
        "severity",
        "evidence",
        "parser_version",
        "span_start",
        "span_end",
    ),
}
_DETAILS = ("creator_detail", "assigned_to_detail", "qa_contact_detail")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def _closed_at(status: str, created: datetime, changes: list[tuple[datetime, str, str]]) -> datetime | None:
    """The latest transition from an open status to a closed one, if the bug is closed now (METRICS P6)."""
    if status not in CLOSED:
        return None
    last = None
    for when, removed, added in changes:
        if added in CLOSED and removed not in CLOSED:
            last = when
    return last


def parse_bug_rows(
    bug: dict[str, Any],
    fetched: tuple[bool, datetime],
    history: list[dict[str, Any]],
    comments: list[tuple[int, datetime, str, str]],
    table: CaTable,
    today: str | None = None,
    accounts: dict[str, str] | None = None,
) -> dict[str, list[tuple[Any, ...]]]:
    """Every parsed row of one bug (pure: the caller reads and writes the database).

    accounts: local part -> full address and '#<account id>' -> full address, for servers that hide e-mails (see
    `account_map`); every account written is lower-cased and, when it has no '@', resolved through it (an id given
    by this bug's `*_detail` first, then this bug's own history values, then the harvest-wide local part).
    """
    v = PARSER_VERSION
    full = dict(accounts or {})
    if full or any("@" not in str(h.get("who") or "@") for h in history):
        # this bug's own history values first: a local part with one full address here is that address
        per_bug: dict[str, set[str]] = {}
        for h in history:
            for c in h.get("changes", []):
                for val in (c.get("removed"), c.get("added")):
                    for addr in _EMAIL.findall(str(val or "")):
                        per_bug.setdefault(addr.split("@")[0].lower(), set()).add(addr.lower())
        full.update({local: next(iter(a)) for local, a in per_bug.items() if len(a) == 1})
        # an account id known across the harvest (`account_map`) names the account whatever this bug shows
        for d in [bug.get(key) for key in _DETAILS] + list(bug.get("cc_detail") or []):
            if isinstance(d, dict) and isinstance(d.get("id"), int) and f"#{d['id']}" in full:
                local = str(d.get("email") or d.get("name") or "").lower()
                if local and "@" not in local:
                    full[local] = full[f"#{d['id']}"]

    def acc(value: Any) -> str:
        a = str(value or "").lower()
        return a if "@" in a or not a else full.get(a, a)

    out: dict[str, list[tuple[Any, ...]]] = {t: [] for t in COMMENT_TABLES}
    bug_id = bug["id"]
    created = datetime.fromisoformat(bug["creation_time"].replace("Z", ""))
    ca = parse_ca(bug.get("summary"), table)
    wb = parse_whiteboard(bug.get("whiteboard"))
    status_changes = []
    wb_rows = []
    first_wb_removed: str | None = None
    for seq, h in enumerate(history):
        when = datetime.fromisoformat(h["when"].replace("Z", ""))
        who = acc(h.get("who"))
        for n, c in enumerate(h.get("changes", [])):
            f = c.get("field_name")
            removed, added = c.get("removed"), c.get("added")
            if f == "assigned_to":  # BMO keeps full addresses here even when it hides them elsewhere
                removed, added = acc(removed) or removed, acc(added) or added
            out["history_changes"].append((bug_id, seq, n, when, who, f, removed, added, v))
            if f == "status":
                status_changes.append((when, c.get("removed", ""), c.get("added", "")))
            elif f == "whiteboard":
                if first_wb_removed is None:
                    first_wb_removed = c.get("removed", "")
                w = parse_whiteboard(c.get("added"))
                wb_rows.append(
                    (bug_id, when, h.get("who"), c.get("added"), w.tags, w.next_update, w.close_on, v)
                )
    initial = first_wb_removed if first_wb_removed is not None else bug.get("whiteboard", "")
    if initial:
        w = parse_whiteboard(initial)
        wb_rows.insert(
            0, (bug_id, created, bug.get("creator"), initial, w.tags, w.next_update, w.close_on, v)
        )
    out["whiteboard_changes"] = wb_rows
    summary = bug.get("summary") or ""
    title = summary.split(":", 1)[1].strip() if ca.raw and ":" in summary else summary
    status_today = None
    if ca.subject_kind == "ca":
        entry = next((e for e in table.owners if e.get("owner") == ca.owner), None) if ca.owner else None
        status_today = owner_status(entry, today or utcnow().date().isoformat()) if entry else "unknown"
    resolved = bug.get("cf_last_resolved")
    resolved_at = (
        datetime.fromisoformat(resolved.replace("Z", "")) if isinstance(resolved, str) and resolved else None
    )
    for ref, kind in _field_refs(bug):
        if ref != bug_id:
            out["bug_refs"].append((bug_id, None, ref, v, "field", kind, None, None))
    seen: set[str] = set()
    details = [bug.get(key) for key in _DETAILS] + list(bug.get("cc_detail") or [])
    for d in details:  # *_detail objects: with e-mails hidden, their id and nick still identify the account
        if isinstance(d, dict) and (d.get("email") or d.get("name")):
            a = acc(d.get("email") or d.get("name"))
            if a not in seen:
                seen.add(a)
                out["bug_accounts"].append(
                    (
                        bug_id,
                        a,
                        d.get("id") if isinstance(d.get("id"), int) else None,
                        (d.get("nick") or "").lower() or None,
                        d.get("real_name"),
                        v,
                    )
                )
    out["incidents"].append(
        (
            bug_id,
            ca.raw,
            ca.key,
            ca.name,
            ca.name,
            title,
            summary,
            wb.tags,
            wb.free_text,
            wb.next_update,
            wb.close_on,
            created,
            _closed_at(bug.get("status", ""), created, status_changes),
            bug.get("status"),
            bug.get("resolution"),
            bug.get("is_open"),
            bug.get("product"),
            fetched[0],
            v,
            acc(bug.get("creator")),
            acc(bug.get("assigned_to")),
            ca.owner,
            ca.sub_ca,
            ca.subject_kind,
            status_today,
            resolved_at,
            bool(bug.get("groups")),
            lineage_name(table, ca),
        )
    )
    kinds_seen: set[str] = set()
    tags = tuple(wb.tags)
    for n_c, (comment_id, posted, raw_author, text) in enumerate(comments):
        author = acc(raw_author)
        out["comment_meta"].append((bug_id, comment_id, n_c, posted, author, v))
        res = parse_text(text)
        for ref, start, end in res.bug_ref_spans:
            if ref != bug_id:
                out["bug_refs"].append((bug_id, comment_id, ref, v, "text", "cites", start, end))
        for reason in res.failures:
            out["parse_failures"].append((bug_id, comment_id, reason, v))
        for n, rep in enumerate(res.reports):
            f = rep.fields
            out["reports"].append(
                (
                    bug_id,
                    comment_id,
                    n,
                    rep.kind,
                    rep.is_full(),
                    posted,
                    author,
                    f.get("disclosure_source"),
                    f.get("disclosure_source_norm"),
                    f.get("ccadb_owner_id"),
                    f.get("total_certificates_count"),
                    f.get("remaining_valid_certificates_count"),
                    f.get("issuance_stopped_bool"),
                    json.dumps(f, ensure_ascii=False, default=str),
                    json.dumps(rep.answers, ensure_ascii=False),
                    v,
                    report_version(rep, posted),
                )
            )
            for name, body in rep.sections.items():
                out["report_sections"].append((bug_id, comment_id, n, name, body, v))
            ctx = BugContext(opened_at=created, tags=tags, first_of_kind=rep.kind not in kinds_seen)
            kinds_seen.add(rep.kind)
            later = [r.line for r in res.reports if r.line > rep.line]
            for fnd in review_report(rep, text, posted, ctx, min(later) if later else None):
                out["report_findings"].append(
                    (
                        bug_id,
                        comment_id,
                        n,
                        rep.kind,
                        fnd.version,
                        fnd.rule_id,
                        fnd.severity,
                        fnd.evidence,
                        v,
                        fnd.span_start,
                        fnd.span_end,
                    )
                )
            _items(out, bug_id, comment_id, n, posted, author, rep.action_items)
            for k, ev in enumerate(rep.timeline):
                at = datetime.fromisoformat(ev["at"].replace("Z", "")) if ev.get("at") else None
                out["timeline_events"].append(
                    (
                        bug_id,
                        comment_id,
                        n,
                        k,
                        at,
                        ev.get("at_raw"),
                        ev.get("text"),
                        v,
                        ev.get("zone"),
                        ev.get("utc_offset_minutes"),
                        ev.get("zone_assumed"),
                        ev.get("date_only"),
                        ev.get("planned"),
                    )
                )
            for rel in rep.related_incidents:
                out["related_incidents"].append(
                    (bug_id, comment_id, n, rel["bug_id"], rel.get("date"), rel.get("description"), v)
                )
                if rel["bug_id"] != bug_id:
                    out["bug_refs"].append(
                        (
                            bug_id,
                            comment_id,
                            rel["bug_id"],
                            v,
                            "related_table",
                            "related_incident",
                            None,
                            None,
                        )
                    )
        _items(out, bug_id, comment_id, -1, posted, author, res.action_items)
    return out


_SEE_ALSO_BUG = re.compile(r"(?:bugzilla\.mozilla\.org/show_bug\.cgi\?id=|bugzil\.la/)(\d{5,8})\b")


def _field_refs(bug: dict[str, Any]) -> list[tuple[int, str]]:
    """(bug id, kind) from the structured fields Bugzilla returns: dupe_of, depends_on, blocks, regressed_by, see_also."""
    refs: list[tuple[int, str]] = []

    def ints(value: Any) -> list[int]:
        items = value if isinstance(value, list) else [value]
        return [i for i in items if isinstance(i, int) and not isinstance(i, bool) and i > 0]

    refs += [(i, "duplicate") for i in ints(bug.get("dupe_of"))]
    refs += [(i, "depends") for i in ints(bug.get("depends_on"))]
    refs += [(i, "blocks") for i in ints(bug.get("blocks"))]
    refs += [(i, "regressed_by") for i in ints(bug.get("regressed_by"))]
    for url in bug.get("see_also") or []:
        for m in _SEE_ALSO_BUG.finditer(str(url)):
            refs.append((int(m.group(1)), "see_also"))
    return refs


def _items(
    out: dict[str, list[tuple[Any, ...]]],
    bug_id: int,
    comment_id: int,
    n: int,
    posted: datetime,
    author: str,
    items: list[dict[str, Any]],
) -> None:
    for k, it in enumerate(items):
        out["action_items"].append(
            (
                bug_id,
                comment_id,
                n,
                k,
                posted,
                author,
                it.get("action"),
                it.get("kind"),
                it.get("root_causes"),
                it.get("evaluation_criteria"),
                it.get("due_raw"),
                it.get("due_date"),
                it.get("status_raw"),
                it.get("status", "unknown"),
                PARSER_VERSION,
            )
        )


_TABLE: list[CaTable] = []


_ACCOUNTS: dict[str, str] = {}


def _init_worker(table: CaTable, parent: int | None = None, accounts: dict[str, str] | None = None) -> None:
    if parent is not None:
        die_with_parent(parent)
    _TABLE[:] = [table]
    _ACCOUNTS.clear()
    _ACCOUNTS.update(accounts or {})


def _parse_chunk(
    items: list[tuple[Any, ...]], table: CaTable | None = None, accounts: dict[str, str] | None = None
) -> tuple[dict[str, list[tuple[Any, ...]]], int]:
    """Pure: parse a chunk of bugs (runs in a worker process for large rebuilds)."""
    al = table if table is not None else _TABLE[0]
    rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in COMMENT_TABLES}
    n_comments = 0
    for bug_id, data, visible, fetched_at, hist, coms in items:
        try:
            per = parse_bug_rows(
                json.loads(data),
                (visible, fetched_at),
                [json.loads(h) for h in hist],
                coms,
                al,
                accounts=accounts if accounts is not None else _ACCOUNTS,
            )
        except (
            Exception
        ) as exc:  # one malformed bug (a summary that is an object, an impossible time) never stops the rest
            reason = f"bug not parsed: {type(exc).__name__}: {str(exc)[:300]}"
            rows["parse_failures"].append((bug_id, None, reason, PARSER_VERSION))
            continue
        for t, r in per.items():
            rows[t].extend(r)
        n_comments += len(coms)
    return rows, n_comments
