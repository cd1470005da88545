"""Metrics for notebooks and the CLI: functions that read the metric views and return DataFrames.

The definitions live in SQL (`bzmine/store/views/*.sql`, one view per metric, METRICS.md). Views are
parameterised by DuckDB variables (as_of, since, until). Because every metric builds on the same
layers (roles, comments with roles, status timeline, ...), `snapshot()` computes each layer once into a
TEMP table of the same name, which shadows the view for the rest of the connection: the figures are
the views' figures, computed once per as_of.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import duckdb

from bzmine.errors import ConfigError
from bzmine.timeutil import to_timestamp

if TYPE_CHECKING:  # pandas is imported where a DataFrame is made: the CLI's table path never loads it
    import pandas as pd

# dependency order: each layer reads only layers above it
LAYERS = (
    "metric_status_changes",
    "metric_bugs",
    "metric_assignees",
    "metric_rule1",
    "metric_ca_domains",
    "metric_actors",
    "metric_people",
    "metric_hidden_ca",
    "metric_rule1b",
    "roles",
    "metric_status_timeline",
    "metric_comments",
    "response_events",
    "bug_metrics",
    "duty_waivers",
    "update_obligations",
    "next_update_overdue",
    "metric_ca_items",
    "metric_current_items",
    "action_item_status",
    "duties",
    "metric_scope",
    "incident_links",
    "recurrences",
    "repeats",
    "report_review",
    "scorecard",
    "scorecard_percentiles",
    "incident_clusters",
    "metric_tags_at",
    "tag_first_added",
    "trend_bugs",
    "trend_counts",
    "due_program",
)


def view_deps() -> dict[str, tuple[str, ...]]:
    """What each layer reads among the other layers, read off the view SQL itself (names that occur in its body), so
    the list cannot drift from the views; snapshot() materialises only the closure a caller needs.

    Each view's body is its text from its CREATE VIEW to the next line that starts with CREATE, comments removed: a
    plain text scan, no SQL parser (DuckDB's statement splitter took 30-60 ms, on every command). Text after a
    view's statement could only add names, never drop one; tests/test_metrics.py checks the result against the
    statements as DuckDB splits them."""
    import re

    from bzmine.store.db import sql_files, view_name

    out: dict[str, tuple[str, ...]] = {}
    layers = set(LAYERS)
    for _, sql in sql_files("views"):
        # one chunk per statement that starts a line with CREATE; view_name() names the views among them
        for chunk in re.split(r"(?im)^(?=[ \t]*CREATE\s)", re.sub(r"--[^\n]*", "", sql)):
            name = view_name(chunk)
            if name and name in layers:
                words = set(re.findall(r"\b[a-z_][a-z0-9_]*\b", chunk.lower()))
                out[name] = tuple(n for n in LAYERS if n in words and n != name)
    return out


@functools.cache
def _deps() -> dict[str, tuple[str, ...]]:
    """view_deps(), computed once per process, on first use (never at import)."""
    return view_deps()


def __getattr__(name: str) -> Any:
    # DEPS: the layer dependencies, read off the view SQL on first access rather than at import
    if name == "DEPS":
        return _deps()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def _reads() -> dict[str, dict[str, int]]:
    """Per view (every view, a layer or not): how many times one evaluation of it reads each layer, counting the
    layers read by the other views it reads (they are inlined, as views are). Read off the view SQL as view_deps()
    reads it: a layer's name counts wherever it occurs as a word (a count too high only keeps a layer
    materialised); another view is followed where it follows FROM or JOIN."""
    import re
    from collections import Counter

    from bzmine.store.db import sql_files, view_name

    words: dict[str, list[str]] = {}
    sources: dict[str, set[str]] = {}
    for _, sql in sql_files("views"):
        for chunk in re.split(r"(?im)^(?=[ \t]*CREATE\s)", re.sub(r"--[^\n]*", "", sql)):
            name = view_name(chunk)
            if name:
                body = re.sub(
                    r"'[^']*'", "''", chunk.lower()
                )  # names in string literals (labels) are no reads
                words[name] = re.findall(r"\b[a-z_][a-z0-9_]*\b", body)
                sources[name] = set(re.findall(r"\b(?:from|join)\s+([a-z_][a-z0-9_]*)", body))
    layers = set(LAYERS)
    out: dict[str, dict[str, int]] = {}

    def reads(view: str, seen: tuple[str, ...]) -> Counter[str]:
        if view in out:
            return Counter(out[view])
        got = Counter(w for w in words[view] if w in layers and w != view)
        for other in sorted(sources[view] - layers - {view} - set(seen)):
            if other in words:
                got.update(reads(other, (*seen, view)))
        out[view] = dict(got)
        return got

    for view in words:
        reads(view, ())
    return out


def _single_use(need: tuple[str, ...]) -> list[str]:
    """The layers worth materialising for callers that read `need` once each and then close the connection: those
    in `need`, and those that what is computed reads more than once. A layer read once stays a view, inlined into
    its one reader: no table written, only the columns and rows that reader uses computed (at 100,000 bugs
    `scorecard` reads `duties`, `repeats` and `report_review` once each)."""
    from collections import Counter

    reads = _reads()
    count: Counter[str] = Counter()
    for name in need:
        if name not in LAYERS:
            count.update(reads.get(name, {}))  # a view the caller reads, never materialised itself
    keep: list[str] = []
    for name in reversed(LAYERS):  # every reader of a layer comes after it
        if name in need or count[name] >= 2:
            keep.append(name)
        if name in need or count[name] >= 1:
            count.update(reads.get(name, {}))  # evaluated once, as a table or inlined into its one reader
    return keep[::-1]


# Layers that callers reading once (snapshot(once=True)) write with only some of their columns, when the caller does
# not read the layer itself: every reader of `roles` among the views the CLI computes reads its role, never the text
# of why/program (the roles table of 100,000 bugs without them: 12% less work), no reader of metric_comments reads its
# comment_id, those of response_events (scorecard, due, duty_waivers) read neither its ca nor the answer's author and
# time nor wait_hours (a fifth less work), metric_current_items (its one reader) not the items' root causes and
# evaluation criteria, and those of metric_current_items (scorecard, duties, due) not the item's position or CA (a
# third less); nor do the readers of metric_bugs there read the standings, subject kind, resolution or raw and sub-CA
# names (used by trends and the paper tables; without them two joins go: a third less). A reader that asked for a
# column left out would fail to bind, never read another value.
_ONCE_COLUMNS = {
    "metric_bugs": "bug_id ca tags opened_at summary status_at is_open closed_at ca_filed ca_owner".split(),
    "roles": "bug_id account role".split(),
    "metric_comments": "bug_id count created_at author role open_at period_no".split(),
    "response_events": "bug_id kind asked_at asked_by asker_role state response_hours breach_7d".split(),
    "metric_ca_items": (
        "bug_id comment_id report_no item_no posted_at action kind due_raw due_date status_raw status".split()
    ),
    "metric_current_items": "bug_id posted_at action due_date status_raw status is_open is_overdue bug_is_open".split(),
}


def _closure(targets: tuple[str, ...]) -> list[str]:
    want: set[str] = set()
    stack = list(targets)
    while stack:
        name = stack.pop()
        if name not in want:
            want.add(name)
            stack.extend(_deps().get(name, ()))
    return [n for n in LAYERS if n in want]


GROUPS = ("owner", "filed")
RESOLUTIONS = (
    "FIXED",
    "INVALID",
    "DUPLICATE",
    "WONTFIX",
    "WORKSFORME",
    "INCOMPLETE",
    "MOVED",
    "EXPIRED",
    "INACTIVE",
)


# The one exclusion default of the CLI, the notebooks and the paper tables: nothing is left out (every bug of the
# bug set counts, whatever its resolution and subject), as Bugzilla lists them. A study that leaves out INVALID and
# DUPLICATE bugs says so (--exclude-resolution INVALID,DUPLICATE, BZMINE_EXCLUDE_RESOLUTION in the notebooks), and
# every paper table's metadata records what was left out. Resolutions are taken at as_of (view metric_bugs).
DEFAULT_EXCLUDE_RESOLUTIONS: tuple[str, ...] = ()
DEFAULT_ONLY_CA = False
DEFAULT_EXCLUSIONS: dict[str, Any] = {
    "excluded_resolutions": list(DEFAULT_EXCLUDE_RESOLUTIONS),
    "only_ca_subjects": DEFAULT_ONLY_CA,
}


def current_exclusions(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """What set_exclusions left out on this connection (the default when it was never called), for the record."""
    res, only = con.execute(
        "SELECT getvariable('bzmine_exclude_resolutions'), getvariable('bzmine_only_ca')"
    ).fetchall()[0]
    return {
        "excluded_resolutions": sorted(res) if res is not None else list(DEFAULT_EXCLUDE_RESOLUTIONS),
        "only_ca_subjects": bool(only) if only is not None else DEFAULT_ONLY_CA,
    }


def set_exclusions(
    con: duckdb.DuckDBPyConnection,
    resolutions: list[str] | tuple[str, ...] | None = DEFAULT_EXCLUDE_RESOLUTIONS,
    only_ca: bool = DEFAULT_ONLY_CA,
) -> dict[str, Any]:
    """Leave bugs with these resolutions at as_of (and, with only_ca, bugs not about a CA) out of every figure on
    this connection; returns what is excluded, for the record (notebooks print it, paper tables store it)."""
    res = sorted({r.strip().upper() for r in resolutions or [] if r.strip()})
    unknown = [r for r in res if r not in RESOLUTIONS]
    if unknown:
        raise ConfigError(f"unknown resolution {', '.join(unknown)}; one of: {', '.join(RESOLUTIONS)}")
    con.execute("SET VARIABLE bzmine_exclude_resolutions = CAST(? AS VARCHAR[])", [res])
    con.execute("SET VARIABLE bzmine_only_ca = ?", [only_ca])
    return {"excluded_resolutions": res, "only_ca_subjects": only_ca}


def include_private(con: duckdb.DuckDBPyConnection, include: bool = True) -> None:
    """Count private and no longer visible bugs (view hidden_bugs) in every figure on this connection; they are
    left out by default (--include-private), and marked where they are listed (`due`, `scorecard`, the report)."""
    con.execute("SET VARIABLE bzmine_include_private = ?", [bool(include)])


def private_included(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute(
        "SELECT coalesce(CAST(getvariable('bzmine_include_private') AS BOOLEAN), FALSE)"
    ).fetchone()
    return bool(row and row[0])


def default_as_of(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The as_of a connection's figures default to: a snapshot's own as_of (open_snapshot sets it), else None (now)."""
    row = con.execute("SELECT CAST(getvariable('bzmine_default_as_of') AS TIMESTAMP)").fetchone()
    return row[0] if row and row[0] is not None else None


def mark_hidden(con: duckdb.DuckDBPyConnection, df: Any) -> Any:
    """Where private or no longer visible bugs are included, say so in each of their rows: `summary` starts with
    "[private] " or "[no longer visible] ". Nothing changes when they are left out (there are none). df: a
    DataFrame or Rows."""
    if df.empty or "bug_id" not in df.columns or "summary" not in df.columns or not private_included(con):
        return df
    hidden = dict(con.execute("SELECT bug_id, hidden FROM hidden_bugs").fetchall())
    if not hidden:
        return df
    if isinstance(df, Rows):
        b, s = df.columns.index("bug_id"), df.columns.index("summary")
        return Rows(
            df.columns,
            [
                r[:s] + ((f"[{hidden[r[b]]}] {r[s]}" if r[b] in hidden else r[s]),) + r[s + 1 :]
                for r in df.rows
            ],
        )
    out = df.copy()
    out["summary"] = [
        f"[{hidden[b]}] {s}" if b in hidden else s for b, s in zip(out["bug_id"], out["summary"], strict=True)
    ]
    return out


def snapshot(
    con: duckdb.DuckDBPyConnection,
    as_of: Any = None,
    since: Any = None,
    until: Any = None,
    need: tuple[str, ...] = LAYERS,
    group: str = "owner",
    once: bool = False,
) -> datetime:
    """Fix as_of (default now), the optional opening window and the CA grouping, and compute the layers once.

    need: the views the caller will read; only they and what they depend on are materialised.
    group: 'owner' (per CCADB owner, default) or 'filed' (per name as filed).
    once: the caller reads each view of `need` once and then closes the connection (a CLI command): layers that
    only one of the views computed reads are left as views (_single_use); need may then name views that are not
    layers (`due`). Later calls materialise what they need, as always.
    """
    if group not in GROUPS:
        raise ConfigError(f"--group must be owner or filed, got {group!r}")
    at = (
        to_timestamp(as_of)
        or default_as_of(con)
        or datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    )
    s, u = to_timestamp(since), to_timestamp(until)
    flags = con.execute(
        "SELECT getvariable('bzmine_include_private'), getvariable('bzmine_exclude_resolutions'), "
        "getvariable('bzmine_only_ca')"
    ).fetchone()
    key = f"{at.isoformat()}|{s}|{u}|{group}|{flags}"
    layers = _single_use(need) if once else _closure(need)
    row = con.execute("SELECT getvariable('bzmine_snapshot'), getvariable('bzmine_layers')").fetchall()[0]
    have = set(row[1].split(",")) if row[0] == key and row[1] else set()
    if as_of is not None and set(layers) <= have:
        return at  # this connection already holds these layers for exactly this as_of and window
    if row[0] != key:
        have = set()
    con.execute("SET VARIABLE as_of = CAST(? AS TIMESTAMP)", [at])
    con.execute("SET VARIABLE since = CAST(? AS DATE)", [s.date() if s else None])
    con.execute("SET VARIABLE until = CAST(? AS DATE)", [u.date() if u else None])
    con.execute("SET VARIABLE bzmine_group = ?", [group])
    if not have:
        for name in LAYERS:
            con.execute(f"DROP TABLE IF EXISTS temp.{name}")
    for name in layers:
        cols = _ONCE_COLUMNS.get(name) if once and name not in need else None
        if name in have or (cols and f"{name}~" in have):  # name~: the layer with only its _ONCE_COLUMNS
            continue
        # names come from LAYERS only; main.<view> is the definition, temp.<name> its value at as_of
        if f"{name}~" in have:  # now needed whole
            con.execute(f"DROP TABLE temp.{name}")
            have.discard(f"{name}~")
        con.execute(f"CREATE TEMP TABLE {name} AS SELECT {', '.join(cols or ('*',))} FROM main.{name}")
        have.add(f"{name}~" if cols else name)
    con.execute("SET VARIABLE bzmine_snapshot = ?", [key])
    con.execute("SET VARIABLE bzmine_layers = ?", [",".join(sorted(have))])
    return at


def resolve_cas(
    con: duckdb.DuckDBPyConnection, names: list[str] | tuple[str, ...] | None, group: str = "owner"
) -> list[str]:
    """The per-CA keys (owner or filed names) that user-typed names stand for: case-insensitive, any spelling the
    owner table knows, the owner or the filed name. An unknown name is an error with the closest known names."""
    if not names:
        return []
    import difflib

    from bzmine.parse.ca import ca_key

    rows = con.execute(
        "SELECT DISTINCT ca, coalesce(ca_owner, ca), ca_raw FROM incidents WHERE subject_kind = 'ca' AND ca IS NOT NULL"
    ).fetchall()
    by_key: dict[str, set[str]] = {}
    display: set[str] = set()
    for filed, owner, raw in rows:
        target = owner if group == "owner" else filed
        for n in (filed, owner, raw):
            if n:
                by_key.setdefault(ca_key(n), set()).add(target)
        if group == "filed":  # an owner's name stands for every name filed under it
            by_key.setdefault(ca_key(owner), set()).add(filed)
        display.update(x for x in (filed, owner) if x)
    try:
        from bzmine.parsing import load_table

        table = load_table(con)
        for key, filed in table.names.items():
            owner = table.owner_of.get(filed, filed)
            hits = by_key.get(ca_key(filed)) or by_key.get(ca_key(owner))
            if hits:
                by_key.setdefault(key, set()).update(hits)
    except (duckdb.Error, ConfigError):
        pass  # an older database without stored config: names as filed still resolve
    out: list[str] = []
    for name in names:
        hits = by_key.get(ca_key(name))
        if not hits:
            close = difflib.get_close_matches(name, sorted(display), n=3, cutoff=0.6)
            close += [d for d in sorted(display) if name.lower() in d.lower() and d not in close][
                : 3 - len(close)
            ]
            hint = (
                f"; did you mean {', '.join(repr(c) for c in close)}?"
                if close
                else '; `bzmine sql "SELECT DISTINCT ca_owner FROM incidents"` lists them'
            )
            raise ConfigError(f"no CA named {name!r} in this database{hint}")
        out += sorted(h for h in hits if h not in out)
    return out


def _df(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


def _empty(columns: list[str] | None = None) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(columns=columns)


@dataclass
class Rows:
    """A query's answer as column names and plain Python rows: what the CLI prints as a table without loading
    pandas (about a fifth of a second of every command). The notebook API returns DataFrames."""

    columns: list[str]
    rows: list[tuple[Any, ...]]

    @property
    def empty(self) -> bool:
        return not self.rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, keep: list[str]) -> Rows:
        """Only these columns, in this order (as df[[...]] does)."""
        idx = [self.columns.index(c) for c in keep]
        return Rows(list(keep), [tuple(r[i] for i in idx) for r in self.rows])


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Rows:
    cur = con.execute(sql, params or [])
    return Rows([d[0] for d in cur.description or []], cur.fetchall())


def scorecard(
    con: duckdb.DuckDBPyConnection,
    as_of: Any = None,
    since: Any = None,
    until: Any = None,
    cas: list[str] | None = None,
    group: str = "owner",
    once: bool = False,
) -> pd.DataFrame:
    """One row per CA with the METRICS.md §7 figures (and `<figure>_pct` percentiles among peers). once: see
    snapshot()."""
    snapshot(con, as_of, since, until, need=("scorecard", "scorecard_percentiles"), group=group, once=once)
    keys = resolve_cas(con, cas, group)
    wide = _df(con, _SCORECARD)
    pct = _df(con, "SELECT ca, figure, percentile FROM scorecard_percentiles")
    if not pct.empty:
        p = pct.pivot(index="ca", columns="figure", values="percentile").add_suffix("_pct")
        wide = wide.merge(p, left_on="ca", right_index=True, how="left")
    if private_included(con):  # marked where included
        counts = _hidden_per_ca(con)
        wide = wide.assign(private_bugs=[int(counts.get(c, 0)) for c in wide["ca"]])
    if keys:
        wide = wide[wide["ca"].isin(keys)]
    return wide.reset_index(drop=True)


_SCORECARD = "SELECT * FROM scorecard ORDER BY bugs_total DESC, ca"


def scorecard_rows(
    con: duckdb.DuckDBPyConnection,
    as_of: Any = None,
    since: Any = None,
    until: Any = None,
    cas: list[str] | None = None,
    group: str = "owner",
    once: bool = False,
) -> Rows:
    """scorecard() without the percentile columns, as Rows (the CLI's default table): the same rows in the same
    order, and only the scorecard layer computed. once: see snapshot()."""
    snapshot(con, as_of, since, until, need=("scorecard",), group=group, once=once)
    keys = resolve_cas(con, cas, group)
    out = _rows(con, _SCORECARD)
    if private_included(con):
        counts = _hidden_per_ca(con)
        ca = out.columns.index("ca")
        out = Rows([*out.columns, "private_bugs"], [(*r, int(counts.get(r[ca], 0))) for r in out.rows])
    return _filter(out, keys)


def compact_figures(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The figures the scorecard's table shows without --all (view scorecard_figures)."""
    return {r[0] for r in con.execute("SELECT figure FROM scorecard_figures WHERE compact").fetchall()}


def compare(
    con: duckdb.DuckDBPyConnection,
    ca: str,
    as_of: Any = None,
    since: Any = None,
    until: Any = None,
    group: str = "owner",
) -> pd.DataFrame:
    """One CA beside its peers: figure, value, peer median, percentile ("how do we compare?")."""
    snapshot(con, as_of, since, until, need=("scorecard", "scorecard_percentiles"), group=group)
    keys = resolve_cas(con, [ca], group)
    df = _df(
        con,
        """SELECT p.figure, p.label, p.value, p.peer_median, p.percentile, p.direction, p.unit
                     FROM scorecard_percentiles p JOIN (SELECT figure, row_number() OVER () AS n FROM scorecard_figures) o
                     USING (figure) WHERE p.ca = ? ORDER BY o.n""",
        [keys[0]],
    )
    if df.empty:
        raise ConfigError(
            f"{ca!r} has no bugs opened in this window at this as_of (try without --since/--until or a later --as-of)"
        )
    if private_included(con):  # marked where included
        row: dict[str, Any] = {
            "figure": "private_bugs",
            "label": "Private or no longer visible bugs (counted: --include-private)",
            "value": float(_hidden_per_ca(con).get(keys[0], 0)),
            "direction": "not_ranked",
            "unit": "bugs",
        }
        import pandas as pd

        df = pd.concat([df, pd.DataFrame([row])], ignore_index=True)
    return df


def compare_all(con: duckdb.DuckDBPyConnection, as_of: Any = None, group: str = "owner") -> pd.DataFrame:
    """`compare` for every CA at once (one query; the report splits it per CA page)."""
    snapshot(con, as_of, need=("scorecard", "scorecard_percentiles"), group=group)
    return _df(
        con,
        """SELECT p.ca, p.figure, p.label, p.value, p.peer_median, p.percentile, p.direction, p.unit
           FROM scorecard_percentiles p JOIN (SELECT figure, row_number() OVER () AS n FROM scorecard_figures) o
           USING (figure) ORDER BY p.ca, o.n""",
    )


def _hidden_per_ca(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """How many of each CA's bugs in the scorecard's scope are private or no longer visible (view hidden_bugs)."""
    return {
        str(ca): int(n)
        for ca, n in con.execute(
            "SELECT ca, count(*) FROM metric_scope WHERE bug_id IN (SELECT bug_id FROM hidden_bugs) GROUP BY ca"
        ).fetchall()
    }


def figures(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The scorecard figures with direction, unit, label and whether the compact table shows them."""
    return _df(con, "SELECT * FROM scorecard_figures")


def scorecard_by_year(
    con: duckdb.DuckDBPyConnection, ca: str, as_of: Any = None, group: str = "owner"
) -> pd.DataFrame:
    """One CA's scorecard figures per year of opening (each year a since/until window), one row per year."""
    at = snapshot(con, as_of, need=("metric_bugs",), group=group)
    key = resolve_cas(con, [ca], group)[0]
    years = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT year(opened_at) FROM metric_bugs WHERE ca = ? ORDER BY 1", [key]
        ).fetchall()
    ]
    rows = []
    for y in years:
        card = scorecard(con, at, f"{y}-01-01", f"{y + 1}-01-01", group=group)
        one = card[card["ca"] == key]
        if len(one):
            rows.append(one.assign(year=y))
    if not rows:
        return _empty()
    import pandas as pd

    out = pd.concat(rows, ignore_index=True)
    return out[["year", *[c for c in out.columns if c not in ("year", "ca") and not c.endswith("_pct")]]]


# figure -> (layer, condition, columns): the rows behind each scorecard figure, for `bzmine explain`.
# Conditions and columns are fixed text, never user input.
_REQ = "bug_id, kind, asked_at, asked_by, asker_role, state, answered_at, answered_by, round(wait_hours, 1) AS wait_hours, breach_7d"
_BUG = (
    "bug_id, opened_at, closed_at, is_open, self_reported, round(first_ca_response_hours, 1) AS first_ca_response_hours, "
    "first_ca_at, full_report_at, late_full_report, round(days_to_close, 2) AS days_to_close"
)
_OBL = "bug_id, set_at, due, state, met_at, answered_late_at, round(days_late, 2) AS days_late"
_DUTY = (
    "bug_id, kind, version, source, strength, arises_at, due_at, state, met_at, answered_late_at, "
    "round(days_late, 2) AS days_late, detail"
)
_MUST = "owed_by = 'ca' AND strength = 'MUST' AND code LIKE 'D%'"
_DUTY_KINDS = (
    "initial_disclosure",
    "full_report",
    "routine_update",
    "action_item_update",
    "revocation_update",
    "revocation_update_should",
)
_ITEM = "bug_id, comment_id, posted_at, item_no, action, due_date, status_raw, status, is_open, is_overdue, bug_is_open"
EXPLAIN: dict[str, tuple[str, str, str]] = {
    "bugs_total": ("bug_metrics", "TRUE", _BUG),
    "bugs_open": ("bug_metrics", "is_open", _BUG),
    "bugs_per_year": ("bug_metrics", "TRUE", _BUG),
    "self_reported_share": ("bug_metrics", "TRUE", _BUG),
    "median_first_ca_response_hours": ("bug_metrics", "first_ca_response_hours IS NOT NULL", _BUG),
    "p90_first_ca_response_hours": ("bug_metrics", "first_ca_response_hours IS NOT NULL", _BUG),
    "median_days_to_close": ("bug_metrics", "days_to_close IS NOT NULL", _BUG),
    "full_reports_evaluated": ("bug_metrics", "late_full_report IS NOT NULL", _BUG),
    "late_full_reports": ("bug_metrics", "late_full_report", _BUG),
    "late_full_report_rate": ("bug_metrics", "late_full_report IS NOT NULL", _BUG),
    "median_response_hours": ("response_events", "state = 'answered'", _REQ),
    "p90_response_hours": ("response_events", "state = 'answered'", _REQ),
    "requests_total": ("response_events", "TRUE", _REQ),
    "breaches_7d": ("response_events", "breach_7d", _REQ),
    "breach_rate": ("response_events", "TRUE", _REQ),
    "pending_requests": ("response_events", "state = 'pending'", _REQ),
    "open_needinfos": ("response_events", "state = 'pending' AND kind = 'needinfo'", _REQ),
    "next_update_obligations": ("update_obligations", "state <> 'waived'", _OBL),
    "next_updates_missed": ("update_obligations", "state = 'missed'", _OBL),
    "missed_update_rate": ("update_obligations", "state <> 'waived'", _OBL),
    "open_action_items": ("action_item_status", "is_open AND bug_is_open", _ITEM),
    "overdue_action_items": ("action_item_status", "is_overdue AND bug_is_open", _ITEM),
    "overdue_items_per_open_bug": ("action_item_status", "is_overdue AND bug_is_open", _ITEM),
    "unknown_status_items": ("action_item_status", "status = 'unknown'", _ITEM),
    "closed_with_open_items": ("action_item_status", "is_open AND NOT bug_is_open", _ITEM),
    "repeat_share": (
        "recurrences",
        "TRUE",
        "bug_id, earlier_bug_id, earlier_opened_at, shared_tags, cited, after_resolution",
    ),
    "reports_reviewed": (
        "report_review",
        "TRUE",
        "bug_id, comment_id, kind, posted_at, must_findings, should_findings, rules",
    ),
    "report_quality": (
        "report_review",
        "TRUE",
        "bug_id, comment_id, kind, posted_at, clean, must_findings, rules",
    ),
    "duties_due": ("duties", f"{_MUST} AND state IN ('met', 'missed')", _DUTY),
    "duties_missed": ("duties", f"{_MUST} AND state = 'missed'", _DUTY),
    "duty_miss_rate": ("duties", f"{_MUST} AND state IN ('met', 'missed')", _DUTY),
    "median_disclosure_delay_hours": (
        "duties",
        "kind = 'initial_disclosure' AND disclosure_delay_hours IS NOT NULL",
        f"{_DUTY}, round(disclosure_delay_hours, 1) AS disclosure_delay_hours",
    ),
}
for _k in _DUTY_KINDS:  # kind names come from the fixed tuple above
    EXPLAIN[f"{_k}_due"] = ("duties", f"kind = '{_k}' AND state IN ('met', 'missed')", _DUTY)
    EXPLAIN[f"{_k}_missed"] = ("duties", f"kind = '{_k}' AND state = 'missed'", _DUTY)
    EXPLAIN[f"{_k}_miss_rate"] = ("duties", f"kind = '{_k}' AND state IN ('met', 'missed')", _DUTY)


def related(
    con: duckdb.DuckDBPyConnection, bug_id: int, depth: int = 1, as_of: Any = None, group: str = "owner"
) -> pd.DataFrame:
    """Bugs linked to one bug (any reference, either direction) up to `depth` steps, nearest first: depth, bug, CA,
    summary, opened, status, how it is linked (kind/source/direction of the first link that reached it)."""
    snapshot(con, as_of, need=("incident_links", "metric_bugs"), group=group)
    if not con.execute("SELECT count(*) FROM metric_bugs WHERE bug_id = ?", [bug_id]).fetchall()[0][0]:
        raise ConfigError(f"bug {bug_id} is not in this database (or not visible at this as_of)")
    seen: dict[int, tuple[int, str | None]] = {bug_id: (0, None)}
    frontier = [bug_id]
    for d in range(1, depth + 1):
        if not frontier:
            break
        rows = con.execute(
            "SELECT bug_id, other_id, kind || ' (' || source || ', ' || direction || ')' FROM incident_links "
            "WHERE list_contains(?, bug_id) ORDER BY other_id, "
            # several links to one bug: say the strongest (a field, then a Related Incidents row)
            "CASE source WHEN 'text' THEN 2 WHEN 'related_table' THEN 1 ELSE 0 END, kind, direction",
            [frontier],
        ).fetchall()
        frontier = []
        for src, other, how in rows:
            if other not in seen:
                seen[other] = (d, f"{how} of {src}")
                frontier.append(other)
    ids = [b for b in seen if b != bug_id]
    if not ids:
        return _empty(["depth", "bug_id", "ca", "summary", "opened_at", "status", "link"])
    df = _df(
        con,
        "SELECT bug_id, coalesce(ca, '(' || subject_kind || ')') AS ca, summary, opened_at, status_at AS status "
        "FROM metric_bugs WHERE list_contains(?, bug_id)",
        [ids],
    )
    df.insert(0, "depth", df["bug_id"].map(lambda b: seen[b][0]))
    df["link"] = df["bug_id"].map(lambda b: seen[b][1])
    return df.sort_values(["depth", "bug_id"]).reset_index(drop=True)


def bug_url_base(con: duckdb.DuckDBPyConnection) -> str:
    """Where bug pages are: the Bugzilla the data came from (last sync), bugzilla.mozilla.org otherwise."""
    try:
        row = con.execute(
            "SELECT url FROM sync_runs WHERE url IS NOT NULL ORDER BY run_id DESC LIMIT 1"
        ).fetchone()
    except duckdb.Error:
        row = None
    base = str(row[0]).rstrip("/") if row and row[0] else "https://bugzilla.mozilla.org"
    base = base[: -len("/rest")] if base.endswith("/rest") else base
    return f"{base}/show_bug.cgi?id="


def explain(
    con: duckdb.DuckDBPyConnection,
    ca: str,
    figure: str,
    as_of: Any = None,
    since: Any = None,
    until: Any = None,
    group: str = "owner",
) -> tuple[Any, pd.DataFrame]:
    """The value of one scorecard figure for one CA and the rows (bugs, requests, obligations, items) behind it,
    so the figure can be checked by hand on Bugzilla."""
    if figure not in EXPLAIN:
        import difflib

        close = difflib.get_close_matches(figure, list(EXPLAIN), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; one of: {', '.join(EXPLAIN)}"
        raise ConfigError(f"no scorecard figure named {figure!r}{hint}")
    layer, cond, cols = EXPLAIN[figure]
    snapshot(con, as_of, since, until, need=("scorecard", "metric_scope", layer), group=group)
    key = resolve_cas(con, [ca], group)[0]
    value = con.execute(
        f"SELECT {figure} FROM scorecard WHERE ca = ?", [key]
    ).fetchone()  # figure: a key of EXPLAIN
    rows = _df(
        con,
        f"SELECT {cols} FROM {layer} WHERE ca = ? AND ({cond}) AND bug_id IN (SELECT bug_id FROM metric_scope) "
        "ORDER BY ALL",
        [key],
    )
    return (value[0] if value else None), rows


def _filter(df: Any, keys: list[str]) -> Any:
    """Only the rows of these CAs (all when keys is empty); a DataFrame or Rows."""
    if not keys:
        return df
    if isinstance(df, Rows):
        ca = df.columns.index("ca")
        return Rows(df.columns, [r for r in df.rows if r[ca] in keys])
    return df[df["ca"].isin(keys)].reset_index(drop=True)


def response_events(
    con: duckdb.DuckDBPyConnection, as_of: Any = None, cas: list[str] | None = None, group: str = "owner"
) -> pd.DataFrame:
    """Every request waiting for a CA (METRICS.md §4), oldest first."""
    snapshot(con, as_of, need=("response_events",), group=group)
    return _filter(
        _df(con, "SELECT * FROM response_events ORDER BY asked_at, bug_id, kind DESC, asked_by"),
        resolve_cas(con, cas, group),
    )


def obligations(
    con: duckdb.DuckDBPyConnection, as_of: Any = None, cas: list[str] | None = None, group: str = "owner"
) -> pd.DataFrame:
    snapshot(con, as_of, need=("update_obligations",), group=group)
    return _filter(
        _df(con, "SELECT * FROM update_obligations ORDER BY set_at, bug_id"), resolve_cas(con, cas, group)
    )


def action_items(
    con: duckdb.DuckDBPyConnection, as_of: Any = None, cas: list[str] | None = None, group: str = "owner"
) -> pd.DataFrame:
    snapshot(con, as_of, need=("action_item_status",), group=group)
    return _filter(
        _df(con, "SELECT * FROM action_item_status ORDER BY bug_id, comment_id, item_no"),
        resolve_cas(con, cas, group),
    )


def bug_metrics(con: duckdb.DuckDBPyConnection, as_of: Any = None, group: str = "owner") -> pd.DataFrame:
    snapshot(con, as_of, need=("bug_metrics",), group=group)
    return _df(
        con,
        """SELECT m.*, b.ca_filed, b.ca_owner, b.sub_ca, b.subject_kind, b.owner_status, b.resolution
                       FROM bug_metrics m JOIN metric_bugs b USING (bug_id) ORDER BY bug_id""",
    )


def due(
    con: duckdb.DuckDBPyConnection,
    as_of: Any = None,
    days: int = 7,
    cas: list[str] | None = None,
    group: str = "owner",
    stale_days: int | None = None,
    waiting_on: str = "ca",
    rows: bool = False,
    once: bool = False,
) -> Any:
    """What waits on CAs at as_of (view `due`): one row per item with its due date and days overdue, most overdue
    first. Columns: bug_id, ca, summary, status, what, due, days_overdue, detail, kind, version, rule (the duty's
    guideline version and its source with the deadline).

    waiting_on='program': instead, the bugs whose CA requested closure and that are not closed (view `due_program`,
    D7): bug_id, ca, summary, status, what, since, days_waiting, detail, kind, version, rule.
    rows=True: the same as Rows (the CLI's table, without pandas) instead of a DataFrame. once: see snapshot()."""
    if waiting_on not in ("ca", "program"):
        raise ConfigError(f"--waiting-on must be ca or program, got {waiting_on!r}")
    snapshot(
        con,
        as_of,
        need=(("due" if waiting_on == "ca" else "due_program"),)
        if once
        else ("response_events", "duties", "metric_current_items", "bug_metrics"),
        group=group,
        once=once,
    )
    keys = resolve_cas(con, cas, group)
    fetch = _rows if rows else _df
    # both lists are of open bugs: where duties is computed inside this one query (not a layer already), only the
    # open bugs' duties are (each bug's duties come from that bug alone); reset at once for every later reader
    con.execute("SET VARIABLE bzmine_duties_open_only = TRUE")
    try:
        if waiting_on == "program":
            return _filter(
                fetch(con, "SELECT * REPLACE (strftime(since, '%Y-%m-%d') AS since) FROM due_program"), keys
            )
        con.execute("SET VARIABLE bzmine_due_days = ?", [days])
        con.execute("SET VARIABLE bzmine_stale_days = CAST(? AS INTEGER)", [stale_days])
        # due as YYYY-MM-DD text: a date, shown as one in every format (table, csv, json, HTML)
        found = fetch(con, "SELECT * REPLACE (strftime(due, '%Y-%m-%d') AS due) FROM due")
    finally:
        con.execute("RESET VARIABLE bzmine_duties_open_only")
    return mark_hidden(con, _filter(found, keys))


def duties(
    con: duckdb.DuckDBPyConnection, as_of: Any = None, cas: list[str] | None = None, group: str = "owner"
) -> pd.DataFrame:
    """Every duty of every bug about a CA (view `duties`, METRICS.md §10), by bug and time of arising."""
    snapshot(con, as_of, need=("duties",), group=group)
    return _filter(
        _df(con, "SELECT * FROM duties ORDER BY bug_id, arises_at, kind"), resolve_cas(con, cas, group)
    )


def trends(
    con: duckdb.DuckDBPyConnection,
    as_of: Any = None,
    period: str = "year",
    dimension: str = "tag",
    cas: list[str] | None = None,
    group: str = "owner",
    rows: bool = False,
) -> Any:
    """Bugs opened per period (year|quarter) by dimension (tag|ca|owner_status|subject_status|subject|all), as a
    period x key table. owner_status: the standing of the owner today; subject_status: of the CA the bug was filed
    about (Symantec's bugs are distrusted though DigiCert, their owner today, is included).

    cas: only bugs of these CAs (every dimension). Bugs whose subject is not a CA are counted under
    '(auditor)', '(program)', '(meta)' or '(unknown)' in the ca dimension, and left out when cas is given.
    rows=True: Rows (period, then one column per key) instead of a DataFrame indexed by period.
    """
    if period not in ("year", "quarter") or dimension not in DIMENSIONS:
        raise ConfigError(f"period must be year or quarter; dimension one of {', '.join(DIMENSIONS)}")
    if dimension == "rule":
        return _rule_trends(con, as_of, period, cas, group, rows)
    snapshot(con, as_of, need=("trend_bugs",), group=group)
    keys = resolve_cas(con, cas, group)
    period_col = "y" if period == "year" else "q"
    key = {
        "tag": "unnest(tags)",
        "ca": "ca_key",
        "owner_status": "owner_status",
        "subject_status": "subject_status",
        "subject": "subject_kind",
        "all": "'all'",
    }
    where = "WHERE list_contains(?, ca)" if keys else ""
    # column expressions come from the fixed table above, never from user text
    return _pivot(
        con,
        f"""
        SELECT period, key, count(*) AS bugs FROM (
            SELECT {period_col} AS period, {key[dimension]} AS key FROM trend_bugs {where}
        ) GROUP BY ALL""",
        [keys] if keys else [],
        rows,
    )


def _pivot(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any], rows: bool) -> Any:
    """(period, key, count) rows as a period x key table of counts, 0 where none (keys and periods sorted; rows
    with no key or period left out): a DataFrame indexed by period, or Rows with period as the first column."""
    if not rows:
        df = _df(con, sql, params)
        if df.empty:
            return df
        value = df.columns[2]
        return df.pivot_table(
            index="period", columns="key", values=value, fill_value=0, aggfunc="sum"
        ).sort_index()
    cells: dict[tuple[Any, Any], int] = {}
    for period, key, n in con.execute(sql, params).fetchall():
        if period is not None and key is not None:
            cells[(period, key)] = cells.get((period, key), 0) + int(n)
    keys = sorted({k for _, k in cells})
    periods = sorted({p for p, _ in cells})
    return Rows(["period", *keys], [(p, *(cells.get((p, k), 0) for k in keys)) for p in periods])


DIMENSIONS = ("tag", "ca", "owner_status", "subject_status", "subject", "all", "rule")


def _rule_trends(
    con: duckdb.DuckDBPyConnection,
    as_of: Any,
    period: str,
    cas: list[str] | None,
    group: str,
    rows: bool = False,
) -> Any:
    """Incident reports per period of posting (view report_review) that broke each review rule (a report counts
    once per rule), beside '(reports reviewed)' and '(reports with no must finding)', the denominators."""
    snapshot(con, as_of, need=("report_review",), group=group)
    keys = resolve_cas(con, cas, group)
    period_expr = (
        "CAST(year(posted_at) AS VARCHAR)"
        if period == "year"
        else "year(posted_at) || '-Q' || quarter(posted_at)"
    )
    where = "WHERE list_contains(?, ca)" if keys else ""
    # the period expression comes from the two fixed forms above, never from user text
    return _pivot(
        con,
        f"""
        WITH r AS (SELECT {period_expr} AS period, list_distinct(coalesce(rules, [])) AS rules, clean
                   FROM report_review {where})
        SELECT period, key, count(*) AS reports FROM (SELECT period, unnest(rules) AS key FROM r) GROUP BY ALL
        UNION ALL SELECT period, '(reports reviewed)', count(*) FROM r GROUP BY ALL
        UNION ALL SELECT period, '(reports with no must finding)', count(*) FILTER (WHERE clean) FROM r GROUP BY ALL""",
        [keys] if keys else [],
        rows,
    )


def report_quality(
    con: duckdb.DuckDBPyConnection,
    as_of: Any = None,
    group: str = "owner",
    top: int = 3,
    by_year: bool = True,
) -> pd.DataFrame:
    """Per CA (and year of posting, unless by_year is False: then year is null): reports reviewed, share with no
    `must` finding, and the most common findings ('rule xN', most frequent first), from view report_review."""
    snapshot(con, as_of, need=("report_review",), group=group)
    return _df(
        con,
        """
        WITH r AS (SELECT ca, CASE WHEN ? THEN year(posted_at) END AS year, clean,
                          list_distinct(coalesce(rules, [])) AS rules
                   FROM report_review WHERE ca IS NOT NULL),
        counts AS (SELECT ca, year, rule, count(*) AS n FROM (SELECT ca, year, unnest(rules) AS rule FROM r) GROUP BY ALL),
        ranked AS (SELECT ca, year, list(rule || ' x' || n ORDER BY n DESC, rule)[1:?] AS common FROM counts GROUP BY ALL)
        SELECT r.ca, r.year, count(*) AS reports_reviewed, avg(CAST(r.clean AS DOUBLE)) AS share_clean,
               coalesce(any_value(k.common), []) AS common_findings
        FROM r LEFT JOIN ranked k ON k.ca = r.ca AND k.year IS NOT DISTINCT FROM r.year
        GROUP BY r.ca, r.year ORDER BY r.ca, r.year""",
        [by_year, top],
    )


def yearly(
    con: duckdb.DuckDBPyConnection,
    as_of: Any = None,
    cas: list[str] | None = None,
    group: str = "owner",
    rows: bool = False,
) -> Any:
    """Per year of opening (view trend_medians): bugs, closed and still open at as_of, median days to close (bugs
    with a known closing time), requests, median response hours, share answered within 7 days (rows=True: Rows)."""
    snapshot(con, as_of, need=("response_events", "bug_metrics"), group=group)
    con.execute("SET VARIABLE bzmine_cas = CAST(? AS VARCHAR[])", [resolve_cas(con, cas, group) or None])
    sql = "SELECT * EXCLUDE (all_cas, ca) FROM trend_medians WHERE all_cas ORDER BY year"
    return _rows(con, sql) if rows else _df(con, sql)


def yearly_by_ca(con: duckdb.DuckDBPyConnection, as_of: Any = None, group: str = "owner") -> pd.DataFrame:
    """The same per CA and year (the report's per-year table on each CA page)."""
    snapshot(con, as_of, need=("response_events", "bug_metrics"), group=group)
    con.execute("SET VARIABLE bzmine_cas = CAST(NULL AS VARCHAR[])")
    return _df(
        con,
        "SELECT * EXCLUDE (all_cas) FROM trend_medians WHERE NOT all_cas AND ca IS NOT NULL ORDER BY ca, year",
    )


def review_bug(con: duckdb.DuckDBPyConnection, bug_id: int) -> list[dict[str, Any]]:
    """`bzmine review BUG_ID`: the review of every report in one harvested bug (bzmine.parse.review.review_comments),
    with what only the database knows: the CA's own incidents of the two years before it that share a tag or that
    the bug cites (rule v3.full.related.missing)."""
    from bzmine.parse.review import review_comments

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
    return review_comments(comments, opened, tuple(tags or ()), tuple(r[0] for r in own))
