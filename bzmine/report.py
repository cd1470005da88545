"""`bzmine report`: a static, self-contained HTML report (no network, opens from disk).

Every string that comes from a bug is untrusted: templates autoescape (the long per-CA tables' rows are written
here, _Cells, each cell escaped), links are built from bug ids only, and a Content-Security-Policy allows no
script but the report's own sorting script (by hash).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape
from tqdm import tqdm

from bzmine import files, metrics, plots
from bzmine.version import __version__


@dataclass
class ReportResult:
    index: Path
    pages: int
    plots: int
    plots_drawn: int = 0  # the others were unchanged since the last report in the same folder, and kept


def slug(name: str) -> str:
    """A file name for a CA page: readable, and unique through a short hash."""
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "ca"
    return f"{base}-{hashlib.sha1(name.encode()).hexdigest()[:6]}"


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NaT:
        return "-"
    if isinstance(v, float):
        return f"{v:,.2f}" if abs(v) < 10 else f"{v:,.1f}"
    return str(v)


def _pct(v: Any) -> str:
    return "-" if v is None or pd.isna(v) else f"{100 * v:.0f}%"


def _pbar(p: Any) -> Markup:
    """A CA's percentile among peers as a bar drawn by the browser (the CA page's chart): width = percentile, a 0th
    percentile a visible stub, coloured by quartile as plots.plot_ca_vs_peers colours it; a dotted line marks the peer
    median (CSS). Numbers only, never bug text. No bar for a figure no peer can be ranked on."""
    if p is None or pd.isna(p):
        return Markup("")
    p = float(p)
    band = 0 if p < 25 else 1 if p < 50 else 2 if p < 75 else 3
    return Markup(
        f'<span class="pbar" aria-hidden="true"><span class="q{band}" style="width:{max(p, 1.0):.1f}%"></span></span>'
    )


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of plain values for the templates: missing values are None, array cells lists. Column-wise
    (one pass per column, not a pandas call per cell: the report's largest cost at 10,000 bugs)."""
    if df.empty:
        return []
    cols: dict[str, list[Any]] = {}
    for c in df.columns:
        s = df[c]
        if s.dtype == object:
            vals = [
                list(v)
                if isinstance(v, (list, tuple, np.ndarray))
                else None
                if v is None or v is pd.NA or (isinstance(v, float) and v != v)
                else v
                for v in s.tolist()
            ]
        else:
            obj = s.astype(object)
            vals = obj.where(s.notna(), None).tolist()
        cols[str(c)] = vals
    names = list(cols)
    return [dict(zip(names, row, strict=True)) for row in zip(*cols.values(), strict=True)]


PLOT_INDEX = "plots.json"  # in img/: each plot's input digest, so an unchanged plot is not drawn again


@dataclass
class _Frames:
    """What the pages share with the plots (read once)."""

    card: pd.DataFrame
    events: pd.DataFrame
    bm: pd.DataFrame
    yearly: pd.DataFrame
    comps: dict[str, pd.DataFrame]


def _plain_name(f: str) -> bool:
    """A file name of the plot folder itself (no folder part, not hidden): the only names a stale entry may remove."""
    return bool(re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\.png", f))


class PlotRun:
    """The report's plots, started before its pages are written and finished after: plot workers (if any) draw while
    this process writes pages, then this process draws what no worker has started (plots.PlotPool)."""

    def __init__(
        self, img: Path, jobs: list[tuple[str, str, tuple[Any, ...]]], workers: int | None = 1
    ) -> None:
        self.img, self.jobs = img, jobs
        index_path = img / PLOT_INDEX
        old: Any = {}
        if index_path.is_file() and not index_path.is_symlink():
            try:
                old = json.loads(index_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                old = {}
        if not isinstance(old, dict):
            old = {}
        # plots an earlier report wrote here and this one no longer draws (its index names them)
        current = {f for f, _, _ in jobs}
        self.stale = [f for f in old if isinstance(f, str) and f not in current and _plain_name(f)]
        self.digests = [plots.input_digest(fn, args) for _, fn, args in jobs]
        self.todo = [
            i
            for i, (f, _, _) in enumerate(jobs)
            if old.get(f) != self.digests[i] or not (img / f).is_file() or (img / f).is_symlink()
        ]
        # one process unless asked: the report draws five plots, and a worker costs about as much to start as drawing
        # ten (measured: 0.7x on a loaded 2-core machine)
        n = workers or 1
        self.pool = plots.PlotPool([(jobs[i][1], jobs[i][2]) for i in self.todo], n)

    def finish(self, quiet: bool = True) -> int:
        """Write every plot to be drawn, and the index of input digests; returns how many were drawn."""
        with tqdm(
            total=len(self.todo), desc="plots", unit="plot", disable=True if quiet else None, leave=False
        ) as bar:
            for k, png in self.pool.results():
                files.write_bytes(self.img / self.jobs[self.todo[k]][0], png)
                bar.update(1)
        index = {f: d for (f, _, _), d in zip(self.jobs, self.digests, strict=True)}
        files.write_bytes(self.img / PLOT_INDEX, json.dumps(index, indent=0, sort_keys=True).encode())
        for f in self.stale:  # a regular file only: a link (or anything else) planted here is left alone
            p = self.img / f
            if p.is_file() and not p.is_symlink():
                p.unlink()
        return len(self.todo)

    def close(self) -> None:
        self.pool.close()


def methods_html() -> str:
    """docs/metrics.md as HTML (our own text; raw HTML in it is escaped all the same): a wheel carries it
    (bzmine/bundled.py), so every report holds the definitions of its figures."""
    import html

    import markdown

    from bzmine.bundled import path

    text = html.escape(path("metrics.md").read_text(encoding="utf-8"), quote=False)
    return markdown.markdown(text, extensions=["tables", "fenced_code"], output_format="html")


def _hidden(con: duckdb.DuckDBPyConnection) -> dict[int, str]:
    """Private or no longer visible bugs (view hidden_bugs) and which of the two each is."""
    return {int(b): str(h) for b, h in con.execute("SELECT bug_id, hidden FROM hidden_bugs").fetchall()}


def write_report(
    con: duckdb.DuckDBPyConnection,
    out: str | Path,
    as_of: Any = None,
    cas: list[str] | None = None,
    days: int = 7,
    quiet: bool = False,
    include_private: bool = False,
    workers: int | None = 1,
) -> ReportResult:
    """Write index, scorecard, due and one page per CA (all CAs, or those named) into `out`.

    Private (group-restricted) bugs are left out unless include_private (a report is meant to be shared).
    Plots are drawn in `workers` processes, this one included (1 or None, the default: no process is started), and
    only those whose inputs changed since the last report written to the same folder.
    """
    metrics.include_private(con, include_private)
    outdir = files.make_dir(Path(out))
    files.make_dir(outdir / "img")
    files.make_dir(outdir / "ca")
    # fixes as_of; each metric below computes only the layers it reads (not every layer: one the report never
    # reads, recurrences, took 6 s of the 30,000-bug report)
    at = metrics.snapshot(con, as_of, need=("metric_bugs",))
    wanted = metrics.resolve_cas(con, cas) if cas else None
    base = metrics.bug_url_base(con)  # links go to the Bugzilla the data came from (ids only: never bug text)
    env = Environment(loader=PackageLoader("bzmine", "templates"), autoescape=select_autoescape(["html"]))
    script = resources.files("bzmine").joinpath("templates/sort.js").read_text(encoding="utf-8")
    css = resources.files("bzmine").joinpath("templates/style.css").read_text(encoding="utf-8")
    script_hash = "sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    card = metrics.scorecard(con, at)
    events = metrics.response_events(con, at)
    bm = metrics.bug_metrics(con, at)
    yearly = metrics.yearly(con, at)
    n_bugs = len(bm)
    # private or no longer visible bugs (only with --include-private): a mark beside every link to one, a banner
    hidden = _hidden(con) if include_private else {}
    n_hidden = int(bm["bug_id"].isin(list(hidden)).sum()) if n_bugs else 0
    common = {
        "as_of": at.strftime("%Y-%m-%d %H:%M"),
        "n_bugs": n_bugs,
        "version": __version__,
        "css": css,
        "script": script,
        "script_hash": script_hash,
        "fmt": _fmt,
        "pct": _pct,
        "pbar": _pbar,
        "bug_url": lambda i: f"{base}{int(i)}",
        "hidden_mark": lambda i: f" [{hidden[int(i)]}]" if int(i) in hidden else "",
        "bug_base": base,
        "hidden": hidden,
        "private_note": (
            f"{n_hidden} of these bugs are private or no longer visible (--include-private); each is marked "
            "[private] or [no longer visible]."
            if n_hidden
            else ""
        ),
    }
    names = list(card["ca"]) if not wanted else [c for c in card["ca"] if c in wanted]
    hrefs = {n: f"ca/{slug(n)}.html" for n in card["ca"]}
    img = outdir / "img"
    jobs: list[tuple[str, str, tuple[Any, ...]]] = [  # (file, plot function, its inputs)
        ("incidents_per_year.png", "plot_incidents_per_year", (metrics.trends(con, at, "year", "tag"),)),
        ("response_times.png", "plot_response_times", (events,)),
        ("within_7d.png", "plot_within_7d_share", (yearly,)),
        ("action_items.png", "plot_action_items", (card,)),
        ("time_to_close.png", "plot_time_to_close", (bm, pd.Timestamp(at))),
    ]
    alts = [
        "incidents per year by tag",
        "response time distribution per CA",
        "share answered within 7 days per year",
        "open and overdue action items per CA",
        "share of bugs still open after t days",
    ]
    figs = [{"src": "img/" + f, "alt": alt} for (f, _, _), alt in zip(jobs, alts, strict=True)]
    compare = metrics.compare_all(con, at)
    comps = {ca: g.drop(columns="ca").reset_index(drop=True) for ca, g in compare.groupby("ca", sort=False)}
    plot_run = PlotRun(img, jobs, workers)  # workers draw while the pages are written
    try:
        frames = _Frames(card=card, events=events, bm=bm, yearly=yearly, comps=comps)
        pages = _write_pages(con, outdir, env, common, at, days, names, hrefs, figs, frames, quiet)
        drawn = plot_run.finish(quiet)
    finally:
        plot_run.close()
    return ReportResult(index=outdir / "index.html", pages=pages, plots=len(jobs), plots_drawn=drawn)


def _write_pages(
    con: duckdb.DuckDBPyConnection,
    outdir: Path,
    env: Environment,
    common: dict[str, Any],
    at: Any,
    days: int,
    names: list[str],
    hrefs: dict[str, str],
    figs: list[dict[str, str]],
    frames: _Frames,
    quiet: bool,
) -> int:
    """Index, scorecards, methods, due and one page per CA; returns how many pages were written."""
    card, events, bm, yearly, comps = frames.card, frames.events, frames.bm, frames.yearly, frames.comps
    n_bugs = len(bm)
    inc = con.execute("SELECT bug_id, summary, tags FROM incidents").df().set_index("bug_id")
    stats = {
        "bugs": n_bugs,
        "open": int(bm["is_open"].sum()) if n_bugs else 0,
        "cas": len(card),
        "pending": int((events["state"] == "pending").sum()) if len(events) else 0,
        "breaches": int(events["breach_7d"].sum()) if len(events) else 0,
        "overdue_items": int(card["overdue_action_items"].sum()) if len(card) else 0,
    }
    due = metrics.due(con, at, days)
    attention = _records(due[due["days_overdue"] > 0].head(10))
    ca_rows = []
    for r in _records(card):
        if r["ca"] in names:
            ca_rows.append(
                {
                    "name": r["ca"],
                    "href": hrefs[r["ca"]],
                    "bugs": r["bugs_total"],
                    "open": r["bugs_open"],
                    "overdue": r["overdue_action_items"],
                    "median_response": r["median_response_hours"],
                    "repeat": r.get("repeat_share"),
                }
            )
    quality = metrics.report_quality(con, at)
    quality_all = metrics.report_quality(con, at, by_year=False)
    quality_rows = [{**r, "href": hrefs.get(r["ca"])} for r in _records(quality_all) if r["ca"] in names]
    page = env.get_template("index.html").render(
        title="CA compliance incidents",
        root="",
        plots=figs,
        stats=stats,
        yearly=_records(yearly),
        cas=ca_rows,
        attention=attention,
        quality=quality_rows,
        n_due=int((due["days_overdue"] > 0).sum()),
        **common,
    )
    files.write_text(outdir / "index.html", page)
    figs_meta = metrics.figures(con)
    meta = {r["figure"]: r for r in figs_meta.to_dict("records")}

    def label(c: str) -> str:
        m = meta.get(c)
        return f"{m['label']}" if m else c.replace("_", " ")

    rows = _records(card)
    for r in rows:
        r["href"] = hrefs[r["ca"]]
        # an outlier: among the worst tenth of peers on a ranked figure (percentile below 10)
        pcts = {c: r.get(f"{c}_pct") for c in meta if meta[c]["direction"] != "not_ranked"}
        r["outliers"] = {c for c, v in pcts.items() if isinstance(v, (int, float)) and v < 10}
    all_cols = [{"key": "ca", "label": "CA owner"}] + [
        {"key": c, "label": label(c)} for c in card.columns if c != "ca" and not c.endswith("_pct")
    ]
    compact = [c for c in all_cols if c["key"] == "ca" or meta.get(c["key"], {}).get("compact")]
    for name, cols, other in (
        ("scorecard.html", compact, "scorecard-all.html"),
        ("scorecard-all.html", all_cols, "scorecard.html"),
    ):
        files.write_text(
            outdir / name,
            env.get_template("scorecard.html").render(
                title="Scorecard" if name == "scorecard.html" else "Scorecard: every figure",
                root="",
                columns=cols,
                rows=rows,
                other=other,
                full=name != "scorecard.html",
                **common,
            ),
        )
    files.write_text(
        outdir / "methods.html",
        env.get_template("methods.html").render(title="Methods", root="", body=methods_html(), **common),
    )
    files.write_text(
        outdir / "due.html",
        env.get_template("due.html").render(
            title="Due now",
            root="",
            rows=_records(due),
            program=_records(metrics.due(con, at, waiting_on="program")),
            days=days,
            **common,
        ),
    )
    items = metrics.action_items(con, at)
    per_year = metrics.yearly_by_ca(con, at)
    metrics.snapshot(con, at, need=("incident_clusters", "metric_bugs"))
    clusters = con.execute("""
        SELECT b.ca, c.cluster_id, list(c.bug_id ORDER BY c.bug_id) AS bugs,
               list(DISTINCT coalesce(m.ca, '(' || m.subject_kind || ')')) AS cas
        FROM incident_clusters c JOIN metric_bugs m USING (bug_id)
        JOIN (SELECT DISTINCT c2.cluster_id, b2.ca FROM incident_clusters c2 JOIN metric_bugs b2 USING (bug_id)
              WHERE b2.ca IS NOT NULL) b USING (cluster_id)
        GROUP BY b.ca, c.cluster_id ORDER BY c.cluster_id""").df()
    obl = metrics.obligations(con, at)
    duties = metrics.duties(con, at)
    duties = duties[(duties["owed_by"] == "ca") & duties["state"].isin(["missed", "pending"])]
    bm_i = bm.merge(inc, left_on="bug_id", right_index=True, how="left")
    # every table read once and split per CA in Python (order kept: a sort of the whole is the sort of each part)
    cells = _Cells(common["bug_base"], common["hidden"])
    wanted = set(names)
    by_ca = {
        "bugs": _rows_by_ca(
            bm_i.sort_values(["is_open", "opened_at"], ascending=[False, False]), wanted, cells.bug
        ),
        "events": _rows_by_ca(events, wanted, cells.event),
        "obligations": _rows_by_ca(obl, wanted, cells.obligation),
        "duties": _rows_by_ca(duties, wanted, cells.duty),
        "items": _rows_by_ca(items, wanted, cells.item, keep=lambda r: bool(r["is_open"])),
        "per_year": _rows_by_ca(per_year, wanted),
        "quality": _rows_by_ca(quality, wanted),
        "clusters": _rows_by_ca(clusters, wanted),
    }
    ca_page = env.get_template("ca.html")
    pages = 5
    for name in tqdm(names, desc="report", unit="CA", disable=True if quiet else None, leave=False):
        s = slug(name)
        html = ca_page.render(
            title=name,
            ca=name,
            root="../",
            compare=_records(comps.get(name, pd.DataFrame())),
            bugs=by_ca["bugs"].get(name, []),
            events=by_ca["events"].get(name, []),
            obligations=by_ca["obligations"].get(name, []),
            duties=by_ca["duties"].get(name, []),
            items=by_ca["items"].get(name, []),
            per_year=by_ca["per_year"].get(name, []),
            quality=by_ca["quality"].get(name, []),
            clusters=[
                {"bugs": list(r["bugs"]), "cas": sorted(r["cas"])} for r in by_ca["clusters"].get(name, [])
            ],
            **common,
        )
        files.write_text(outdir / "ca" / f"{s}.html", html)
        pages += 1
    return pages


def _rows_by_ca(
    df: pd.DataFrame,
    wanted: set[str],
    cell: Callable[[dict[str, Any]], Markup] | None = None,
    keep: Callable[[dict[str, Any]], bool] | None = None,
) -> dict[str, list[Any]]:
    """The rows of `df` per value of its `ca` column (only CAs in `wanted`, in the frame's order), as records, or as
    table rows of HTML when `cell` is given."""
    out: dict[str, list[Any]] = {}
    for r in _records(df):
        ca = r["ca"]
        if ca in wanted and (keep is None or keep(r)):
            out.setdefault(ca, []).append(r if cell is None else cell(r))
    return out


def _or(v: Any, default: Any = "") -> Any:
    return v or default


class _Cells:
    """Table rows of the CA pages as HTML, each cell escaped: the same text the templates wrote cell by cell
    (`{{ v }}` is escape(v), `{{ v or '' }}` likewise), in one string per row, which is many times faster for pages
    of thousands of rows. Bug text reaches the page only through escape()."""

    def __init__(self, base: str, hidden: dict[int, str]) -> None:
        # a link is base + the bug id (an int: its digits need no escaping); a hidden bug gets its mark after it
        self.base = str(escape(base))
        self.marks = {i: str(escape(f" [{h}]")) for i, h in hidden.items()}

    def _link(self, i: Any) -> str:
        i = int(i)
        return f'<a href="{self.base}{i}">{i}</a>{self.marks.get(i, "")}'

    def bug(self, b: dict[str, Any]) -> Markup:
        sub = f" (sub-CA: {escape(b['sub_ca'])})" if b["sub_ca"] else ""
        return Markup(
            f'<tr><td data-sort="{escape(b["bug_id"])}">{self._link(b["bug_id"])}</td>'
            f'<td class="wrap">{escape(b["summary"])}{sub}</td><td>{escape(" ".join(map(str, b["tags"])))}</td>'
            f"<td>{escape(b['opened_at'])}</td><td>{escape(b['status_at'])}</td><td>{escape(_or(b['resolution']))}</td>"
            f"<td>{escape(_or(b['closed_at']))}</td></tr>"
        )

    def event(self, e: dict[str, Any]) -> Markup:
        return Markup(
            f"<tr><td>{self._link(e['bug_id'])}</td><td>{escape(e['kind'])}</td><td>{escape(e['asked_at'])}</td>"
            f"<td>{escape(e['asked_by'])}</td><td>{escape(e['asker_role'])}</td><td>{escape(_or(e['answered_at']))}</td>"
            f'<td>{escape(e["state"])}</td><td class="num {"breach" if e["breach_7d"] else ""}" '
            f'data-sort="{escape(e["wait_hours"])}">{escape(_fmt(e["wait_hours"]))}</td></tr>'
        )

    def obligation(self, o: dict[str, Any]) -> Markup:
        return Markup(
            f"<tr><td>{self._link(o['bug_id'])}</td><td>{escape(o['set_at'])}</td><td>{escape(o['due'])}</td>"
            f'<td>{escape(o["state"])}</td><td class="num">{escape(_fmt(o["days_late"]))}</td></tr>'
        )

    def duty(self, d: dict[str, Any]) -> Markup:
        return Markup(
            f"<tr><td>{self._link(d['bug_id'])}</td><td>{escape(d['kind'])}</td><td>{escape(_or(d['version']))}</td>"
            f"<td>{escape(d['source'])}</td><td>{escape(_or(d['strength']))}</td><td>{escape(d['arises_at'])}</td>"
            f"<td>{escape(_or(d['due_at']))}</td><td>{escape(d['state'])}</td>"
            f'<td>{escape(_or(d["answered_late_at"]))}</td><td class="num">{escape(_fmt(d["days_late"]))}</td></tr>'
        )

    def item(self, i: dict[str, Any]) -> Markup:
        return Markup(
            f'<tr><td>{self._link(i["bug_id"])}</td><td class="wrap">{escape(i["action"])}</td>'
            f"<td>{escape(_or(i['kind']))}</td><td>{escape(i['due_date'] or i['due_raw'] or '')}</td>"
            f"<td>{escape(i['status_raw'] or i['status'])}</td><td>{'yes' if i['is_overdue'] else ''}</td>"
            f'<td class="num">{escape(i["due_date_slips"])}</td></tr>'
        )
