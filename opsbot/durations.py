"""Prometheus-style durations ("30m", "6h", "1h30m") <-> seconds."""

from __future__ import annotations

import re

from opsbot.i18n import _

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_DUR = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")


def parse_duration(text: str) -> int:
    """Seconds in a Prometheus duration; ValueError with a clear message otherwise."""
    s = str(text).strip().lower()
    parts = _DUR.findall(s)
    if not parts or "".join(a + b for a, b in parts) != s:
        raise ValueError(_("{text} is not a duration; write it like 30m, 6h or 2d").format(text=repr(text)))
    total = sum(int(n) * (UNITS[u] if u != "ms" else 0) for n, u in parts)
    if total <= 0:
        raise ValueError(_("{text} is not a positive duration").format(text=repr(text)))
    return total


def format_duration(seconds: int) -> str:
    """The shortest exact Prometheus spelling: 5400 -> '90m', 86400 -> '1d'."""
    for unit in ("d", "h", "m"):  # "7d" reads better than "1w"
        if seconds % UNITS[unit] == 0:
            return f"{seconds // UNITS[unit]}{unit}"
    return f"{seconds}s"
