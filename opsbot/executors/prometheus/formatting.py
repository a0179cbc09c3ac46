"""How Prometheus answers read in a reply: times, signed trends, chart files."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from opsbot.executors.charts import Chart, format_value

MAX_ROWS = 20  # table rows for a query or a summary


def utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def parse_rfc3339(text: str | None) -> float | None:
    """A Prometheus timestamp (2026-11-25T13:55:01.123Z) as epoch seconds; None for none or zero."""
    if not text or text.startswith("0001-"):
        return None
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", text)
    if not m:
        return None
    base = datetime.fromisoformat(m[1] + ("+00:00" if m[3] == "Z" else m[3]))
    return base.timestamp() + (float(m[2]) if m[2] else 0.0)


def chart_filename(*parts: str) -> str:
    stem = "-".join(re.sub(r"[^A-Za-z0-9_.-]+", "_", p).strip("_") for p in parts if p)
    return (stem[:80] or "chart") + ".png"


def signed(value: float, unit: str | None) -> str:
    return ("+" if value >= 0 else "-") + format_value(abs(value), unit)


def render(chart: Chart) -> bytes:
    from opsbot.executors.charts import render_png  # matplotlib is loaded only when a chart is drawn

    return render_png(chart)
