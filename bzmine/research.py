"""Paper tables: tidy, long-form CSVs a paper can cite as they are, each with a `*.meta.json` sidecar that traces it.

The figures come from the `paper_*` views (`bzmine/store/views/120_paper.sql`); this module only names them, adds
the metadata (as_of, data source and snapshot id, exclusions, versions, the definition of every column and
measure) and writes and reads the files. `bzmine paper-tables` and `notebooks/04_paper_tables` both call
`write_paper_tables`, so the CLI and the notebook give the same files for the same database, as_of and exclusions.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from bzmine.errors import ConfigError

# The columns every paper table has, in this order (a table may add attribute columns before `measure`).
COLUMNS: dict[str, tuple[str, str]] = {
    "period": ("VARCHAR", "The period: a year ('2024') or a quarter ('2024-Q1'), in UTC."),
    "period_kind": ("VARCHAR", "'year' or 'quarter': what `period` is."),
    "dimension": (
        "VARCHAR",
        "What the rows are broken down by: owner_status, subject, tag, owner, or 'all' (no breakdown).",
    ),
    "value": (
        "VARCHAR",
        "The dimension's value for this row (an owner, a tag, a status, ...; 'all' for 'all').",
    ),
    "measure": ("VARCHAR", "What `figure` is; each table's metadata defines its measures."),
    "figure": (
        "DOUBLE",
        "The number. Counts are whole numbers; empty (null) where the measure is undefined, e.g. a median or a "
        "share over no observations.",
    ),
}

NOT_A_CA = (
    "Bugs whose subject is not a CA are labelled 'not a CA: auditor', 'not a CA: program', 'not a CA: meta' or "
    "'not a CA: none named' in the owner and owner_status dimensions, so 'unknown' only ever means an owner "
    "status (the owner table records none for that owner) and 'unknown' in the subject dimension means no CA "
    "is named."
)

ZEROS = (
    "every period from the first bug of the bug set to the one holding as_of has a row for every value and measure: "
    "an empty period is a zero (a null for medians and shares), never a missing row."
)


@dataclass(frozen=True)
class PaperTable:
    """One paper table: the view it reads, what it shows, and its measures (name -> (unit, definition))."""

    view: str
    title: str
    description: str
    measures: dict[str, tuple[str, str]]
    dimension: str | None = None  # for views holding several dimensions: the one this table keeps
    extra: dict[str, tuple[str, str]] = field(default_factory=dict)  # attribute columns (name -> (type, def))


BUGS = ("count", "bugs opened in the period (by opened_at, UTC)")

TABLES: dict[str, PaperTable] = {
    "incidents_by_owner_status": PaperTable(
        "paper_incident_counts",
        "Incidents per year by owner status at as_of",
        "Bugs opened per year, by the standing of the bug's CA owner at as_of (included, distrusted, unknown). "
        + NOT_A_CA,
        {"bugs": BUGS},
        dimension="owner_status",
    ),
    "incidents_by_subject": PaperTable(
        "paper_incident_counts",
        "Incidents per year by subject",
        "Bugs opened per year by what the bug is about: ca, auditor, program, meta, unknown (no CA named).",
        {"bugs": BUGS},
        dimension="subject",
    ),
    "incidents_by_tag": PaperTable(
        "paper_incident_counts",
        "Incidents per year by whiteboard tag",
        "Bugs opened per year by whiteboard tag at as_of; a bug counts once under each of its tags ('no tag' "
        "without any), so the rows of a year add up to more than its bugs.",
        {"bugs": BUGS},
        dimension="tag",
    ),
    "incidents_by_owner": PaperTable(
        "paper_incidents_by_owner",
        "Incidents per year by owner, with owner status at as_of",
        "Bugs opened per year per CA owner (the CCADB owner today; the name as filed with group 'filed'), "
        "with the owner's status at as_of. " + NOT_A_CA,
        {"bugs": BUGS},
        extra={
            "owner_status": (
                "VARCHAR",
                "The owner's standing at as_of: included | distrusted | unknown (no record); 'not a CA: ...' "
                "for bugs not about a CA.",
            ),
            "subject_status": (
                "VARCHAR",
                "The standing at as_of of the CA the bug was filed about (lineage: Symantec stays distrusted "
                "though DigiCert owns it; view paper_subject_status); 'not a CA: ...' for bugs not about a CA.",
            ),
        },
    ),
    "delayed_revocation_per_quarter": PaperTable(
        "paper_revocation_delay",
        "Delayed-revocation bugs per quarter the tag was first added",
        "Bugs that carried a whiteboard tag containing 'revocation-delay' at any time up to as_of, per quarter "
        "in which such a tag was first added (whiteboard history), with how long they stayed open after it.",
        {
            "bugs": ("count", "bugs whose first revocation-delay tag was added in the quarter"),
            "still_open": ("count", "of those, open at as_of"),
            "closed": ("count", "of those, closed at as_of"),
            "median_days_tagged": (
                "days",
                "median days from the tag being added to the bug's closing (0 when tagged after closing), or to "
                "as_of while open",
            ),
            "median_days_tagged_to_close": ("days", "the same median over the closed bugs only"),
            "bugs_with_end_date": (
                "count",
                "bugs whose latest report (by as_of) gives both the non-compliance identified and end dates",
            ),
            "median_days_identified_to_end": (
                "days",
                "median days from the non-compliance identified date to its end (revocation complete), as reports "
                "give them; promised revocation dates are not parsed yet",
            ),
        },
    ),
    "self_reported_share": PaperTable(
        "paper_self_reported",
        "Self-reported incidents per year",
        "Per year of opening: how many bugs the CA reported itself.",
        {
            "bugs": BUGS,
            "self_reported": (
                "count",
                "bugs opened by an account speaking for the CA, or whose earliest report's disclosure source "
                "says Self (bug_metrics.self_reported)",
            ),
            "self_reported_share": ("share", "self_reported / bugs"),
            "bugs_with_source": (
                "count",
                "bugs with an incident report stating a disclosure source, posted by as_of",
            ),
            "source_self_share": (
                "share",
                "share of bugs_with_source whose earliest stated source is Self",
            ),
        },
    ),
    "days_to_close": PaperTable(
        "paper_days_to_close",
        "Time to close per year",
        "Per year of opening: bugs, how many were closed or open at as_of, and the median days to close.",
        {
            "bugs": BUGS,
            "bugs_closed": ("count", "of those, closed at as_of"),
            "still_open": ("count", "of those, open at as_of"),
            "median_days_to_close": (
                "days",
                "median of closed_at - opened_at over bugs closed at as_of with a known closing time",
            ),
        },
    ),
    "response_breaches": PaperTable(
        "paper_response_breaches",
        "Requests answered after 7 days, per year",
        "Per year of the bug's opening: requests waiting for a CA (questions and needinfos, docs/metrics.md) "
        "and those answered, or still waiting at as_of, after 7 days.",
        {
            "requests": ("count", "requests waiting for a CA, on bugs opened in the year"),
            "breaches_7d": ("count", "requests answered (or still waiting at as_of) after 7 days"),
            "breach_share": ("share", "breaches_7d / requests"),
        },
    ),
    "full_report_on_time": PaperTable(
        "paper_full_report_on_time",
        "Full incident reports on time, per year",
        "Per year of opening: bugs whose full report could be judged (opened on or after 2023-02-15, with a full "
        "report or still open at as_of) and those with a full report by a CA account within 14 days.",
        {
            "full_reports_evaluated": ("count", "bugs with bug_metrics.late_full_report known"),
            "on_time": (
                "count",
                "of those, a full report within 14 days (or open and not yet 14 days old at as_of)",
            ),
            "on_time_share": ("share", "on_time / full_reports_evaluated"),
        },
    ),
    "action_item_completion": PaperTable(
        "paper_action_item_completion",
        "Action items complete by their due date, per year of the due date",
        "Items of each bug's current action-item list (the latest CA table at as_of) with a due date before "
        "as_of, canceled items left out, per year of the due date.",
        {
            "items_due": ("count", "items due in the year (and before as_of)"),
            "complete_by_due": (
                "count",
                "items a CA table (same bug, matching action text) said were complete on or before the due date",
            ),
            "complete_by_due_share": ("share", "complete_by_due / items_due"),
            "complete_at_as_of": ("count", "items complete in the current list at as_of"),
            "complete_at_as_of_share": ("share", "complete_at_as_of / items_due"),
        },
    ),
    "disclosure_delay": PaperTable(
        "paper_disclosure_delay",
        "Disclosure delay per year",
        "Per year of opening, bugs opened by an account speaking for the CA whose first report gives a "
        "'non-compliance identified' date (v3 reports): opened_at minus that date (METRICS.md D1). Computed "
        "from the reports until the duties view (issue #24) provides disclosure_delay_hours. Negative when "
        "the report dates the identification after the bug was opened.",
        {
            "bugs_with_identified_date": ("count", "CA-opened bugs whose first report gives the date"),
            "median_disclosure_delay_hours": ("hours", "median of opened_at - identified date"),
            "over_72h": ("count", "bugs disclosed more than 72 hours after identification"),
            "over_72h_share": ("share", "over_72h / bugs_with_identified_date"),
        },
    ),
}

# the metric layers the paper views read (snapshot() materialises them, and what they depend on, once)
LAYERS_NEEDED = (
    "metric_bugs",
    "metric_tags_at",
    "tag_first_added",
    "bug_metrics",
    "response_events",
    "action_item_status",
    "metric_ca_items",
)


def columns(name: str) -> dict[str, tuple[str, str]]:
    """The columns of one paper table in order: name -> (type, definition)."""
    t = TABLES[name]
    out = {k: v for k, v in COLUMNS.items() if k not in ("measure", "figure")}
    out.update(t.extra)
    out["measure"] = COLUMNS["measure"]
    out["figure"] = COLUMNS["figure"]
    return out


def load_table(con: duckdb.DuckDBPyConnection, name: str) -> pd.DataFrame:
    """One paper table from its view (after metrics.snapshot), sorted by period, dimension, value, measure order."""
    t = TABLES[name]
    cols = ", ".join(columns(name))  # fixed names from TABLES, never user text
    order = {m: i for i, m in enumerate(t.measures)}
    where = "WHERE dimension = ?" if t.dimension else ""
    df = con.execute(f"SELECT {cols} FROM {t.view} {where}", [t.dimension] if t.dimension else []).df()
    df["_m"] = df["measure"].map(order)
    df = df.sort_values(["period", "value", "_m"], kind="stable").drop(columns="_m").reset_index(drop=True)
    return df


def paper_tables(
    con: duckdb.DuckDBPyConnection, as_of: Any = None, group: str = "owner"
) -> dict[str, pd.DataFrame]:
    """Every paper table (long form) for one as_of, under the exclusions set on this connection."""
    from bzmine.metrics import snapshot

    snapshot(con, as_of, need=LAYERS_NEEDED, group=group)
    return {name: load_table(con, name) for name in TABLES}


def provenance(con: duckdb.DuckDBPyConnection, source: str | Path | None = None) -> dict[str, Any]:
    """Where the figures come from: a snapshot (its id) or a database file (its name and last sync)."""
    out: dict[str, Any] = {"kind": "database", "name": None, "snapshot_id": None}
    if source is not None:
        from bzmine.snapshot import is_snapshot, read_manifest

        out["name"] = Path(source).name
        if is_snapshot(source):
            m = read_manifest(source, verify=False)
            out.update(kind="snapshot", snapshot_id=m.get("snapshot_id"))
    try:
        row = con.execute(
            "SELECT url, finished_at FROM sync_runs WHERE status = 'ok' ORDER BY run_id DESC LIMIT 1"
        ).fetchall()
    except duckdb.Error:
        row = []
    out["server"] = row[0][0] if row else None
    out["synced_at"] = row[0][1].isoformat() if row and row[0][1] else None
    out["bugs_harvested"] = con.execute("SELECT count(*) FROM raw_bugs").fetchall()[0][0]
    return out


def table_meta(
    con: duckdb.DuckDBPyConnection,
    name: str,
    df: pd.DataFrame,
    source: str | Path | None = None,
    group: str = "owner",
) -> dict[str, Any]:
    """The sidecar of one paper table: what it is, as_of, source, exclusions, versions, every column and measure."""
    from bzmine.metrics import DEFAULT_EXCLUSIONS, current_exclusions
    from bzmine.parse import PARSER_VERSION
    from bzmine.version import __version__

    t = TABLES[name]
    as_of = con.execute("SELECT as_of FROM metric_params").fetchall()[0][0]
    schema = con.execute("SELECT max(version) FROM schema_migrations").fetchall()[0][0]
    return {
        "table": name,
        "file": f"{name}.csv",
        "title": t.title,
        "description": t.description,
        "grain": "one row per period x value x measure (long form); " + ZEROS,
        "rows": len(df),
        "as_of": as_of.isoformat(),
        "group": group,
        "exclusions": {
            **current_exclusions(con),
            "resolution_taken_at": "as_of (from the bug's history)",
            "default": DEFAULT_EXCLUSIONS,
        },
        "source": provenance(con, source),
        "bzmine_version": __version__,
        "parser_version": PARSER_VERSION,
        "schema_version": schema,
        "sql_view": t.view + (f" WHERE dimension = '{t.dimension}'" if t.dimension else ""),
        "columns": [{"name": c, "type": ty, "description": d} for c, (ty, d) in columns(name).items()],
        "measures": {m: {"unit": u, "definition": d} for m, (u, d) in t.measures.items()},
    }


def _figure_text(value: Any, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if unit == "count":
        return str(int(value))
    return repr(float(value))


def write_table(df: pd.DataFrame, meta: dict[str, Any], out: str | Path) -> Path:
    """Write one table as `<name>.csv` (no index column; counts as whole numbers, other figures at full precision,
    nulls empty) beside `<name>.meta.json`; returns the CSV's path."""
    outdir = Path(out)
    outdir.mkdir(parents=True, exist_ok=True)
    units = {m: v["unit"] for m, v in meta["measures"].items()}
    text = df.copy()
    text["figure"] = [
        _figure_text(v, units.get(m, "")) for v, m in zip(df["figure"], df["measure"], strict=True)
    ]
    path = outdir / meta["file"]
    text.to_csv(path, index=False)
    (outdir / f"{meta['table']}.meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return path


def write_paper_tables(
    con: duckdb.DuckDBPyConnection,
    out: str | Path,
    as_of: Any = None,
    source: str | Path | None = None,
    group: str = "owner",
) -> dict[str, Path]:
    """Compute every paper table and write each as CSV + `.meta.json` into `out`; returns name -> CSV path."""
    tables = paper_tables(con, as_of, group)
    return {
        name: write_table(df, table_meta(con, name, df, source, group), out) for name, df in tables.items()
    }


def read_table(path: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A paper table CSV and its metadata, with the column types the metadata declares (the round trip of
    write_table: text columns stay text, e.g. an owner named 'NA'; empty text is null)."""
    csv = Path(path)
    meta_path = csv.with_name(csv.name.removesuffix(".csv") + ".meta.json")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{csv}: no readable metadata beside it ({meta_path.name}: {exc})") from None
    types = {c["name"]: c["type"] for c in meta["columns"]}
    df = pd.read_csv(
        csv,
        dtype={c: (float if t == "DOUBLE" else str) for c, t in types.items()},
        keep_default_na=False,
        na_values={c: [""] for c in types},
    )
    if list(df.columns) != list(types):
        raise ConfigError(f"{csv}: columns {list(df.columns)} differ from its metadata {list(types)}")
    for c, t in types.items():
        if t != "DOUBLE":
            df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df, meta


def load_bug_list(path: str | Path, db: str | Path) -> duckdb.DuckDBPyConnection:
    """A new database at `db` holding a saved bug list (or any corpus `bzmine serve-corpus` reads), parsed, without
    the network: the raw rows a sync would store, then `bzmine parse`."""
    from bzmine.corpus import load_corpus
    from bzmine.database import open_for_writing as connect
    from bzmine.parsing import reparse
    from bzmine.store import raw

    records = load_corpus(path)
    con = connect(db)
    con.execute("BEGIN TRANSACTION")
    raw.upsert_bugs(
        con, [{**r.bug, "comments": r.comments, "history": r.history} for r in records.values()], 1
    )
    con.execute("COMMIT")
    reparse(con, quiet=True)
    return con


def _observatory_name(summary: str) -> str | None:
    """The CA name the WebPKI Observatory reads off a summary (its METHODOLOGY: the text before the first colon,
    a leading [tag] dropped, [meta] bugs and implausible lengths not counted)."""
    if summary.startswith("[meta]") or ":" not in summary:
        return None
    name = re.sub(r"^\[.*?\]\s*", "", summary.split(":", 1)[0].strip())
    return name if 2 < len(name) < 80 else None


def observatory_counts(folder: str | Path) -> pd.DataFrame:
    """Bugs per creation year in the Observatory's data (`bugs_raw.json`, `bugzilla_ca_mappings.json`) and the count
    its published yearly totals use: bugs whose summary names a CA that its mapping lists and not as distrusted.
    Columns: period, bugs_listed, observatory, no_ca_name, unmapped_name, distrusted_owner (the last three: bugs
    its rule leaves out, and why)."""
    base = Path(folder)
    bugs = json.loads((base / "bugs_raw.json").read_text(encoding="utf-8"))
    bugs = bugs.get("bugs", bugs) if isinstance(bugs, dict) else bugs
    mappings = json.loads((base / "bugzilla_ca_mappings.json").read_text(encoding="utf-8")).get(
        "mappings", {}
    )
    rows: dict[str, dict[str, int]] = {}
    for b in bugs:
        year = str(b.get("creation_time", ""))[:4]
        r = rows.setdefault(
            year,
            {"bugs_listed": 0, "observatory": 0, "no_ca_name": 0, "unmapped_name": 0, "distrusted_owner": 0},
        )
        r["bugs_listed"] += 1
        name = _observatory_name(str(b.get("summary") or ""))
        entry = mappings.get(name) if name else None
        if name is None:
            r["no_ca_name"] += 1
        elif not isinstance(entry, dict):
            r["unmapped_name"] += 1
        elif entry.get("status") == "distrusted":
            r["distrusted_owner"] += 1
        else:
            r["observatory"] += 1
    return pd.DataFrame([{"period": y, **v} for y, v in sorted(rows.items())])


def compare_with_observatory(
    folder: str | Path,
    workdir: str | Path,
    as_of: Any = None,
    resolutions: list[str] | tuple[str, ...] | None = None,
    only_ca: bool = False,
) -> pd.DataFrame:
    """Per creation year: bugzilla (bugs in the Observatory's bug list), bzmine (the paper tables' total on a database
    of that same list, under these exclusions), bzmine_ca (of those, bugs about a CA), observatory (its counting
    rule), and why the Observatory's count is lower (no_ca_name, unmapped_name, distrusted_owner); `gap` =
    bzmine - observatory, and `explained` says whether the reasons (and bzmine's exclusions) account for all of it."""
    from bzmine.metrics import set_exclusions

    obs = observatory_counts(folder)
    con = load_bug_list(Path(folder) / "bugs_raw.json", Path(workdir) / "observatory.duckdb")
    try:
        set_exclusions(con, resolutions or (), only_ca)
        subj = paper_tables(con, as_of)["incidents_by_subject"]
    finally:
        con.close()
    mine = subj.groupby("period").figure.sum().rename("bzmine")
    ca = subj[subj.value == "ca"].set_index("period").figure.rename("bzmine_ca")
    out = obs.merge(mine, left_on="period", right_index=True, how="outer").merge(
        ca, left_on="period", right_index=True, how="outer"
    )
    out = out.fillna(0)
    num = [c for c in out.columns if c != "period"]
    out[num] = out[num].astype(int)
    out["gap"] = out["bzmine"] - out["observatory"]
    out["ca_gap"] = out["bzmine_ca"] - out["observatory"]
    cols = ["period", "bugs_listed", "bzmine", "bzmine_ca", "observatory", "gap"]
    return out[cols + ["no_ca_name", "unmapped_name", "distrusted_owner", "ca_gap"]].reset_index(drop=True)


def observatory_summary(cmp: pd.DataFrame) -> str:
    """In words: the totals, and for the years where bzmine and the Observatory differ most, what the difference is."""
    t = cmp[[c for c in cmp.columns if c != "period"]].sum()
    lines = [
        f"{int(t.bugs_listed)} bugs in the Observatory's list; bzmine counts {int(t.bzmine)} "
        f"({int(t.bugs_listed - t.bzmine)} left out by the exclusions), of them {int(t.bzmine_ca)} about a CA; "
        f"the Observatory's rule counts {int(t.observatory)}.",
        f"Its rule leaves out {int(t.no_ca_name)} bugs whose summary names no CA before a colon ([meta] and similar), "
        f"{int(t.unmapped_name)} whose name its hand-made mapping does not list, and {int(t.distrusted_owner)} of "
        "distrusted owners (its yearly totals cover currently trusted CAs).",
        f"bzmine's 'about a CA' differs from its rule by {int(t.ca_gap):+d}: bzmine keeps distrusted owners and "
        "recognises spellings through its own owner table, and sets auditor, program and meta bugs apart by rule.",
    ]
    worst = cmp.reindex(cmp["gap"].abs().sort_values(ascending=False).index).head(3)
    for r in worst.itertuples():
        if r.gap:
            lines.append(
                f"{r.period}: bzmine {r.bzmine}, Observatory {r.observatory} ({r.gap:+d}: {r.no_ca_name} no CA name, "
                f"{r.unmapped_name} unmapped, {r.distrusted_owner} distrusted; {r.bugs_listed - r.bzmine} excluded by bzmine)."
            )
    return "\n".join(lines)
