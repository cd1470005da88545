"""The data dictionary (`docs/data-dictionary.md`): every table and view a user can query, every column with its type
and meaning, and the formats of the files bzmine writes (snapshot manifest, paper-table metadata).

Generated, never written by hand: relations and types come from a freshly migrated database (the schema and the
views as this bzmine creates them); a relation's description is the comment block above its CREATE statement in
`bzmine/store/migrations/` or `bzmine/store/views/`; a column's meaning is, in this order, an entry
`"relation.column"` in `bzmine/data/data_dictionary.json`, the column's inline comment in its migration, the
scorecard figure it is (view `scorecard_figures`), or the entry for its name in that file. A column none of these
describe is an error (`tests/test_dictionary.py`): after adding a column, describe it and run `make docs` (or
`python -m bzmine.dictionary --write docs/data-dictionary.md`).
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb

from bzmine.store.db import sql_files

_CREATE = re.compile(r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(TABLE|VIEW)\s+(\w+)", re.IGNORECASE)
_COLUMN = re.compile(r"^\s+(\w+)\s+[A-Z][A-Z0-9_\[\]]*.*?--\s*(.+)$")
_ADD = re.compile(r"^\s*ALTER TABLE (\w+) ADD COLUMN (\w+) [^-]*--\s*(.+)$", re.IGNORECASE)


@dataclass
class Relation:
    name: str
    kind: str  # table | view
    source: str  # the SQL file that creates it
    description: str
    columns: list[tuple[str, str, str | None]]  # name, type, meaning (None: undocumented)


def _glossary() -> dict[str, dict[str, str]]:
    text = resources.files("bzmine.data").joinpath("data_dictionary.json").read_text(encoding="utf-8")
    data: dict[str, dict[str, str]] = json.loads(text)
    return data


def _comments() -> tuple[dict[str, tuple[str, str]], dict[tuple[str, str], str]]:
    """From the SQL files: relation -> (file, comment block above its CREATE); (table, column) -> inline comment."""
    rel: dict[str, tuple[str, str]] = {}
    cols: dict[tuple[str, str], str] = {}
    for folder in ("migrations", "views"):
        for fname, sql in sql_files(folder):
            block: list[str] = []
            table = None
            for line in sql.splitlines():
                m = _CREATE.match(line)
                if m:
                    name = m[2]
                    if name not in rel or block:
                        rel[name] = (f"{folder}/{fname}", " ".join(block))
                    table = name if m[1].upper() == "TABLE" else None
                    block = []
                    continue
                if line.startswith("--"):
                    block.append(line[2:].strip())
                    continue
                block = []
                if table and line.strip().startswith(")"):
                    table = None
                c = _COLUMN.match(line) if table else None
                if c and c[1].upper() not in ("PRIMARY", "UNIQUE", "FOREIGN"):
                    cols[(table or "", c[1])] = c[2].strip()
                a = _ADD.match(line)
                if a:
                    cols[(a[1], a[2])] = a[3].strip()
    return rel, cols


def relations(con: duckdb.DuckDBPyConnection | None = None) -> list[Relation]:
    """Every base table and view of a migrated database with views, described (a fresh one when con is None)."""
    if con is None:
        from bzmine.store.db import connect

        with tempfile.TemporaryDirectory() as d:
            fresh = connect(Path(d) / "dictionary.duckdb")
            try:
                return relations(fresh)
            finally:
                fresh.close()
    gloss = _glossary()
    rel_comments, inline = _comments()
    figures = {
        f: f"{label} ({unit}; {direction.replace('_', ' ')}): scorecard figure, docs/metrics.md 'Scorecard'"
        for f, label, unit, direction in con.execute(
            "SELECT figure, label, unit, direction FROM scorecard_figures"
        ).fetchall()
    }
    rows = con.execute(
        """SELECT t.table_name, t.table_type, c.column_name, c.data_type
           FROM information_schema.tables t JOIN information_schema.columns c USING (table_schema, table_name)
           WHERE t.table_schema = 'main' ORDER BY t.table_name, c.ordinal_position"""
    ).fetchall()
    out: dict[str, Relation] = {}
    for table, ttype, col, dtype in rows:
        if table not in out:
            src, text = rel_comments.get(table, ("", ""))
            desc = gloss["relations"].get(table) or text
            kind = "view" if ttype == "VIEW" else "table"
            out[table] = Relation(table, kind, src, desc, [])
        meaning = (
            gloss["overrides"].get(f"{table}.{col}")
            or inline.get((table, col))
            or (figures.get(col) if table in ("scorecard",) else None)
            or gloss["columns"].get(col)
        )
        out[table].columns.append((col, dtype, meaning))
    return list(out.values())


def undocumented(rels: list[Relation]) -> list[str]:
    """'relation.column' for every column without a meaning, and 'relation' for relations without a description."""
    bad = [r.name for r in rels if not r.description]
    bad += [f"{r.name}.{c}" for r in rels for c, _, m in r.columns if not m]
    return bad


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


MANIFEST_FIELDS = [
    (
        "snapshot_id",
        "text",
        "SHA-256 (hex) over the manifest's whole content (every field but this one, keys sorted): editing any field, "
        "or any file (through its entry in `tables`), changes it; every reader recomputes it and refuses a difference.",
    ),
    (
        "data_id",
        "text",
        "SHA-256 (hex) over the raw and parsed tables' entries of `tables` only: a sync that changes no data keeps "
        "it, while `snapshot_id` names that harvest.",
    ),
    ("format", "integer", "The manifest format (readers refuse another one: cut the snapshot again)."),
    ("bzmine_version", "text", "The bzmine version that wrote the snapshot."),
    ("parser_version", "integer", "PARSER_VERSION of the parsers that filled the parsed tables."),
    (
        "schema_version",
        "integer",
        "The highest migration number applied to the database (schema_migrations).",
    ),
    ("server", "text or null", "The Bugzilla REST URL of the last successful sync (sync_runs.url)."),
    ("synced_at", "ISO time or null", "When that sync finished (UTC, no offset)."),
    (
        "as_of",
        "ISO time or null",
        "The as_of the snapshot was cut for (`--as-of`), UTC; null when none was given.",
    ),
    ("private_bugs", "text", "'left out' (default) or 'included' (`--include-private`)."),
    ("bugs", "integer", "Rows of raw_bugs in the snapshot."),
    (
        "tables",
        "object",
        'One entry per base table: {"file": "<table>.parquet", "rows": N, "sha256": hex of the file}.',
    ),
]


def markdown(rels: list[Relation] | None = None) -> str:
    """The whole dictionary as Markdown."""
    from bzmine import research

    rels = relations() if rels is None else rels
    lines = [
        "# Data dictionary",
        "",
        "Generated by `python -m bzmine.dictionary --write docs/data-dictionary.md` (part of `make docs`) from the "
        "schema and the view definitions; do not edit by hand. Every table and view below can be queried with "
        "`bzmine sql` or in Python (`bzmine.connect(DB)`); views are computed at `as_of` (docs/metrics.md). "
        "Descriptions come from the SQL comments and `bzmine/data/data_dictionary.json`.",
        "",
        f"{sum(r.kind == 'table' for r in rels)} tables, {sum(r.kind == 'view' for r in rels)} views, "
        f"{sum(len(r.columns) for r in rels)} columns.",
        "",
        "| relation | kind | defined in |",
        "|---|---|---|",
    ]
    lines += [f"| [`{r.name}`](#{r.name}) | {r.kind} | `{r.source}` |" for r in rels]
    for r in rels:
        lines += ["", f"## {r.name}", "", f"{r.kind}, `bzmine/store/{r.source}`. {_cell(r.description)}", ""]
        lines += ["| column | type | meaning |", "|---|---|---|"]
        lines += [f"| `{c}` | {t} | {_cell(m or 'UNDOCUMENTED')} |" for c, t, m in r.columns]
    lines += [
        "",
        "## Snapshot manifest (`manifest.json`)",
        "",
        "`bzmine snapshot --out DIR` writes every base table as `DIR/<table>.parquet` and `DIR/manifest.json`, a JSON "
        "object with these keys (as `bzmine/snapshot.py` writes them):",
        "",
        "| key | type | meaning |",
        "|---|---|---|",
    ]
    lines += [f"| `{k}` | {t} | {_cell(d)} |" for k, t, d in MANIFEST_FIELDS]
    lines += [
        "",
        "Reading a snapshot (`--db DIR`, `bzmine.connect(DIR)`) recomputes both ids and checks every file's SHA-256 "
        "and row count against `tables`; it refuses a changed, missing, unlisted or symlinked file, a path outside "
        "the folder, and an edited or unknown field, each in one line.",
        "",
        "## Paper tables (`<table>.csv` + `<table>.meta.json`)",
        "",
        "`bzmine paper-tables` and `notebooks/04_paper_tables` write each paper table (views `paper_*`) as a long "
        "CSV with these columns (a table may add attribute columns before `measure`; its metadata lists them):",
        "",
        "| column | type | meaning |",
        "|---|---|---|",
    ]
    lines += [f"| `{c}` | {t} | {_cell(d)} |" for c, (t, d) in research.COLUMNS.items()]
    lines += [
        "",
        "The sidecar `<table>.meta.json` holds: `table`, `file`, `title`, `description`, `grain`, `rows`, `as_of`, "
        "`group`, `exclusions` (`excluded_resolutions`, `only_ca_subjects`, `resolution_taken_at`, `default`), "
        "`source` (`kind` database|snapshot, `name`, `snapshot_id`, `server`, `synced_at`, `bugs_harvested`), "
        "`bzmine_version`, `parser_version`, `schema_version`, `sql_view`, `columns` (name, type, description, in "
        "CSV order) and `measures` (name -> unit, definition). `bzmine.research.read_table(csv)` reads both back.",
        "",
        "| table | measures |",
        "|---|---|",
    ]
    lines += [f"| `{n}` | {', '.join(t.measures)} |" for n, t in research.TABLES.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """`--write PATH`: regenerate the file; `--check PATH`: exit 1 when it is stale or a column is undocumented."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] not in ("--write", "--check"):
        print("usage: python -m bzmine.dictionary --write|--check docs/data-dictionary.md", file=sys.stderr)
        return 2
    rels = relations()
    missing = undocumented(rels)
    if missing:
        print(
            "undocumented (describe them in bzmine/data/data_dictionary.json or an SQL comment): "
            + ", ".join(missing),
            file=sys.stderr,
        )
        return 1
    text = markdown(rels)
    path = Path(args[1])
    if args[0] == "--write":
        path.write_text(text, encoding="utf-8")
        print(f"{path}: {len(rels)} relations")
        return 0
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        print(f"{path} is stale: run `make docs`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
