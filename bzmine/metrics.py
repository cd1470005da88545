"""Metrics for notebooks and the CLI: functions that read the metric views and return DataFrames.

The definitions live in SQL (`bzmine/store/views/*.sql`, one view per metric, METRICS.md). Views are
parameterised by DuckDB variables (as_of, since, until). Because every metric builds on the same
layers (roles, comments with roles, status timeline, ...), `snapshot()` computes each layer once into a
TEMP table of the same name, which shadows the view for the rest of the connection: the figures are
the views' figures, computed once per as_of.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import duckdb
import pandas as pd

from bzmine.errors import ConfigError

# dependency order: each layer reads only layers above it
LAYERS = (
    "metric_status_changes", "metric_bugs", "metric_assignees", "metric_rule1", "metric_ca_domains", "metric_actors",
    "roles", "metric_status_timeline", "metric_comments", "response_events", "bug_metrics", "update_obligations",
    "next_update_overdue", "metric_ca_items", "action_item_status", "metric_scope", "scorecard",
    "scorecard_percentiles", "metric_tags_at", "tag_first_added", "trend_counts", "trend_medians",
)  # fmt: skip
# what each layer reads (besides base tables); snapshot() materialises only the closure a caller needs
DEPS: dict[str, tuple[str, ...]] = {
    "metric_bugs": ("metric_status_changes",),
    "metric_rule1": ("metric_assignees",),
    "metric_ca_domains": ("metric_rule1", "metric_bugs"),
    "metric_actors": ("metric_rule1",),
    "roles": ("metric_actors", "metric_bugs", "metric_rule1", "metric_ca_domains"),
    "metric_status_timeline": ("metric_status_changes", "metric_bugs"),
    "metric_comments": ("metric_bugs", "roles", "metric_status_timeline"),
    "response_events": ("metric_comments", "metric_status_changes", "metric_bugs", "roles"),
    "bug_metrics": ("metric_comments", "roles", "metric_bugs"),
    "update_obligations": ("metric_bugs", "metric_comments", "metric_status_changes"),
    "next_update_overdue": ("update_obligations", "metric_bugs"),
    "metric_ca_items": ("roles",),
    "action_item_status": ("metric_ca_items", "metric_bugs"),
    "metric_scope": ("bug_metrics",),
    "scorecard": ("metric_scope", "response_events", "update_obligations", "action_item_status"),
    "scorecard_percentiles": ("scorecard",),
    "metric_tags_at": ("metric_bugs",),
    "trend_counts": ("metric_bugs", "metric_tags_at"),
    "trend_medians": ("response_events", "metric_bugs", "bug_metrics"),
}


def _closure(targets: tuple[str, ...]) -> list[str]:
    want: set[str] = set()
    stack = list(targets)
    while stack:
        name = stack.pop()
        if name not in want:
            want.add(name)
            stack.extend(DEPS.get(name, ()))
    return [n for n in LAYERS if n in want]


def to_timestamp(value: str | date | datetime | None) -> datetime | None:
    """A date means 00:00:00 UTC of that day; naive datetimes are UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime(value.year, value.month, value.day)
    else:
        try:
            dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(f"not a date or time: {value!r} (use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS, UTC)") from None
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc).replace(tzinfo=None)
    return dt


def snapshot(con: duckdb.DuckDBPyConnection, as_of: Any = None, since: Any = None, until: Any = None,
             need: tuple[str, ...] = LAYERS) -> datetime:  # fmt: skip
    """Fix as_of (default now) and the optional opening window, and compute the metric layers once.

    need: the views the caller will read; only they and what they depend on are materialised.
    """
    at = to_timestamp(as_of) or datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    s, u = to_timestamp(since), to_timestamp(until)
    key = f"{at.isoformat()}|{s}|{u}"
    layers = _closure(need)
    row = con.execute("SELECT getvariable('bzmine_snapshot'), getvariable('bzmine_layers')").fetchall()[0]
    have = set(row[1].split(",")) if row[0] == key and row[1] else set()
    if as_of is not None and set(layers) <= have:
        return at  # this connection already holds these layers for exactly this as_of and window
    if row[0] != key:
        have = set()
    con.execute("SET VARIABLE as_of = CAST(? AS TIMESTAMP)", [at])
    con.execute("SET VARIABLE since = CAST(? AS DATE)", [s.date() if s else None])
    con.execute("SET VARIABLE until = CAST(? AS DATE)", [u.date() if u else None])
    if not have:
        for name in LAYERS:
            con.execute(f"DROP TABLE IF EXISTS temp.{name}")
    for name in layers:
        if name in have:
            continue
        # names come from LAYERS only; main.<view> is the definition, temp.<name> its value at as_of
        con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM main.{name}")
        have.add(name)
    con.execute("SET VARIABLE bzmine_snapshot = ?", [key])
    con.execute("SET VARIABLE bzmine_layers = ?", [",".join(sorted(have))])
    return at


def _df(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


def scorecard(con: duckdb.DuckDBPyConnection, as_of: Any = None, since: Any = None, until: Any = None,
              cas: list[str] | None = None) -> pd.DataFrame:  # fmt: skip
    """One row per CA with the METRICS.md §7 figures (and `<figure>_pct` percentiles among peers)."""
    snapshot(con, as_of, since, until, need=("scorecard", "scorecard_percentiles"))
    wide = _df(con, "SELECT * FROM scorecard ORDER BY bugs_total DESC, ca")
    pct = _df(con, "SELECT ca, figure, percentile FROM scorecard_percentiles")
    if not pct.empty:
        p = pct.pivot(index="ca", columns="figure", values="percentile").add_suffix("_pct")
        wide = wide.merge(p, left_on="ca", right_index=True, how="left")
    if cas:
        wide = wide[wide["ca"].isin(cas)]
    return wide.reset_index(drop=True)


def compare(con: duckdb.DuckDBPyConnection, ca: str, as_of: Any = None, since: Any = None, until: Any = None) -> pd.DataFrame:
    """One CA beside its peers: figure, value, peer median, percentile ("how do we compare?")."""
    snapshot(con, as_of, since, until, need=("scorecard", "scorecard_percentiles"))
    df = _df(con, "SELECT figure, value, peer_median, percentile FROM scorecard_percentiles WHERE ca = ?", [ca])
    if df.empty:
        known = [r[0] for r in con.execute("SELECT ca FROM scorecard ORDER BY ca").fetchall()]
        hint = ", ".join(known[:8]) + (" ..." if len(known) > 8 else "")
        raise ConfigError(f"no CA named {ca!r} at this as_of. Known CAs: {hint}")
    return df


def response_events(con: duckdb.DuckDBPyConnection, as_of: Any = None, cas: list[str] | None = None) -> pd.DataFrame:
    """Every request waiting for a CA (METRICS.md §4), oldest first."""
    snapshot(con, as_of, need=("response_events",))
    df = _df(con, "SELECT * FROM response_events ORDER BY asked_at, bug_id")
    return df[df["ca"].isin(cas)].reset_index(drop=True) if cas else df


def obligations(con: duckdb.DuckDBPyConnection, as_of: Any = None, cas: list[str] | None = None) -> pd.DataFrame:
    snapshot(con, as_of, need=("update_obligations",))
    df = _df(con, "SELECT * FROM update_obligations ORDER BY set_at, bug_id")
    return df[df["ca"].isin(cas)].reset_index(drop=True) if cas else df


def action_items(con: duckdb.DuckDBPyConnection, as_of: Any = None, cas: list[str] | None = None) -> pd.DataFrame:
    snapshot(con, as_of, need=("action_item_status",))
    df = _df(con, "SELECT * FROM action_item_status ORDER BY bug_id, item_no")
    return df[df["ca"].isin(cas)].reset_index(drop=True) if cas else df


def bug_metrics(con: duckdb.DuckDBPyConnection, as_of: Any = None) -> pd.DataFrame:
    snapshot(con, as_of, need=("bug_metrics",))
    return _df(con, "SELECT * FROM bug_metrics ORDER BY bug_id")


def due(con: duckdb.DuckDBPyConnection, as_of: Any = None, days: int = 7, cas: list[str] | None = None) -> pd.DataFrame:
    """What waits on CAs at as_of: pending requests, next-update dates due within `days` or missed, overdue items.

    One row per item, most urgent first (oldest request, earliest date): kind, bug_id, ca, since, due, detail.
    """
    at = snapshot(con, as_of, need=("response_events", "update_obligations", "next_update_overdue", "action_item_status"))
    df = _df(con, """
        SELECT 'request' AS what, bug_id, ca, asked_at AS since, CAST(NULL AS DATE) AS due,
               kind || ' from ' || asked_by || ' (' || asker_role || '), waiting ' || round(wait_hours / 24, 1) || ' days'
               || CASE WHEN breach_7d THEN ' - over 7 days' ELSE '' END AS detail, wait_hours / 24 AS days_waiting
        FROM response_events WHERE state = 'pending'
        UNION ALL
        SELECT CASE WHEN o.state = 'missed' THEN 'next update missed' ELSE 'next update due' END, o.bug_id, o.ca, o.set_at,
               o.due, 'next update ' || strftime(o.due, '%Y-%m-%d') ||
               CASE WHEN o.state = 'missed' THEN ' missed by ' || round(o.days_late, 1) || ' days' ELSE '' END,
               date_diff('second', o.set_at, CAST(? AS TIMESTAMP)) / 86400.0
        FROM update_obligations o JOIN metric_bugs b USING (bug_id)
        WHERE b.is_open AND ((o.state = 'pending' AND o.due <= CAST(? AS DATE) + ?) OR o.bug_id IN (SELECT bug_id FROM next_update_overdue)
              AND o.set_at = (SELECT max(set_at) FROM update_obligations x WHERE x.bug_id = o.bug_id))
        UNION ALL
        SELECT 'overdue action item', bug_id, ca, posted_at, due_date, coalesce(action, '') || ' (' || coalesce(status_raw, status) || ')',
               date_diff('day', due_date, CAST(? AS DATE))
        FROM action_item_status WHERE is_overdue AND bug_is_open
        ORDER BY 1 DESC, 7 DESC, 2
    """, [at, at.date(), days, at.date()])  # fmt: skip
    if cas:
        df = df[df["ca"].isin(cas)]
    return df.reset_index(drop=True)


def trends(con: duckdb.DuckDBPyConnection, as_of: Any = None, period: str = "year", dimension: str = "tag") -> pd.DataFrame:
    """Bugs opened per period (year|quarter) by dimension (tag|ca|all), as a period x key table."""
    if period not in ("year", "quarter") or dimension not in ("tag", "ca", "all"):
        raise ConfigError("period must be year or quarter; dimension tag, ca or all")
    snapshot(con, as_of, need=("trend_counts",))
    df = _df(con, "SELECT period, key, bugs FROM trend_counts WHERE period_type = ? AND dimension = ?", [period, dimension])
    if df.empty:
        return df
    return df.pivot_table(index="period", columns="key", values="bugs", fill_value=0, aggfunc="sum").sort_index()


def yearly(con: duckdb.DuckDBPyConnection, as_of: Any = None) -> pd.DataFrame:
    """Per year of opening: bugs, closed, median days to close, requests, median response, share within 7 days."""
    snapshot(con, as_of, need=("trend_medians",))
    return _df(con, "SELECT * FROM trend_medians ORDER BY year")
