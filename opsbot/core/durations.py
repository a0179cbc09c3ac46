"""Durations: the one place they are read ("30m", "1h30m", "500ms") and written ("90m", "~9 days",
"5m ago"). Rule params, config values, schedules, PromQL ranges and the parser's answers all agree
because they all come through here."""

from __future__ import annotations

import re

from opsbot.i18n import _, ngettext

UNITS: dict[str, float] = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_UNIT = "|".join(UNITS)  # "ms" before "m" and "s": the regex tries them in this order
_PART = re.compile(rf"(\d+)({_UNIT})")
_PART_WITH_FRACTIONS = re.compile(rf"(\d+(?:\.\d+)?)({_UNIT})")
DURATION_PATTERN = rf"^([0-9]+({_UNIT}))+$"  # the same spelling as a JSON-schema pattern (for the LLM)
MINUTE, HOUR, DAY = 60, 3600, 86400


def to_seconds(text: str, *, fractions: bool = False) -> float:
    """Seconds in a duration spelt the Prometheus way (1h30m, 500ms, 2d); with `fractions`, 1.5h too.
    ValueError with a clear message otherwise."""
    s = str(text).strip().lower()
    parts = (_PART_WITH_FRACTIONS if fractions else _PART).findall(s)
    if not parts or "".join(a + b for a, b in parts) != s:
        raise ValueError(_("{text} is not a duration; write it like 30m, 6h or 2d").format(text=repr(text)))
    return sum(float(n) * UNITS[u] for n, u in parts)


def parse_duration(text: str) -> int:
    """Whole seconds in a positive duration (milliseconds are dropped); ValueError otherwise."""
    total = int(to_seconds(text))
    if total <= 0:
        raise ValueError(_("{text} is not a positive duration").format(text=repr(text)))
    return total


def format_duration(seconds: float) -> str:
    """The shortest exact Prometheus spelling: 5400 -> '90m', 86400 -> '1d', 604800 -> '7d'."""
    whole = int(seconds)
    for unit in ("d", "h", "m"):  # "7d" reads better than "1w"
        size = int(UNITS[unit])
        if whole % size == 0:
            return f"{whole // size}{unit}"
    return f"{whole}s"


def human_span(seconds: float) -> str:
    """Roughly, in words: ~9 days, ~5 hours, ~40 minutes."""
    if seconds < HOUR:
        n = max(1, round(seconds / MINUTE))
        return ngettext("~{n} minute", "~{n} minutes", n).format(n=n)
    if seconds < 2 * DAY:
        n = round(seconds / HOUR)
        return ngettext("~{n} hour", "~{n} hours", n).format(n=n)
    n = round(seconds / DAY)
    return ngettext("~{n} day", "~{n} days", n).format(n=n)


def ago(seconds: float) -> str:
    """How long ago, tersely, for table cells: 42s ago, 5m ago, 3h ago, 2d ago."""
    seconds = max(0.0, seconds)
    if seconds < 90:
        span = f"{seconds:.0f}s"
    elif seconds < 90 * MINUTE:
        span = f"{seconds / MINUTE:.0f}m"
    elif seconds < 2 * DAY:
        span = f"{seconds / HOUR:.0f}h"
    else:
        span = f"{seconds / DAY:.0f}d"
    return _("{span} ago").format(span=span)
