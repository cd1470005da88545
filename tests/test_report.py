"""Plots, the HTML report (in a real headless Chromium), and the notebooks."""

from __future__ import annotations

import base64
import os
import re
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from matplotlib.figure import Figure

from bzmine import metrics, plots
from bzmine.parsing import reparse
from bzmine.report import write_report
from bzmine.store import raw
from bzmine.store.db import connect

ROOT = Path(__file__).resolve().parents[1]
ART = ROOT / "tests" / "artifacts"
AS_OF = "2026-11-01"
EVIL_CA = "<script>window.__pwned=1</script>"
EVIL = {
    "summary": f'{EVIL_CA}: "><img src=x onerror="window.__pwned=2"> certificates',
    "whiteboard": '[ca-compliance] <script>window.__pwned=3</script> [x"><svg onload=window.__pwned=5>]',
    "comment": (
        "### Action Items\n| Action Item | Kind | Due Date | Status |\n|---|---|---|---|\n"
        "| [click me](javascript:window.__pwned=4) <img src=x onerror=window.__pwned=6> | Prevent | 2020-01-01 | Ongoing |"
    ),
}


def all_figures(con: duckdb.DuckDBPyConnection) -> list[Figure]:
    card = metrics.scorecard(con, AS_OF)
    ca = card["ca"].iloc[0] if len(card) else "nobody"
    comp = metrics.compare(con, ca, AS_OF) if len(card) else card
    return [
        plots.plot_incidents_per_year(metrics.trends(con, AS_OF)),
        plots.plot_response_times(metrics.response_events(con, AS_OF)),
        plots.plot_within_7d_share(metrics.yearly(con, AS_OF)),
        plots.plot_action_items(card),
        plots.plot_time_to_close(metrics.bug_metrics(con, AS_OF), AS_OF),
        plots.plot_ca_vs_peers(comp, ca),
    ]


def test_every_plot_renders_on_sample(sample_db: tuple[Path, Any]) -> None:
    con = duckdb.connect(str(sample_db[0]))
    figs = all_figures(con)
    for f in figs:
        assert isinstance(f, Figure) and f.axes
        assert f.axes[0].get_title()
        f.savefig(os.devnull, format="png")
    # axes carry units
    assert "hours" in figs[1].axes[0].get_xlabel() and "%" in figs[2].axes[0].get_ylabel()
    con.close()


def test_plots_and_report_on_an_empty_database(tmp_path: Path) -> None:
    con = connect(tmp_path / "empty.duckdb")
    for name in (
        "plot_incidents_per_year",
        "plot_response_times",
        "plot_within_7d_share",
        "plot_action_items",
        "plot_time_to_close",
    ):
        import pandas as pd

        fig = getattr(plots, name)(pd.DataFrame())
        assert any("no data" in t.get_text() for t in fig.axes[0].texts)
    res = write_report(con, tmp_path / "rep", AS_OF, quiet=True)
    assert res.index.exists() and "0 bugs" in res.index.read_text()
    con.close()


def test_many_cas_do_not_overlap() -> None:
    import pandas as pd

    card = pd.DataFrame(
        {
            "ca": [f"Certificate Authority number {i}" for i in range(60)],
            "open_action_items": range(1, 61),
            "overdue_action_items": range(60),
        }
    )
    fig = plots.plot_action_items(card)
    fig.canvas.draw()
    labels = [t.get_window_extent() for t in fig.axes[0].get_yticklabels()]
    assert len(labels) == 60
    for a, b in zip(labels, labels[1:], strict=False):
        assert not a.overlaps(b)


@pytest.fixture(scope="module")
def report_dir(sample_db: tuple[Path, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample database plus one bug full of hostile text, rendered to HTML."""
    db = tmp_path_factory.mktemp("rep") / "r.duckdb"
    shutil.copy(sample_db[0], db)
    con = connect(db)
    evil = {
        "id": 1,
        "summary": EVIL["summary"],
        "whiteboard": EVIL["whiteboard"],
        "product": "CA Program",
        "component": "CA Certificate Compliance",
        "status": "ASSIGNED",
        "resolution": "",
        "is_open": True,
        "creation_time": "2026-01-01T00:00:00Z",
        "last_change_time": "2026-01-02T00:00:00Z",
        "creator": "x@evil.example",
        "assigned_to": "x@evil.example",
        "groups": [],
        "flags": [],
        "comments": [
            {
                "id": 1,
                "bug_id": 1,
                "count": 0,
                "text": EVIL["comment"],
                "raw_text": EVIL["comment"],
                "creator": "x@evil.example",
                "author": "x@evil.example",
                "time": "2026-01-02T00:00:00Z",
                "creation_time": "2026-01-02T00:00:00Z",
                "is_private": False,
            }
        ],
        "history": [],
    }
    con.execute("BEGIN TRANSACTION")
    raw.upsert_bugs(con, [evil], run_id=99)
    con.execute("COMMIT")
    reparse(con, quiet=True)
    out = db.parent / "report"
    res = write_report(con, out, AS_OF, quiet=True)
    con.close()
    assert res.pages > 3
    return out


def test_report_files_and_escaping(report_dir: Path) -> None:
    pages = list(report_dir.rglob("*.html"))
    assert {p.name for p in pages} >= {
        "index.html",
        "scorecard.html",
        "scorecard-all.html",
        "due.html",
        "methods.html",
    }
    methods = (report_dir / "methods.html").read_text(encoding="utf-8")
    assert (
        "<h2>Time</h2>" in methods and "<table>" in methods and "breach_7d" in methods
    )  # docs/metrics.md, rendered
    for page in pages:  # the methods page is one click from every page, every figure included
        assert 'methods.html"' in page.read_text(encoding="utf-8"), page.name
    text = "\n".join(p.read_text(encoding="utf-8") for p in pages)
    assert (
        "<script>window.__pwned" not in text and 'onerror="window' not in text and "<svg onload" not in text
    )
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in text  # shown literally
    assert 'href="javascript:' not in text
    # nothing is loaded from the network: the only absolute URLs are links to bug pages (on the Bugzilla synced from)
    urls = re.findall(r'(?:src|href)="(https?://[^"]*)"', text)
    assert urls and all(re.fullmatch(r"https?://127\.0\.0\.1:\d+/show_bug\.cgi\?id=\d+", u) for u in urls), (
        urls[:3]
    )
    assert "cdn" not in text.lower() and not re.search(r"<(script|img|link)[^>]+(src|href)=\"https?:", text)
    assert "show_bug.cgi?id=" in text


def test_ca_page_bars_are_the_percentiles_among_peers(report_dir: Path, sample_db: tuple[Path, Any]) -> None:
    """The CA page's chart: one bar per ranked figure, as wide as the percentile (a 0th percentile a stub), coloured
    by quartile; a figure without a percentile has no bar. Compared with metrics.compare, not with the page's text."""
    con = duckdb.connect(str(sample_db[0]), read_only=True)
    try:
        card = metrics.scorecard(con, AS_OF)
        checked = 0
        for ca in list(card["ca"])[:4]:
            want = metrics.compare(con, ca, AS_OF)
            from bzmine.report import slug

            page = (report_dir / "ca" / f"{slug(ca)}.html").read_text(encoding="utf-8")
            table = page.split("<h2>Beside its peers</h2>", 1)[1].split("</table>", 1)[0]
            rows = re.findall(r"<tr><td>.*?</tr>", table)
            assert len(rows) == len(want)
            for row, p in zip(rows, want["percentile"], strict=True):
                bar = re.search(r'<span class="q(\d)" style="width:([\d.]+)%">', row)
                if p is None or p != p:
                    assert bar is None and "no data" in row
                    continue
                assert bar is not None, row
                band = 0 if p < 25 else 1 if p < 50 else 2 if p < 75 else 3
                assert int(bar.group(1)) == band and float(bar.group(2)) == round(max(p, 1.0), 1)
                assert f'data-sort="{p}"' in row
                checked += 1
        assert checked >= 8  # the sample ranks CAs on several figures
    finally:
        con.close()
    # the chart is HTML: no per-CA image is drawn
    assert not list((report_dir / "img").glob("peers-*.png"))


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if p := shutil.which(name):
            return p
    return None


@pytest.mark.browser
def test_report_in_headless_chromium(report_dir: Path) -> None:
    exe = _chromium()
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("no Chromium on this CI machine: .ci/run should have installed Debian's chromium")
        pytest.skip("no Chromium installed (apt-get install chromium); the browser test needs a real browser")
    sync_api = pytest.importorskip("playwright.sync_api")
    ART.mkdir(parents=True, exist_ok=True)
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
    ]
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=args, headless=True)
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        evil_pages = [p for p in (report_dir / "ca").glob("*.html") if "__pwned" in p.read_text()]
        assert evil_pages, "the hostile CA got no page"
        for html in [
            report_dir / "index.html",
            report_dir / "scorecard.html",
            report_dir / "due.html",
            sorted((report_dir / "ca").glob("*.html"))[0],
            evil_pages[0],
        ]:
            page.goto(html.as_uri())
            page.wait_for_load_state("load")
            assert page.evaluate("typeof window.__pwned") == "undefined", f"script ran on {html.name}"
            assert page.evaluate("document.querySelectorAll('img[src=\"x\"], svg[onload]').length") == 0
            assert page.evaluate("document.querySelectorAll('a[href^=\"javascript:\"]').length") == 0
        assert errors == [], errors
        page.goto(evil_pages[0].as_uri())
        assert EVIL_CA in page.inner_text("h1")  # the name is shown literally
        assert "javascript:window.__pwned=4" in page.inner_text("body")
        # sorting: click a numeric header, rows come back in order; click again, reversed
        page.goto((report_dir / "scorecard.html").as_uri())
        headers = page.locator("#scorecard th")
        col = [headers.nth(i).inner_text() for i in range(headers.count())].index("Bugs")
        headers.nth(col).click()
        vals = [
            float(v)
            for v in page.eval_on_selector_all(
                f"#scorecard tbody tr td:nth-child({col + 1})", "els => els.map(e => e.dataset.sort)"
            )
        ]
        assert vals == sorted(vals) and len(vals) > 5
        headers.nth(col).click()
        vals2 = [
            float(v)
            for v in page.eval_on_selector_all(
                f"#scorecard tbody tr td:nth-child({col + 1})", "els => els.map(e => e.dataset.sort)"
            )
        ]
        assert vals2 == sorted(vals, reverse=True)
        page.screenshot(path=str(ART / "scorecard.png"), full_page=False)
        page.click("text=Methods")
        assert page.url.endswith("methods.html") and "Who speaks" in page.inner_text("main")
        page.goto((report_dir / "index.html").as_uri())
        page.screenshot(path=str(ART / "index.png"), full_page=True)
        # the CA table: search narrows the rows, a header click sorts them
        rows = page.locator("#ca-table tbody tr")
        total = rows.count()
        first = page.locator("#ca-table tbody tr td:first-child").first.inner_text()
        page.fill("#ca-search", first[:6])
        shown = [r for r in range(total) if rows.nth(r).is_visible()]
        assert 0 < len(shown) < total and all(
            first[:6].lower() in rows.nth(r).inner_text().lower() for r in shown
        )
        page.fill("#ca-search", "")
        assert sum(rows.nth(r).is_visible() for r in range(total)) == total
        page.locator("#ca-table th", has_text="bugs").first.click()
        bugs = [
            int(v)
            for v in page.eval_on_selector_all(
                "#ca-table tbody tr td:nth-child(2)", "els => els.map(e => e.textContent)"
            )
        ]
        assert bugs == sorted(bugs)
        for name in ("due.html", sorted((report_dir / "ca").glob("*.html"))[0]):
            page.goto((report_dir / name).as_uri() if isinstance(name, str) else name.as_uri())
            page.screenshot(path=str(ART / f"{Path(str(name)).stem}.png"), full_page=False)
        assert errors == [], errors
        browser.close()
    assert (ART / "index.png").stat().st_size > 10_000


def _assert_not_blank(png: bytes) -> None:
    import io

    import matplotlib.image

    pixels = matplotlib.image.imread(io.BytesIO(png), format="png")
    assert pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert pixels[..., :3].std() > 0.05, "the image is (nearly) one colour"


@pytest.mark.slow
def test_notebooks_execute_top_to_bottom(sample_db: tuple[Path, Any], tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    env = {"BZMINE_DB": str(sample_db[0]), "BZMINE_AS_OF": AS_OF, "BZMINE_PAPER_OUT": str(tmp_path / "paper")}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    executed: dict[str, Any] = {}
    try:
        for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), (
                f"{path.name} has outputs committed"
            )
            nbclient.NotebookClient(
                nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
            ).execute()
            executed[path.name] = nb
            outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
            assert not [o for o in outputs if o.get("output_type") == "error"]
            assert any(o.get("output_type") in ("execute_result", "display_data") for o in outputs)
            text = "".join(
                str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) for o in outputs
            )
            assert str(sample_db[0]) in text and AS_OF in text, f"{path.name} does not state its parameters"
            plot_cells = [c for c in nb.cells if c.cell_type == "code" and "plots.plot_" in c.source]
            assert plot_cells, f"{path.name} draws no plot"
            for c in plot_cells:  # every plotting cell shows a picture, and the picture is not blank
                pngs = [
                    o["data"]["image/png"] for o in c.get("outputs", []) if "image/png" in o.get("data", {})
                ]
                assert pngs, f"{path.name}: no image from {c.source.splitlines()[-1]!r}"
                _assert_not_blank(base64.b64decode(pngs[0]))
        # the paper notebook wrote every table as a long CSV with its metadata, with rows
        csvs = {p.stem: p.read_text() for p in (tmp_path / "paper").glob("*.csv")}
        assert {
            "incidents_by_owner_status",
            "incidents_by_owner",
            "incidents_by_tag",
            "delayed_revocation_per_quarter",
            "self_reported_share",
            "days_to_close",
            "response_breaches",
            "incidents_by_subject",
            "full_report_on_time",
            "action_item_completion",
            "disclosure_delay",
        } <= set(csvs)
        assert all(len(t.splitlines()) > 1 for t in csvs.values())
        assert all(t.startswith("period,period_kind,dimension,value,") for t in csvs.values())
        assert all((tmp_path / "paper" / f"{n}.meta.json").is_file() for n in csvs)
        # and shows them: the owner-status table per year (a row per year of the sample) and its exclusions
        nb = executed["04_paper_tables.ipynb"]
        shown = {
            c.source.strip(): "".join(
                str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) for o in c.outputs
            )
            for c in nb.cells
            if c.cell_type == "code"
        }
        status = shown['wide("incidents_by_owner_status")']
        assert "included" in status and "unknown" in status and "not a CA: none named" in status
        assert all(str(y) in status for y in range(2018, 2027))
        assert "excluded resolutions (at as_of): none" in "".join(shown.values())
        # the check against the Observatory's published counts: a table and what explains the gaps, or a skip
        from tests.conftest import REALDATA

        check = next(v for k, v in shown.items() if "compare_with_observatory" in k)
        if (REALDATA / "webpki-observatory" / "bugs_raw.json").is_file():
            assert "1688 bugs in the Observatory's list; bzmine counts 1688" in check
            assert "distrusted" in check and "gap" in check and "2019" in check
        else:
            assert "is not present; the comparison is skipped" in check
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_no_plot_in_the_report_is_blank(report_dir: Path) -> None:
    pngs = sorted((report_dir / "img").glob("*.png"))
    assert len(pngs) >= 5
    for p in pngs:
        _assert_not_blank(p.read_bytes())
