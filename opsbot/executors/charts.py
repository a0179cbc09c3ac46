"""Charts as PNG bytes, and the number formatting charts and tables share.

matplotlib is imported only when a chart is drawn, with the Agg canvas on a fresh Figure (no pyplot, no
global state), so this works headless and from several threads."""

from __future__ import annotations

import functools
import io
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from opsbot.i18n import _

CJK_FONTS = ["WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans CJK JP", "AR PL UMing CN"]
CJK_FONT_FILES = re.compile(r"wqy|noto.*cjk|uming", re.I)


@functools.cache
def _cjk_fonts() -> list[str]:
    """Register the installed CJK fonts with matplotlib (its font cache may predate them); their names."""
    from matplotlib import font_manager

    for path in font_manager.findSystemFonts():
        if CJK_FONT_FILES.search(path):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue
    known = {f.name for f in font_manager.fontManager.ttflist}
    return [name for name in CJK_FONTS if name in known]


MAX_LINES = 10  # lines drawn per chart; the rest are summarised in the table only


def format_value(value: float | None, unit: str | None = None) -> str:
    """A number for people: 71.3%, 1.2 GiB, 250 ms, 3.1 req/s, 12.4k."""
    if value is None or not math.isfinite(value):
        return "—"
    unit = unit or ""
    if unit == "percent":
        return f"{value:.1f}%" if 0 < abs(value) < 10 else f"{value:.0f}%"
    if unit == "bytes":
        v = float(value)
        for suffix in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
            if abs(v) < 1024 or suffix == "PiB":
                return f"{v:.0f} {suffix}" if suffix == "B" else f"{v:.1f} {suffix}"
            v /= 1024
    if unit == "seconds":
        if abs(value) < 1:
            return f"{value * 1000:.0f} ms"
        return f"{value:.2f} s" if abs(value) < 10 else f"{value:.0f} s"
    if unit == "reqps":
        return f"{_compact(value)} req/s"
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    return _compact(value) + (f" {unit}" if unit else "")


def _compact(value: float) -> str:
    a = abs(value)
    for limit, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if a >= limit:
            return f"{value / limit:.3g}{suffix}"
    if a == 0:
        return "0"
    if a < 0.001:
        return f"{value:.2e}"
    return f"{value:.3g}"


@dataclass
class Line:
    label: str
    times: list[float]  # unix seconds
    values: list[float]
    dashed: bool = False
    color: str | None = None


@dataclass
class Chart:
    title: str
    unit: str | None = None
    lines: list[Line] = field(default_factory=list)
    threshold: float | None = None  # a horizontal line (e.g. 100% for a disk)
    now: float | None = None  # a vertical marker between history and forecast
    x_range: tuple[float, float] | None = None  # the time span asked for (unix seconds)


def render_png(chart: Chart, width: float = 8.0, height: float = 3.6, dpi: int = 100) -> bytes:
    """The chart as a PNG; one line per series, the legend labelled by series, time axis in UTC."""
    from matplotlib import rcParams
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    # Chinese titles and labels: a CJK font when one is installed (fonts-wqy-microhei: make installs it)
    rcParams["font.family"] = ["DejaVu Sans", *_cjk_fonts(), "sans-serif"]  # per-glyph fallback, in order
    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    palette = [f"C{i}" for i in range(10)]
    colors: dict[str, str] = {}
    drawn = 0
    for line in chart.lines:
        if not line.times:
            continue
        base = line.label.removesuffix(" (forecast)")
        color = line.color or colors.setdefault(base, palette[len(colors) % len(palette)])
        xs = date2num([datetime.fromtimestamp(t, tz=UTC) for t in line.times])
        ys = [v if v is not None and math.isfinite(v) else float("nan") for v in line.values]
        sparse = len(xs) <= 20 and not line.dashed  # a fresh series: show the points themselves
        ax.plot(
            xs,
            ys,
            linestyle="--" if line.dashed else "-",
            linewidth=1.4,
            color=color,
            label=line.label,
            marker="o" if sparse else None,
            markersize=3,
        )
        drawn += 1
    if chart.threshold is not None:
        ax.axhline(
            chart.threshold,
            color="red",
            linestyle=":",
            linewidth=1,
            label=_("threshold {value}").format(value=format_value(chart.threshold, chart.unit)),
        )
    if chart.now is not None:
        ax.axvline(float(date2num(datetime.fromtimestamp(chart.now, tz=UTC))), color="grey", linewidth=0.8)
    if chart.x_range is not None:
        lo, hi = chart.x_range
        margin = 0.015 * (hi - lo)
        ax.set_xlim(
            float(date2num(datetime.fromtimestamp(lo, tz=UTC))),
            float(date2num(datetime.fromtimestamp(hi + margin, tz=UTC))),
        )
    locator = AutoDateLocator(tz=UTC)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator, tz=UTC))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: format_value(v, chart.unit)))
    if chart.unit == "percent":
        finite = [v for ln in chart.lines for v in ln.values if v is not None and math.isfinite(v)]
        finite += [chart.threshold] if chart.threshold is not None else []
        top = max(finite, default=1.0)
        ax.set_ylim(0, max(103.0, top * 1.05) if top > 80 else max(top * 1.15, 1.0))
    ax.set_title(chart.title, fontsize=11)
    ax.set_xlabel("UTC", fontsize=8)
    ax.grid(True, alpha=0.3)
    if drawn:
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
