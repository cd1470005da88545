"""`bzmine status`: a short account of what the database holds and what needs attention."""

from __future__ import annotations

import duckdb

from bzmine.database import open_for_reading, upgrade_message, upgrade_needed
from bzmine.errors import SchemaError


def status_lines(db: str) -> list[str]:
    """Lines for the status report (read-only, in any state: an old or half-synced file says what it needs)."""
    con = open_for_reading(db, check=False)
    try:
        need = upgrade_needed(con)
        if need and ("not a bzmine database" in need or "newer bzmine" in need):
            raise SchemaError(upgrade_message(db, need))

        def one(sql: str) -> object:
            row = con.execute(sql).fetchone()
            return row[0] if row else None

        lines = [f"database: {db}"]
        if need:  # the raw tables below are read all the same; the parsed ones wait for the writer
            lines.append(f"needs: {upgrade_message(db, need)}")
        private = one("SELECT count(*) FROM raw_bugs WHERE json_array_length(data->'groups') > 0")
        lines.append(
            f"bugs: {one('SELECT count(*) FROM raw_bugs')} "
            f"({one('SELECT count(*) FROM raw_bugs WHERE NOT is_visible')} no longer visible, {private} private)"
        )
        lines.append(
            f"comments: {one('SELECT count(*) FROM raw_comments')}, history entries: {one('SELECT count(*) FROM raw_history')}"
        )
        wm = one("SELECT value FROM sync_state WHERE key = 'watermark'")
        lines.append(f"watermark: {wm or 'none (never synced)'}")
        runs = con.execute(
            "SELECT run_id, mode, status, started_at, finished_at, bugs_new, bugs_changed, requests, error "
            "FROM sync_runs ORDER BY run_id DESC LIMIT 3"
        ).fetchall()
        for r in runs:
            err = f" error: {r[8]}" if r[8] else ""
            lines.append(
                f"run {r[0]}: {r[1]} {r[2]}, started {r[3]:%Y-%m-%d %H:%M:%S}, {r[5]} new, {r[6]} changed, {r[7]} requests{err}"
            )
        skipped = con.execute("SELECT bug_id, reason FROM sync_skipped ORDER BY bug_id").fetchall()
        if skipped:
            lines.append(f"skipped bugs ({len(skipped)}; retried on the next sync):")
            lines += [f"  {b}: {why}" for b, why in skipped]
        invisible = con.execute("SELECT bug_id FROM raw_bugs WHERE NOT is_visible ORDER BY bug_id").fetchall()
        if invisible:
            lines.append(
                "no longer visible (private now, or left the bug set): "
                + ", ".join(str(r[0]) for r in invisible)
            )
        if need:
            return lines
        hidden = one(
            "SELECT count(*) FROM raw_comments WHERE coalesce(data->>'creator', data->>'author') NOT LIKE '%@%'"
        )
        if hidden and _has_table(con, "comment_meta"):
            total = int(str(one("SELECT count(*) FROM comment_meta") or 0))
            unresolved = int(str(one("SELECT count(*) FROM comment_meta WHERE author NOT LIKE '%@%'") or 0))
            share = 100.0 * unresolved / total if total else 0.0
            lines.append(
                f"warning: Bugzilla hid e-mail addresses (anonymous sync): the authors of {unresolved} of {total} "
                f"comments ({share:.1f} %) stayed unresolved (no full address in history values, by account id, "
                "or as a listed role account); their roles fall back to the local part (docs/metrics.md). "
                "An API key fixes it: sync again with BUGZILLA_API_KEY set."
            )
        if _has_table(con, "incidents"):
            lines += _inferred_lines(con)
        if _has_table(con, "incidents"):
            kinds = con.execute(
                "SELECT coalesce(subject_kind, 'unknown'), count(*) FROM incidents GROUP BY 1 ORDER BY 2 DESC"
            ).fetchall()
            owners = one("SELECT count(DISTINCT ca_owner) FROM incidents WHERE subject_kind = 'ca'")
            lines.append(f"subjects: {', '.join(f'{n} {k}' for k, n in kinds)}; {owners} CA owners")
            unattributed = con.execute(
                "SELECT bug_id FROM incidents WHERE coalesce(subject_kind, 'unknown') = 'unknown' "
                "ORDER BY bug_id"
            ).fetchall()
            if unattributed:
                lines.append(
                    f"bugs naming no CA (left out of per-CA figures): {', '.join(str(r[0]) for r in unattributed)}"
                )
            failures = one("SELECT count(*) FROM parse_failures")
            lines.append(f"parse failures: {failures}")
        return lines
    finally:
        con.close()


def _inferred_lines(con) -> list[str]:  # type: ignore[no-untyped-def]
    """Accounts of root-store operators' domains and how the behaviour rule classified them (docs/ca-identity.md)."""
    try:
        rows = con.execute(
            "SELECT account, program, classified, root_program_bugs, bugs FROM root_program_inferred "
            "ORDER BY program, account"
        ).fetchall()
    except duckdb.Error:  # a database made by an older bzmine without the view: nothing to list
        return []
    rp = [r for r in rows if r[2] == "root_program" and r[3]]
    own = [r for r in rows if r[2] == "speaks for its company's CA"]

    def n(k: int) -> str:
        return f"{k} bug" if k == 1 else f"{k} bugs"

    out = []
    if rp:
        out.append(
            f"root program by behaviour ({len(rp)} accounts of root-store operators' domains that never speak for "
            "their company's CA; correct with a roles file, docs/ca-identity.md):"
        )
        out += [f"  {a} ({p}, {n(k)})" for a, p, _, k, _ in rp]
    if own:
        out.append(
            f"speak for their company's CA, so community on other CAs' bugs ({len(own)}): "
            + ", ".join(f"{a} ({p}, {n(b)})" for a, p, _, _, b in own)
        )
    return out


def _has_table(con, name: str) -> bool:  # type: ignore[no-untyped-def]
    return bool(
        con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()[
            0
        ]
    )
