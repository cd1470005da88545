"""`bzmine report`: a static, self-contained HTML report (no network, opens from disk).

Every string that comes from a bug is untrusted: templates autoescape, links are built from bug ids
only, and a Content-Security-Policy allows no script but the report's own sorting script (by hash).
"""

from __future__ import annotations

import base64
import hashlib
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

from bzmine import __version__, metrics, plots


@dataclass
class ReportResult:
    index: Path
    pages: int
    plots: int


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


def _value(v: Any) -> Any:
    if isinstance(v, (list, tuple, np.ndarray)):
        return list(v)
    return None if pd.isna(v) else v


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _value(v) for k, v in r.items()} for r in df.to_dict("records")]


def _save(fig: Any, path: Path) -> str:
    fig.savefig(path, dpi=100)
    return path.name


def methods_html() -> str:
    """docs/metrics.md as HTML (our own text; raw HTML in it is escaped all the same), or a pointer to it when bzmine
    runs from an installed wheel without its docs."""
    import html

    import markdown

    doc = Path(__file__).resolve().parents[1] / "docs" / "metrics.md"
    if not doc.is_file():
        return "<p>The definitions are in docs/metrics.md in bzmine's source tree.</p>"
    text = html.escape(doc.read_text(encoding="utf-8"), quote=False)
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
) -> ReportResult:
    """Write index, scorecard, due and one page per CA (all CAs, or those named) into `out`.

    Private (group-restricted) bugs are left out unless include_private (a report is meant to be shared).
    """
    metrics.include_private(con, include_private)
    outdir = Path(out)
    (outdir / "img").mkdir(parents=True, exist_ok=True)
    (outdir / "ca").mkdir(exist_ok=True)
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
    n_plots = 0
    img = outdir / "img"
    plot_files = [
        (
            "incidents_per_year.png",
            plots.plot_incidents_per_year(metrics.trends(con, at, "year", "tag")),
            "incidents per year by tag",
        ),
        ("response_times.png", plots.plot_response_times(events), "response time distribution per CA"),
        ("within_7d.png", plots.plot_within_7d_share(yearly), "share answered within 7 days per year"),
        ("action_items.png", plots.plot_action_items(card), "open and overdue action items per CA"),
        (
            "time_to_close.png",
            plots.plot_time_to_close(bm, pd.Timestamp(at)),
            "share of bugs still open after t days",
        ),
    ]
    figs = []
    for name, fig, alt in plot_files:
        figs.append({"src": "img/" + _save(fig, img / name), "alt": alt})
        n_plots += 1
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
    (outdir / "index.html").write_text(page, encoding="utf-8")
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
        (outdir / name).write_text(
            env.get_template("scorecard.html").render(
                title="Scorecard" if name == "scorecard.html" else "Scorecard: every figure",
                root="",
                columns=cols,
                rows=rows,
                other=other,
                full=name != "scorecard.html",
                **common,
            ),
            encoding="utf-8",
        )
    (outdir / "methods.html").write_text(
        env.get_template("methods.html").render(title="Methods", root="", body=methods_html(), **common),
        encoding="utf-8",
    )
    (outdir / "due.html").write_text(
        env.get_template("due.html").render(
            title="Due now", root="", rows=_records(due), days=days, **common
        ),
        encoding="utf-8",
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
    bm_i = bm.merge(inc, left_on="bug_id", right_index=True, how="left")
    pages = 5
    for name in tqdm(names, desc="report", unit="CA", disable=True if quiet else None, leave=False):
        comp = metrics.compare(con, name, at) if name in set(card["ca"]) else pd.DataFrame()
        s = slug(name)
        plot = _save(plots.plot_ca_vs_peers(comp, name), img / f"peers-{s}.png")
        n_plots += 1
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
            items=_records(items[(items["ca"] == name) & items["is_open"]]),
            per_year=_records(per_year[per_year["ca"] == name]),
            quality=_records(quality[quality["ca"] == name]),
            clusters=[
                {"bugs": list(r["bugs"]), "cas": sorted(r["cas"])}
                for r in clusters[clusters["ca"] == name].to_dict("records")
            ],
            **common,
        )
        (outdir / "ca" / f"{s}.html").write_text(html, encoding="utf-8")
        pages += 1
    return ReportResult(index=outdir / "index.html", pages=pages, plots=n_plots)
