"""The rows of the report's long per-CA tables, written in Python (bzmine/report.py, _Cells), are the rows the
templates wrote cell by cell: the same text for hostile, missing and zero values, every cell escaped."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from jinja2 import Environment

from bzmine.report import _Cells, _fmt

# the row of each table as ca.html wrote it before the rows moved to Python (bzmine 0.1.0, commit d3bb467)
TEMPLATE_ROWS = {
    "bugs": (
        "b",
        "<tr><td data-sort=\"{{ b.bug_id }}\"><a href=\"{{ bug_url(b.bug_id) }}\">{{ b.bug_id }}</a>{{ hidden_mark(b.bug_id) }}</td><td class=\"wrap\">{{ b.summary }}{% if b.sub_ca %} (sub-CA: {{ b.sub_ca }}){% endif %}</td><td>{{ b.tags|join(' ') }}</td><td>{{ b.opened_at }}</td><td>{{ b.status_at }}</td><td>{{ b.resolution or '' }}</td><td>{{ b.closed_at or '' }}</td></tr>",
    ),
    "events": (
        "e",
        "<tr><td><a href=\"{{ bug_url(e.bug_id) }}\">{{ e.bug_id }}</a>{{ hidden_mark(e.bug_id) }}</td><td>{{ e.kind }}</td><td>{{ e.asked_at }}</td><td>{{ e.asked_by }}</td><td>{{ e.asker_role }}</td><td>{{ e.answered_at or '' }}</td><td>{{ e.state }}</td><td class=\"num {{ 'breach' if e.breach_7d else '' }}\" data-sort=\"{{ e.wait_hours }}\">{{ fmt(e.wait_hours) }}</td></tr>",
    ),
    "obligations": (
        "o",
        '<tr><td><a href="{{ bug_url(o.bug_id) }}">{{ o.bug_id }}</a>{{ hidden_mark(o.bug_id) }}</td><td>{{ o.set_at }}</td><td>{{ o.due }}</td><td>{{ o.state }}</td><td class="num">{{ fmt(o.days_late) }}</td></tr>',
    ),
    "duties": (
        "d",
        "<tr><td><a href=\"{{ bug_url(d.bug_id) }}\">{{ d.bug_id }}</a>{{ hidden_mark(d.bug_id) }}</td><td>{{ d.kind }}</td><td>{{ d.version or '' }}</td><td>{{ d.source }}</td><td>{{ d.strength or '' }}</td><td>{{ d.arises_at }}</td><td>{{ d.due_at or '' }}</td><td>{{ d.state }}</td><td>{{ d.answered_late_at or '' }}</td><td class=\"num\">{{ fmt(d.days_late) }}</td></tr>",
    ),
    "items": (
        "i",
        "<tr><td><a href=\"{{ bug_url(i.bug_id) }}\">{{ i.bug_id }}</a>{{ hidden_mark(i.bug_id) }}</td><td class=\"wrap\">{{ i.action }}</td><td>{{ i.kind or '' }}</td><td>{{ i.due_date or i.due_raw or '' }}</td><td>{{ i.status_raw or i.status }}</td><td>{{ 'yes' if i.is_overdue else '' }}</td><td class=\"num\">{{ i.due_date_slips }}</td></tr>",
    ),
}
EVIL = "<script>alert(\"x\")</script> & 'quoted'"
HIDDEN = {2: "private"}
BASE = "https://bugs.example/show_bug.cgi?a=1&id="


def bug_url(i: Any) -> str:  # as write_report defines it for the templates
    return f"{BASE}{int(i)}"


def hidden_mark(i: Any) -> str:
    return f" [{HIDDEN[int(i)]}]" if int(i) in HIDDEN else ""


def old_row(table: str, record: dict[str, Any]) -> str:
    var, row = TEMPLATE_ROWS[table]
    env = Environment(autoescape=True)
    return env.from_string(row).render(
        {var: record, "fmt": _fmt, "bug_url": bug_url, "hidden_mark": hidden_mark}
    )


T = dt.datetime(2024, 5, 6, 7, 8, 9)
RECORDS = {
    "bugs": [
        {
            "bug_id": 1,
            "summary": EVIL,
            "sub_ca": EVIL,
            "tags": [EVIL, "ca-compliance"],
            "opened_at": T,
            "status_at": "NEW",
            "resolution": None,
            "closed_at": None,
        },
        {
            "bug_id": 2,
            "summary": None,
            "sub_ca": None,
            "tags": [],
            "opened_at": None,
            "status_at": None,
            "resolution": "FIXED",
            "closed_at": T,
        },
    ],
    "events": [
        {
            "bug_id": 1,
            "kind": EVIL,
            "asked_at": T,
            "asked_by": EVIL,
            "asker_role": None,
            "answered_at": None,
            "state": "pending",
            "wait_hours": 1234.5678,
            "breach_7d": True,
        },
        {
            "bug_id": 2,
            "kind": "needinfo",
            "asked_at": None,
            "asked_by": None,
            "asker_role": "program",
            "answered_at": T,
            "state": "answered",
            "wait_hours": None,
            "breach_7d": None,
        },
        {
            "bug_id": 3,
            "kind": "question",
            "asked_at": T,
            "asked_by": "a",
            "asker_role": "community",
            "answered_at": T,
            "state": "answered",
            "wait_hours": 0.5,
            "breach_7d": False,
        },
    ],
    "obligations": [
        {"bug_id": 1, "set_at": T, "due": dt.date(2024, 1, 2), "state": EVIL, "days_late": 3.0},
        {"bug_id": 2, "set_at": None, "due": None, "state": None, "days_late": None},
    ],
    "duties": [
        {
            "bug_id": 1,
            "kind": EVIL,
            "version": None,
            "source": EVIL,
            "strength": "MUST",
            "arises_at": T,
            "due_at": None,
            "state": "missed",
            "answered_late_at": T,
            "days_late": 12.25,
        },
        {
            "bug_id": 2,
            "kind": "full_report",
            "version": "3.1",
            "source": None,
            "strength": None,
            "arises_at": None,
            "due_at": T,
            "state": "pending",
            "answered_late_at": None,
            "days_late": None,
        },
    ],
    "items": [
        {
            "bug_id": 1,
            "action": EVIL,
            "kind": None,
            "due_date": None,
            "due_raw": EVIL,
            "status_raw": None,
            "status": EVIL,
            "is_overdue": True,
            "due_date_slips": 0,
        },
        {
            "bug_id": 2,
            "action": None,
            "kind": "Prevent",
            "due_date": dt.date(2025, 1, 1),
            "due_raw": "Jan 2025",
            "status_raw": "Ongoing",
            "status": "open",
            "is_overdue": False,
            "due_date_slips": 2,
        },
        {
            "bug_id": 3,
            "action": "a",
            "kind": "",
            "due_date": None,
            "due_raw": None,
            "status_raw": "",
            "status": None,
            "is_overdue": None,
            "due_date_slips": None,
        },
    ],
}
METHOD = {"bugs": "bug", "events": "event", "obligations": "obligation", "duties": "duty", "items": "item"}


@pytest.mark.parametrize("table", list(RECORDS))
def test_rows_written_in_python_are_the_template_rows(table: str) -> None:
    cells = _Cells(BASE, HIDDEN)
    for record in RECORDS[table]:
        new = str(getattr(cells, METHOD[table])(record))
        assert new == old_row(table, record)
        assert "<script>" not in new and EVIL not in new  # hostile text arrives escaped


def test_a_row_links_by_bug_id_and_marks_a_hidden_bug() -> None:
    row = str(_Cells(BASE, HIDDEN).obligation(RECORDS["obligations"][1]))
    assert row == (
        '<tr><td><a href="https://bugs.example/show_bug.cgi?a=1&amp;id=2">2</a> [private]</td><td>None</td>'
        '<td>None</td><td>None</td><td class="num">-</td></tr>'
    )
