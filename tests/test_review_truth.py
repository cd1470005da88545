"""bzmine review against reports written for it with planted defects (tests/data/review_truth, issue 25).

The truth file names, for each report, the defects a reviewer would flag under the guideline in force (judged by
reading the guideline, in words beside each label); this test measures how many of them bzmine finds (recall) and
how many of its findings are real (precision), counting each (report, rule) pair once."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from bzmine.parse.review import BugContext, review_text

TRUTH = Path(__file__).parent / "data" / "review_truth"


def _score() -> tuple[int, int, int, list[str]]:
    truth = json.loads((TRUTH / "truth.json").read_text(encoding="utf-8"))["reports"]
    tp = fp = fn = 0
    notes: list[str] = []
    for name, t in truth.items():
        ctx = BugContext(opened_at=datetime.fromisoformat(t["opened"]), tags=tuple(t["tags"]))
        rows = review_text(
            (TRUTH / name).read_text(encoding="utf-8"), datetime.fromisoformat(t["posted"]), ctx
        )
        assert rows and all(r["outcome"] in ("findings", "clean") for r in rows), (name, rows)
        got = {r["rule_id"] for r in rows if r.get("rule_id")}
        want = set(t["defects"])
        tp, fp, fn = tp + len(got & want), fp + len(got - want), fn + len(want - got)
        notes += [f"{name}: unexpected {r}" for r in sorted(got - want)]
        notes += [f"{name}: missed {r}" for r in sorted(want - got)]
    return tp, fp, fn, notes


def test_corpus_is_large_and_varied() -> None:
    truth = json.loads((TRUTH / "truth.json").read_text(encoding="utf-8"))["reports"]
    assert len(truth) >= 30
    names = " ".join(truth)
    for kind in ("7q", "v2_", "v2_prelim", "v3_prelim", "v3_full", "v3_closure", "audit", "rendered", "md"):
        assert kind in names, kind
    assert sum(1 for t in truth.values() if not t["defects"]) >= 5  # clean reports keep precision honest
    assert sum(len(t["defects"]) for t in truth.values()) >= 40


def test_recall_and_precision_on_the_planted_defects() -> None:
    tp, fp, fn, notes = _score()
    recall, precision = tp / (tp + fn), tp / (tp + fp)
    assert recall >= 0.9 and precision >= 0.95, (recall, precision, notes)
