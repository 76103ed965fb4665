"""Charts as PNG bytes: score trend with target and grade bands, customers × months heat map,
XmR control chart. Chinese text uses Noto Sans CJK from the noto-cjk-sans-otc package, so
a fresh install renders it without a missing-glyph warning.

Uses matplotlib's object API (Figure + Agg canvas), not pyplot: no global state, safe from
the server's threads. matplotlib is imported at the first chart, not with this module: a
worker that acknowledges requests starts without it.
"""

from __future__ import annotations

import functools
import hashlib
import io
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.core.texts import score_text, short_label  # noqa: F401 - charts' labels use it

if TYPE_CHECKING:
    from matplotlib.figure import Figure

GRADE_COLOURS = {
    "very_satisfied": "#2e7d32",
    "satisfied": "#8bc34a",
    "average": "#ffb300",
    "unsatisfied": "#e53935",
}
FONT_FAMILY = ["Noto Sans CJK SC", "DejaVu Sans"]
LATIN = "DejaVu Sans"  # digits only: laid out with the CJK collection, each costs several times more
REMEMBERED_CHARTS = 32  # per chart kind; a heat map is some 100 kB


@functools.cache
def setup_fonts() -> str:
    """Load matplotlib for drawing off screen and register the bundled CJK font, once;
    returns the font's family name."""
    import matplotlib

    matplotlib.use("Agg")
    import noto_cjk_sans_otc
    from matplotlib import font_manager

    path = Path(noto_cjk_sans_otc.__file__).parent / "NotoSansCJK-Regular.ttc"
    font_manager.fontManager.addfont(str(path))
    matplotlib.rcParams["font.sans-serif"] = FONT_FAMILY
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["axes.unicode_minus"] = False
    return FONT_FAMILY[0]


def _figure(**size: Any) -> Figure:
    setup_fonts()
    from matplotlib.figure import Figure

    return Figure(**size)


def _png(figure: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buffer = io.BytesIO()
    FigureCanvasAgg(figure)
    figure.savefig(buffer, format="png", dpi=110, pil_kwargs={"compress_level": 3})  # 6 costs 2× the time, saves 6 %
    return buffer.getvalue()


def remembered(draw: Callable[..., bytes]) -> Callable[..., bytes]:
    """The last charts drawn, by what they show: twenty people asking for the same overview
    at once get one drawing (the others wait for it rather than draw it again)."""
    drawn: OrderedDict[str, bytes] = OrderedDict()
    drawing: dict[str, threading.Lock] = {}
    guard = threading.Lock()

    @functools.wraps(draw)
    def chart(*args: Any, **kwargs: Any) -> bytes:
        key = hashlib.sha256(repr((args, sorted(kwargs.items()))).encode()).hexdigest()
        with guard:
            if key in drawn:
                drawn.move_to_end(key)
                return drawn[key]
            lock = drawing.setdefault(key, threading.Lock())
        with lock:
            with guard:
                if key in drawn:
                    return drawn[key]
            png = draw(*args, **kwargs)
            with guard:
                drawn[key] = png
                drawing.pop(key, None)
                while len(drawn) > REMEMBERED_CHARTS:
                    drawn.popitem(last=False)
            return png
    return chart


@dataclass(frozen=True)
class Band:
    key: str
    label: str
    low: float
    high: float


class _TrendTemplate:
    """What every trend of the same months, target and scale shares (axes, ticks, bands,
    target, legend), drawn once and kept as pixels; a customer's trend restores them and
    draws only its line, its labels and its title on top (blitting): a fraction of drawing
    the whole figure again, and the same picture."""

    def __init__(self, months: tuple[str, ...], target: float, bands: tuple[Band, ...], target_label: str,
                 score_label: str, bottom: float) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        setup_fonts()
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(8, 3.6), dpi=110)
        self.canvas = FigureCanvasAgg(self.figure)
        axes = self.axes = self.figure.add_subplot()
        for band in bands:
            axes.axhspan(band.low, band.high, color=GRADE_COLOURS.get(band.key, "#cccccc"), alpha=0.13, lw=0)
            low, high = max(band.low, bottom), min(band.high, 102)
            if high - low >= 4:
                axes.text(len(months) - 0.35, (low + high) / 2, band.label, va="center", ha="left", fontsize=8,
                          color="#555555")
        (self.line,) = axes.plot([], [], marker="o", color="#1f4e79", lw=2, label=score_label)
        axes.axhline(target, color="#c62828", ls="--", lw=1.2, label=f"{target_label} {target:g}")
        axes.set_xticks(list(range(len(months))), [m[2:] for m in months], fontsize=8, fontfamily=LATIN)
        axes.tick_params(axis="y", labelfontfamily=LATIN)
        axes.set_ylim(bottom, 104)
        axes.set_xlim(-0.5, len(months) + 0.6)
        axes.set_title(" ", fontsize=11)
        self.legend = axes.legend(loc="lower left", fontsize=8, frameon=False)
        axes.grid(axis="y", alpha=0.25)
        self.figure.subplots_adjust(left=0.065, right=0.985, top=0.9, bottom=0.1)  # fixed: one drawing, not two
        self.legend.set_visible(False)  # drawn over the line with each trend, not twice
        self.canvas.draw()
        self.background = self.canvas.copy_from_bbox(self.figure.bbox)
        self.legend.set_visible(True)

    def draw(self, title: str, scores: Sequence[float | None]) -> bytes:
        from PIL import Image

        axes = self.axes
        self.canvas.restore_region(self.background)
        self.line.set_data(list(range(len(scores))), [s if s is not None else float("nan") for s in scores])
        axes.draw_artist(self.line)
        for index, value in enumerate(scores):
            if value is not None:
                label = axes.annotate(score_text(value), (index, value), textcoords="offset points", xytext=(0, 6),
                                      ha="center", fontsize=8, fontfamily=LATIN)
                axes.draw_artist(label)
                label.remove()
        axes.title.set_text(title)
        axes.draw_artist(axes.title)
        axes.draw_artist(self.legend)
        width, height = self.canvas.get_width_height()
        buffer = io.BytesIO()
        Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1).convert(
            "RGB").save(buffer, format="PNG", compress_level=1)  # opaque; the fastest level is 10 % larger
        return buffer.getvalue()


_trend_templates = threading.local()  # a figure is drawn by one thread at a time
TREND_TEMPLATES = 4  # per thread: the spans and scales asked for lately


@remembered
def trend_chart(title: str, months: Sequence[str], scores: Sequence[float | None], target: float,
                bands: Sequence[Band], target_label: str, score_label: str) -> bytes:
    """13-month score trend: grade bands shaded, target dashed, months without a score left open."""
    if len(scores) != len(months):
        raise ValueError("one score (or None) per month")
    known = [s for s in scores if s is not None]
    bottom = 5 * (max(0.0, min(known + [target]) - 15) // 5)  # a few scales, so that templates are shared
    key = (tuple(months), target, tuple(bands), target_label, score_label, bottom)
    templates: OrderedDict[tuple[Any, ...], _TrendTemplate] = getattr(_trend_templates, "by_key", None) or OrderedDict()
    _trend_templates.by_key = templates
    template = templates.get(key)
    if template is None:
        template = templates[key] = _TrendTemplate(*key)
        while len(templates) > TREND_TEMPLATES:
            templates.popitem(last=False)
    templates.move_to_end(key)
    return template.draw(title, scores)


@remembered
def heatmap_chart(title: str, customers: Sequence[str], months: Sequence[str],
                  grid: Sequence[Sequence[float | None]], bands: Sequence[Band]) -> bytes:
    """Customers × months, each cell coloured by its grade and labelled with the score."""
    from matplotlib.colors import BoundaryNorm, ListedColormap

    ordered = sorted(bands, key=lambda b: b.low)
    colours = ListedColormap([GRADE_COLOURS.get(b.key, "#cccccc") for b in ordered])
    norm = BoundaryNorm([b.low for b in ordered] + [100.0001], colours.N)
    height = max(2.5, 0.32 * len(customers) + 1.2)
    figure = _figure(figsize=(max(6.0, 0.55 * len(months) + 3.5), height))
    axes = figure.add_subplot()
    data = [[v if v is not None else float("nan") for v in row] for row in grid]
    image = axes.imshow(data, cmap=colours, norm=norm, aspect="auto")
    for r, row in enumerate(grid):
        for c, value in enumerate(row):
            if value is not None:
                axes.text(c, r, score_text(value), ha="center", va="center", fontsize=6.5, color="#111111")
    axes.set_xticks(range(len(months)), [m[2:] for m in months], fontsize=8, rotation=45)
    axes.set_yticks(range(len(customers)), customers, fontsize=8)
    axes.set_title(title, fontsize=11)
    colourbar = figure.colorbar(image, ax=axes, ticks=[(b.low + b.high) / 2 for b in ordered], shrink=0.8)
    colourbar.ax.set_yticklabels([b.label for b in ordered], fontsize=8)
    figure.tight_layout()
    return _png(figure)


def xmr_chart(title: str, months: Sequence[str], values: Sequence[float], mean: float, upper: float,
              lower: float, target: float | None, signals: Sequence[int], labels: dict[str, str]) -> bytes:
    """Individuals chart with x̄ and the natural process limits; signals in red."""
    figure = _figure(figsize=(8, 3.6))
    axes = figure.add_subplot()
    x = list(range(len(values)))
    axes.plot(x, values, marker="o", color="#1f4e79", lw=1.8, label=labels["value"])
    for index in signals:
        axes.plot(index, values[index], marker="o", color="#e53935", markersize=10, ls="none")
    axes.axhline(mean, color="#455a64", lw=1, label=f"{labels['mean']} {mean:g}")
    axes.axhline(upper, color="#6d4c41", ls=":", lw=1.2, label=f"{labels['limits']} {lower:g} – {upper:g}")
    axes.axhline(lower, color="#6d4c41", ls=":", lw=1.2)
    if target is not None:
        axes.axhline(target, color="#c62828", ls="--", lw=1.2, label=f"{labels['target']} {target:g}")
    axes.set_xticks(x, [m[2:] for m in months], fontsize=8)
    axes.set_title(title, fontsize=11)
    # below the plot: inside it, the legend covered the lower limit's line
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=4, fontsize=8, frameon=False)
    axes.grid(axis="y", alpha=0.25)
    figure.tight_layout()
    return _png(figure)


def pareto_chart(title: str, labels: Sequence[str], values: Sequence[float], cumulative: Sequence[float],
                 value_label: str, cumulative_label: str, counts: bool = True) -> bytes:
    """Bars in falling order with the cumulative share on a second axis (80 % line); a count
    axis runs in whole numbers (one complaint is not 0.0–1.0 in steps of 0.2)."""
    from matplotlib.ticker import MaxNLocator

    figure = _figure(figsize=(8, 3.8))
    axes = figure.add_subplot()
    if counts:
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    x = list(range(len(values)))
    axes.bar(x, values, color="#1f4e79", label=value_label, width=0.6)
    axes.set_xlim(-0.6, max(len(values), 5) - 0.4)  # one cause is a bar, not the whole width
    crowded = len(values) > 6  # long labels side by side overlap: slant them further
    axes.set_xticks(x, list(labels), fontsize=8, rotation=40 if crowded else 20, ha="right" if crowded else "center")
    axes.set_ylabel(value_label, fontsize=9)
    share = axes.twinx()
    share.plot(x, cumulative, color="#c62828", marker="o", lw=1.5, label=cumulative_label)
    share.axhline(80, color="#c62828", ls=":", lw=1)
    share.set_ylim(0, 105)
    share.set_ylabel(cumulative_label, fontsize=9)
    axes.set_title(title, fontsize=11)
    figure.tight_layout()
    return _png(figure)


def grade_distribution_chart(title: str, months: Sequence[str], bands: Sequence[Band],
                             counts: Sequence[dict[str, int]], count_label: str) -> bytes:
    """How many customers had each grade, month by month: stacked bars, best grade on top."""
    from matplotlib.ticker import MaxNLocator

    if len(counts) != len(months):
        raise ValueError("one count per month")
    figure = _figure(figsize=(8, 3.8))
    axes = figure.add_subplot()
    x = list(range(len(months)))
    bottom = [0] * len(months)
    for band in sorted(bands, key=lambda b: b.low):
        heights = [month.get(band.key, 0) for month in counts]
        axes.bar(x, heights, bottom=bottom, color=GRADE_COLOURS.get(band.key, "#cccccc"), label=band.label)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    axes.set_xticks(x, [m[2:] for m in months], fontsize=8, fontfamily=LATIN)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # customers are counted in whole numbers
    axes.set_ylabel(count_label, fontsize=9)
    axes.set_title(title, fontsize=11)
    handles, labels = axes.get_legend_handles_labels()
    axes.legend(handles[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    figure.tight_layout()
    return _png(figure)


def breakdown_chart(title: str, categories: Sequence[str], allotted: Sequence[float], kept: Sequence[float],
                    kept_label: str, lost_label: str) -> bytes:
    """What a month's points were made of: per category the points kept and, beside them in
    red, the points lost, each labelled."""
    figure = _figure(figsize=(8, 0.7 * len(categories) + 1.6))
    axes = figure.add_subplot()
    y = list(range(len(categories)))[::-1]
    lost = [a - k for a, k in zip(allotted, kept, strict=True)]
    axes.barh(y, kept, color=GRADE_COLOURS["very_satisfied"], label=kept_label, height=0.55)
    axes.barh(y, lost, left=kept, color=GRADE_COLOURS["unsatisfied"], label=lost_label, height=0.55)
    for row, k, gone, full in zip(y, kept, lost, allotted, strict=True):
        axes.text(k / 2, row, score_text(k), ha="center", va="center", fontsize=8, color="white",
                  fontfamily=LATIN)
        if gone > 0:
            axes.text(full + 0.5, row, f"−{score_text(gone)}", ha="left", va="center", fontsize=9,
                      color=GRADE_COLOURS["unsatisfied"], fontfamily=LATIN)
    axes.set_yticks(y, list(categories), fontsize=9)
    axes.set_xlim(0, max(allotted) * 1.18)
    axes.set_title(title, fontsize=11)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=8, frameon=False)
    figure.tight_layout()
    return _png(figure)


def importance_performance_chart(title: str, labels: Sequence[str], importance: Sequence[float],
                                 scores: Sequence[float], quadrant_labels: Sequence[str], importance_label: str,
                                 score_label: str) -> bytes:
    """Importance–performance analysis: each dimension a point, importance across and its
    score up, split at the means into the four quadrants, each named in its corner
    (`quadrant_labels`: concentrate here, keep up the good work, low priority, possible
    overkill). Square enough for a phone."""
    figure = _figure(figsize=(6.4, 5.6))
    axes = figure.add_subplot()
    middle_x, middle_y = sum(importance) / len(importance), sum(scores) / len(scores)
    low_x, high_x = min(min(importance) - 0.3, middle_x - 0.5), max(max(importance) + 0.3, middle_x + 0.5)
    low_y, high_y = max(0.0, min(min(scores) - 8, middle_y - 15)), min(100.0, max(max(scores) + 8, middle_y + 15))
    axes.axvline(middle_x, color="#888888", lw=1, ls="--")
    axes.axhline(middle_y, color="#888888", lw=1, ls="--")
    shades = ("#fdecea", "#e8f5e9", "#f5f5f5", "#fff8e1")
    corners = ((high_x, low_y, "right", "bottom"), (high_x, high_y, "right", "top"),
               (low_x, low_y, "left", "bottom"), (low_x, high_y, "left", "top"))
    spans = (((middle_x, high_x), (low_y, middle_y)), ((middle_x, high_x), (middle_y, high_y)),
             ((low_x, middle_x), (low_y, middle_y)), ((low_x, middle_x), (middle_y, high_y)))
    for shade, ((x0, x1), (y0, y1)), (x, y, ha, va), label in zip(shades, spans, corners, quadrant_labels,
                                                                   strict=True):
        axes.fill_between([x0, x1], y0, y1, color=shade, zorder=0)
        axes.text(x, y, f" {label} ", ha=ha, va=va, fontsize=9, color="#555555")
    axes.scatter(importance, scores, s=46, color="#1f4e79", zorder=3)
    for x, y, label in zip(importance, scores, labels, strict=True):
        axes.annotate(label, (x, y), xytext=(5, 4), textcoords="offset points", fontsize=9, zorder=4)
    axes.set_xlim(low_x, high_x)
    axes.set_ylim(low_y, high_y)
    axes.set_xlabel(importance_label, fontsize=9)
    axes.set_ylabel(score_label, fontsize=9)
    axes.set_title(title, fontsize=11)
    figure.tight_layout()
    return _png(figure)
