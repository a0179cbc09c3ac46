"""Series from Prometheus answers, and the helpers that shape them: the query step, readable names."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

NICE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


@dataclass
class Series:
    labels: dict[str, str]
    times: list[float]
    values: list[float]

    def finite(self) -> list[float]:
        return [v for v in self.values if math.isfinite(v)]

    @property
    def last(self) -> float | None:
        vals = self.finite()
        return vals[-1] if vals else None


def number(text: Any) -> float:
    """A sample value as Prometheus sends it (a string); NaN when it is not a number."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


def series_from(item: dict[str, Any]) -> Series:
    """One result item of an instant (`value`) or range (`values`) query."""
    if "values" in item:
        pts = item["values"]
    else:
        pts = [item["value"]]
    return Series(
        labels=dict(item.get("metric") or {}), times=[float(t) for t, _ in pts], values=[number(v) for _, v in pts]
    )


def choose_step(window: float, max_points: int) -> int:
    """The smallest round step that keeps a range query at or under `max_points` points per series."""
    need = window / max(max_points - 1, 1)
    for s in NICE_STEPS:
        if s >= need:
            return s
    return math.ceil(need)


def series_names(label_sets: list[dict[str, str]], prefer: str) -> list[str]:
    """Short, distinct names: the `prefer` label (the host) when it tells the series apart, else that
    label plus the labels that vary, e.g. web-2{job="nginx"}; the metric name as a last resort."""
    keys = sorted({k for ls in label_sets for k in ls} - {"__name__"})
    unique = all(prefer in ls for ls in label_sets) and len({ls[prefer] for ls in label_sets}) == len(label_sets)
    varying = [k for k in keys if k != prefer and len({ls.get(k) for ls in label_sets}) > 1]
    names = []
    for ls in label_sets:
        base = ls.get(prefer, "")
        if unique:
            extra = []
        elif len(label_sets) == 1:
            extra = [k for k in keys if k != prefer]
        else:
            extra = varying
        inner = ",".join(f'{k}="{ls[k]}"' for k in extra if k in ls)
        names.append((base + (f"{{{inner}}}" if inner else "")) or ls.get("__name__") or "value")
    return names
