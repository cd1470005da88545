"""Plots: DataFrame in, matplotlib Figure out. No database access here.

Colours come from Okabe & Ito's colour-blind-safe palette; per-CA charts are horizontal with a height
that grows with the number of CAs, so 60 CA names never overlap. Every function accepts an empty
DataFrame and returns a figure that says there is no data.

Figures are built without pyplot (no backend is chosen or forced): the CLI writes them with `savefig`, and in
Jupyter a returned Figure shows inline once. Bug-derived text (CA names, tags) is drawn as plain text, never
as mathtext, so a `$` in a summary cannot break a plot.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import matplotlib
import matplotlib.text
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

F = TypeVar("F", bound=Callable[..., Any])
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"]
SEVEN_DAYS_H = 168.0


def _png(fig: Figure) -> bytes:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return buf.getvalue()


def _show_in_jupyter() -> None:
    """In IPython/Jupyter, display a returned Figure as a PNG (pyplot is not used, so nothing else would)."""
    try:
        from IPython import get_ipython  # type: ignore[attr-defined]
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        shell.display_formatter.formatters["image/png"].for_type(Figure, _png)


_show_in_jupyter()


def _plain_text(fn: F) -> F:
    """Build the figure with mathtext off, and draw control characters as '?': labels come from bug text, which
    anyone can write."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with matplotlib.rc_context({"text.parse_math": False}):
            fig = fn(*args, **kwargs)
        for text in fig.findobj(matplotlib.text.Text):
            t = text.get_text()
            if _CONTROL.search(t):
                text.set_text(_CONTROL.sub("?", t))
        return fig

    return wrapper  # type: ignore[return-value]


def _subplots(figsize: tuple[float, float]) -> tuple[Figure, Any]:
    fig = Figure(figsize=figsize)
    return fig, fig.subplots()


def _title(ax: Any, text: str) -> None:
    """The title at the top of the axes, where matplotlib's automatic placement puts it when no tick label is above
    the axes (none of these charts has one); fixing it skips that placement, which measures every tick label on
    each draw (same pixels, a tenth less time on a chart with 50 labelled rows)."""
    ax.set_title(text, y=1.0)


def _no_ylabel(ax: Any) -> None:
    """For a chart without a y-axis label: leave the empty label out of the layout and stop matplotlib placing it
    beside the tick labels on every draw (same pixels; placing it measures every tick label)."""
    ax.yaxis.label.set_visible(False)
    ax.yaxis.set_label_coords(0.0, 0.5)


def _colors(n: int) -> list[str]:
    # beyond 8 series, repeat the palette with hatching left to the caller; most charts keep to the top 8
    return [OKABE_ITO[i % len(OKABE_ITO)] for i in range(n)]


@_plain_text
def _empty(title: str) -> Figure:
    fig, ax = _subplots(figsize=(7, 2.5))
    _title(ax, title)
    ax.text(
        0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes, fontsize=12, color="#555555"
    )
    ax.set_axis_off()
    return fig


def _height(n: int, per: float = 0.28, base: float = 1.6) -> float:
    return max(3.0, base + per * n)


@_plain_text
def plot_incidents_per_year(counts: pd.DataFrame, top: int = 7) -> Figure:
    """Stacked bars: bugs opened per year by whiteboard tag (the `top` most common tags, the rest as 'other').

    counts: index = year, columns = tags, values = bugs (metrics.trends(period='year', dimension='tag')).
    The ubiquitous 'ca-compliance' tag is left out so the categories show.
    """
    title = "CA compliance bugs opened per year, by whiteboard tag"
    if counts is None or counts.empty:
        return _empty(title)
    df = counts.drop(columns=[c for c in ("ca-compliance", "(none)") if c in counts.columns])
    if df.empty or df.to_numpy().sum() == 0:
        return _empty(title)
    order = df.sum().sort_values(ascending=False).index
    keep = list(order[:top])
    plot = df[keep].copy()
    if len(order) > top:
        plot["other"] = df[order[top:]].sum(axis=1)
    fig, ax = _subplots(figsize=(9, 4.5))
    bottom = np.zeros(len(plot))
    colors = _colors(len(keep)) + (["#9a9a9a"] if "other" in plot.columns else [])
    for col, color in zip(plot.columns, colors, strict=True):
        ax.bar(
            plot.index.astype(str),
            plot[col].to_numpy(),
            bottom=bottom,
            label=col,
            color=color,
            edgecolor="white",
            linewidth=0.5,
        )
        bottom += plot[col].to_numpy()
    _title(ax, title)
    ax.set_xlabel("year opened")
    ax.set_ylabel("bugs (a bug counts once per tag)")
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))  # counts: whole numbers
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


@_plain_text
def plot_response_times(events: pd.DataFrame, max_cas: int = 60) -> Figure:
    """Box plot per CA of hours to answer (answered requests), log scale, with the 7-day line."""
    title = "Time for CAs to answer questions and needinfos"
    if events is None or events.empty:
        return _empty(title)
    ans = events[(events["state"] == "answered") & events["ca"].notna()]
    if ans.empty:
        return _empty(title)
    med = ans.groupby("ca")["response_hours"].median().sort_values()
    cas = list(med.index[:max_cas])
    data = [ans.loc[ans["ca"] == ca, "response_hours"].clip(lower=0.1).to_numpy() for ca in cas]
    fig, ax = _subplots(figsize=(9, _height(len(cas))))
    ax.boxplot(
        data,
        orientation="horizontal",
        tick_labels=cas,
        showfliers=True,
        patch_artist=True,
        boxprops={"facecolor": "#56B4E9", "alpha": 0.6},
        medianprops={"color": "#000000"},
        flierprops={"markersize": 3, "markerfacecolor": "#555555"},
    )
    ax.axvline(SEVEN_DAYS_H, color="#D55E00", linestyle="--", linewidth=1.2, label="7 days")
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel("hours from request to first CA answer (log scale)")
    _title(ax, title)
    ax.tick_params(axis="y", labelsize=8)
    ax.legend(loc="lower right", frameon=False)
    _no_ylabel(ax)
    fig.tight_layout()
    return fig


@_plain_text
def plot_within_7d_share(yearly: pd.DataFrame) -> Figure:
    """Share of requests answered within 7 days, per year the bug was opened."""
    title = "Requests answered within 7 days, by year opened"
    if yearly is None or yearly.empty or yearly["share_within_7d"].isna().all():
        return _empty(title)
    df = yearly.dropna(subset=["share_within_7d"])
    fig, ax = _subplots(figsize=(8, 3.8))
    ax.bar(df["year"].astype(str), 100 * df["share_within_7d"], color="#009E73")
    for x, (v, n) in enumerate(zip(df["share_within_7d"], df["requests"], strict=True)):
        ax.text(x, 100 * v + 1, f"{100 * v:.0f}%\n(n={n})", ha="center", va="bottom", fontsize=7)
    ax.set_ylim(0, 115)
    ax.set_ylabel("share of requests (%)")
    ax.set_xlabel("year opened")
    _title(ax, title)
    fig.tight_layout()
    return fig


@_plain_text
def plot_action_items(card: pd.DataFrame, max_cas: int = 60) -> Figure:
    """Open and overdue action items per CA (bugs open at as_of)."""
    title = "Open and overdue action items per CA"
    if card is None or card.empty:
        return _empty(title)
    df = card[["ca", "open_action_items", "overdue_action_items"]].copy()
    df = df[(df["open_action_items"] > 0) | (df["overdue_action_items"] > 0)]
    if df.empty:
        return _empty(title)
    df = df.sort_values(["open_action_items", "ca"], ascending=[True, False]).tail(max_cas)
    y = np.arange(len(df))
    fig, ax = _subplots(figsize=(8, _height(len(df))))
    ax.barh(y + 0.2, df["open_action_items"], height=0.4, color="#0072B2", label="open")
    ax.barh(y - 0.2, df["overdue_action_items"], height=0.4, color="#D55E00", label="overdue")
    ax.set_yticks(y, df["ca"], fontsize=8)
    _no_ylabel(ax)
    ax.set_xlabel("action items")
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    _title(ax, title)
    ax.legend(loc="lower right", frameon=False)
    fig.tight_layout()
    return fig


def _kaplan_meier(t: np.ndarray, closed: np.ndarray) -> tuple[list[float], list[float]]:
    """The steps of a Kaplan-Meier curve: (0, 1), then (time, share still open) at each time a bug closed; bugs still
    open are at risk until their own time (censored). Grouped with numpy (a pandas group per distinct time took
    seconds at 30,000 bugs), with the same factors multiplied in the same order as before."""
    xs, ys, surv = [0.0], [1.0], 1.0
    if not len(t):
        return xs, ys
    order = np.argsort(t, kind="stable")
    times, starts, counts = np.unique(t[order], return_index=True, return_counts=True)
    closed_per_time = np.add.reduceat(closed[order].astype(np.int64), starts)
    at_risk = len(t) - (np.cumsum(counts) - counts)
    for time_, k, r in zip(times.tolist(), closed_per_time.tolist(), at_risk.tolist(), strict=True):
        if k and r:
            surv *= 1 - k / r
            xs.append(float(time_))
            ys.append(surv)
    return xs, ys


@_plain_text
def plot_time_to_close(bugs: pd.DataFrame, as_of: pd.Timestamp | None = None) -> Figure:
    """Share of bugs still open t days after opening, one curve per year opened (Kaplan-Meier, censored at as_of)."""
    title = "Bugs still open after t days, by year opened"
    if bugs is None or bugs.empty:
        return _empty(title)
    at = pd.Timestamp(as_of) if as_of is not None else pd.Timestamp.now(tz=None)
    df = bugs.copy()
    df["year"] = pd.to_datetime(df["opened_at"]).dt.year
    df["t"] = np.where(
        df["days_to_close"].notna(),
        df["days_to_close"],
        (at - pd.to_datetime(df["opened_at"])).dt.total_seconds() / 86400,
    )
    df["event"] = df["days_to_close"].notna()
    years = sorted(df["year"].unique())[-8:]
    fig, ax = _subplots(figsize=(8, 4.2))
    for year, color in zip(years, _colors(len(years)), strict=True):
        g = df[df["year"] == year]
        n = len(g)
        xs, ys = _kaplan_meier(g["t"].to_numpy(dtype=float), g["event"].to_numpy(dtype=bool))
        ax.step(xs, [100 * v for v in ys], where="post", color=color, label=f"{year} (n={n})")
    ax.set_xlabel("days since the bug was opened")
    ax.set_ylabel("bugs still open (%)")
    ax.set_ylim(0, 102)
    ax.set_xlim(left=0)
    _title(ax, title)
    ax.legend(loc="upper right", frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


@_plain_text
def plot_ca_vs_peers(compare: pd.DataFrame, ca: str) -> Figure:
    """One CA's percentile among peers for each ranked figure (higher is better; 50 = the peer median). A bar at the
    0th percentile still shows (a stub and its number); a figure no peer can be ranked on says "no data"."""
    title = f"{ca} beside its peers (percentile, higher is better)"
    if compare is None or compare.empty:
        return _empty(title)
    df = compare.copy()
    if "direction" in df:
        df = df[df["direction"] != "not_ranked"]
    if df.empty or df["percentile"].isna().all():
        return _empty(title)
    df = df.assign(order=df["percentile"].fillna(-1)).sort_values("order")
    names = df["label"] if "label" in df else df["figure"]
    fig, ax = _subplots(figsize=(8.5, _height(len(df), 0.3)))
    rows, widths, colors = [], [], []
    for y, p in enumerate(df["percentile"]):
        if pd.isna(p):
            ax.text(1, y, "no data", va="center", fontsize=8, color="#555555")
            continue
        rows.append(y)
        widths.append(max(p, 1.0))  # a 0th percentile is a visible stub, with its number beside it
        colors.append("#D55E00" if p < 25 else "#E69F00" if p < 50 else "#56B4E9" if p < 75 else "#009E73")
        ax.text(max(p, 1.0) + 1, y, f"{p:.0f}", va="center", fontsize=8)
    # one call for every bar: the same bars as a call for each, drawn faster
    ax.barh(rows, widths, color=colors)
    ax.set_yticks(range(len(df)), list(names))
    _no_ylabel(ax)
    ax.axvline(50, color="#000000", linewidth=0.8, linestyle=":")
    ax.set_xlim(0, 105)
    ax.set_xlabel("percentile among CAs with at least 5 bugs")
    ax.tick_params(axis="y", labelsize=8)
    _title(ax, title)
    fig.tight_layout()
    return fig


# --- rendering many figures: in worker processes, and only those whose inputs changed -------------------------


def render_png(name: str, args: tuple[Any, ...]) -> bytes:
    """Build figure `name` (a plot_* function of this module) from its inputs and return it as PNG bytes.

    The unit of work of the report's plot workers: inputs in, bytes out, so files are written by the caller only."""
    import io

    fn = globals().get(name) if name.startswith("plot_") else None
    if not callable(fn):
        raise ValueError(f"not a plot: {name}")
    buf = io.BytesIO()
    # zlib level 3 rather than PIL's default 6: a third less time encoding, and smaller files for these charts
    fn(*args).savefig(buf, format="png", dpi=100, pil_kwargs={"compress_level": 3})
    return buf.getvalue()


def input_digest(name: str, args: tuple[Any, ...]) -> str:
    """A content hash of a plot's inputs (and of the code that draws it), to skip re-drawing an unchanged plot."""
    import hashlib

    from bzmine.version import __version__

    h = hashlib.sha256(f"{name}\0{__version__}\0{matplotlib.__version__}".encode())
    for a in args:
        if isinstance(a, pd.DataFrame):
            h.update(repr((list(a.columns), [str(t) for t in a.dtypes], a.shape)).encode())
            if len(a):
                h.update(pd.util.hash_pandas_object(a, index=False).values.tobytes())
        else:
            h.update(repr(a).encode())
        h.update(b"\1")
    return h.hexdigest()


def _init_plot_worker(parent: int) -> None:
    from bzmine.procs import die_with_parent

    die_with_parent(parent)


class PlotPool:
    """Draws (plot name, inputs) jobs as PNG bytes: `workers - 1` spawned processes (that end with their parent) start
    on the first jobs at once, while this process does other work (the report writes its pages); `results()` then
    draws the jobs no worker has started yet in this process too, taking them from the end of the queue. The bytes
    are the same whoever draws a job (same code, same inputs); with workers <= 1 nothing is started."""

    def __init__(self, jobs: list[tuple[str, tuple[Any, ...]]], workers: int = 1) -> None:
        import os

        self.jobs = jobs
        self.futures: list[Any] = []
        self.pool: Any = None
        spawned = min(workers, os.cpu_count() or 1, len(jobs)) - 1  # never more processes than cores or plots
        if spawned < 1:
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.pool = ProcessPoolExecutor(
            spawned,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_plot_worker,
            initargs=(os.getpid(),),
        )
        self.futures = [self.pool.submit(render_png, name, args) for name, args in jobs]

    def results(self) -> Iterator[tuple[int, bytes]]:
        """Every job's bytes as (index, bytes), in no particular order."""
        if self.pool is None:
            for i, (name, args) in enumerate(self.jobs):
                yield i, render_png(name, args)
            return
        try:
            last = len(self.jobs)
            # a future that can still be cancelled has not reached a worker: this process draws it instead
            while last > 0 and self.futures[last - 1].cancel():
                last -= 1
                name, args = self.jobs[last]
                yield last, render_png(name, args)
            for i in range(last):
                yield i, self.futures[i].result()
        finally:
            self.close()

    def close(self) -> None:
        """Stop the workers (jobs not started are dropped); safe to call twice."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def render_many(jobs: list[tuple[str, tuple[Any, ...]]], workers: int = 1) -> Iterator[tuple[int, bytes]]:
    """PNG bytes of each job (plot name, inputs), as (index, bytes): with workers > 1, drawn by workers - 1 spawned
    processes and this one (PlotPool)."""
    yield from PlotPool(jobs, workers).results()
