"""An order-independent digest of every metric layer (and due, due_program, the trend tables) at some as_of values and
both groupings, as JSON: run it with two trees on their two copies of one database and diff the outputs, to show that
a change to the views left every figure as it was.

PYTHONPATH=TREE python -m benchmarks.samefigures DB AS_OF [AS_OF ...] > digest.json

Doubles are rounded to 9 decimals (a parallel sum may differ in its last bits between runs); everything else is
hashed as it is. `bzmine_stale_days` is set so that due's stale rows are included.
"""

from __future__ import annotations

import json
import sys

from bzmine import metrics
from bzmine.database import open_for_reading


def main() -> None:
    db, *as_ofs = sys.argv[1:]
    out: dict[str, list[object]] = {}
    for as_of in as_ofs:
        for group in metrics.GROUPS:
            con = open_for_reading(db)
            metrics.snapshot(con, as_of, need=metrics.LAYERS, group=group)
            con.execute("SET VARIABLE bzmine_stale_days = 30")
            for name in [*metrics.LAYERS, "due", "due_program", "trend_medians", "trend_counts"]:
                cols = con.execute(
                    f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {name})"
                ).fetchall()
                exprs = ", ".join(
                    f'round("{c}", 9)' if t in ("DOUBLE", "FLOAT") else f'"{c}"' for c, t in cols
                )
                row = con.execute(
                    f"SELECT count(*), sum(hash({exprs}))::HUGEINT::VARCHAR FROM {name}"
                ).fetchone()
                out[f"{as_of}|{group}|{name}"] = list(row) if row else []
            con.close()
    print(json.dumps(out, indent=0, sort_keys=True))


if __name__ == "__main__":
    main()
