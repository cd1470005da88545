"""`bzmine report`: a static, self-contained HTML report (no network, opens from disk).

Every string that comes from a bug is untrusted: templates autoescape, links are built from bug ids
only, and a Content-Security-Policy allows no script but the report's own sorting script (by hash).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
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


def default_workers(n_plots: int) -> int:
    """Plot workers: one per core, at most 4, and none for a handful of plots (starting a worker costs about as
    much as drawing ten plots)."""
    return 1 if n_plots < 12 else max(1, min(4, os.cpu_count() or 1))


def render_plots(
    img: Path, jobs: list[tuple[str, str, tuple[Any, ...]]], workers: int | None = None, quiet: bool = True
) -> int:
    """Draw each (file, plot, inputs) job into `img`, skipping plots whose inputs have not changed since the last
    report in this folder (their digest is in img/plots.json and the file is there); returns how many were drawn."""
    index_path = img / PLOT_INDEX
    old: Any = {}
    if index_path.is_file() and not index_path.is_symlink():
        try:
            old = json.loads(index_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
    if not isinstance(old, dict):
        old = {}
    digests = [plots.input_digest(fn, args) for _, fn, args in jobs]
    todo = [
        i
        for i, (f, _, _) in enumerate(jobs)
        if old.get(f) != digests[i] or not (img / f).is_file() or (img / f).is_symlink()
    ]
    n = default_workers(len(todo)) if workers is None else workers
    with tqdm(
        total=len(todo), desc="plots", unit="plot", disable=True if quiet else None, leave=False
    ) as bar:
        for k, png in plots.render_many([(jobs[i][1], jobs[i][2]) for i in todo], n):
            files.write_bytes(img / jobs[todo[k]][0], png)
            bar.update(1)
    index = {f: d for (f, _, _), d in zip(jobs, digests, strict=True)}
    files.write_bytes(index_path, json.dumps(index, indent=0, sort_keys=True).encode())
    return len(todo)


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
    Plots are drawn in `workers` processes (None: by core count and plot count, as the CLI does; the default, 1,
    starts no process), and only those whose inputs changed since the last report written to the same folder.
    """
    metrics.include_private(con, include_private)
    outdir = files.make_dir(Path(out))
    files.make_dir(outdir / "img")
    files.make_dir(outdir / "ca")
    at = metrics.snapshot(con, as_of)
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
        "bug_url": lambda i: f"{base}{int(i)}",
        "hidden_mark": lambda i: f" [{hidden[int(i)]}]" if int(i) in hidden else "",
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
    for name in names:
        jobs.append((f"peers-{slug(name)}.png", "plot_ca_vs_peers", (comps.get(name, pd.DataFrame()), name)))
    drawn = render_plots(img, jobs, workers, quiet)
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
    metrics.snapshot(con, at, need=("incident_clusters", "recurrences"))
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
    pages = 5
    for name in tqdm(names, desc="report", unit="CA", disable=True if quiet else None, leave=False):
        comp = comps.get(name, pd.DataFrame())
        s = slug(name)
        plot = f"peers-{s}.png"
        html = env.get_template("ca.html").render(
            title=name,
            ca=name,
            root="../",
            plot=f"../img/{plot}",
            compare=_records(comp),
            bugs=_records(
                bm_i[bm_i["ca"] == name].sort_values(["is_open", "opened_at"], ascending=[False, False])
            ),
            events=_records(events[events["ca"] == name]),
            obligations=_records(obl[obl["ca"] == name]),
            duties=_records(duties[duties["ca"] == name]),
            items=_records(items[(items["ca"] == name) & items["is_open"]]),
            per_year=_records(per_year[per_year["ca"] == name]),
            quality=_records(quality[quality["ca"] == name]),
            clusters=[
                {"bugs": list(r["bugs"]), "cas": sorted(r["cas"])}
                for r in clusters[clusters["ca"] == name].to_dict("records")
            ],
            **common,
        )
        files.write_text(outdir / "ca" / f"{s}.html", html)
        pages += 1
    return ReportResult(index=outdir / "index.html", pages=pages, plots=len(jobs), plots_drawn=drawn)
