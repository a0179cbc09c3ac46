"""Forecasting a metric from its recent history: a robust straight-line fit and when it crosses a threshold.

The fit is Theil–Sen (the median of pairwise slopes), so a few spikes do not tilt it, taken over the data
since the last abrupt jump (a cleanup that freed half a disk starts a new trend). Pure functions, no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

DAY = 86400.0
MIN_POINTS = 3
MIN_SPAN = 60.0  # seconds of history below which nothing is forecast
MAX_FIT_POINTS = 400  # Theil–Sen is quadratic; history is thinned to this many points


@dataclass(frozen=True)
class Fit:
    slope: float  # per second
    level: float  # fitted value at t_ref
    t_ref: float

    def at(self, t: float) -> float:
        return self.level + self.slope * (t - self.t_ref)


@dataclass(frozen=True)
class Outlook:
    now: float  # the time the outlook is for (unix seconds)
    last: float  # last observed value
    fitted_now: float  # the trend's value now
    per_day: float  # trend slope per day
    at_horizon: float  # the trend's value at now + horizon
    horizon: float  # seconds
    threshold: float | None
    crosses_at: float | None  # unix seconds when the trend reaches the threshold, if within the horizon
    already: bool  # the last value is at or past the threshold
    history_span: float  # seconds of history the fit used
    points: int

    @property
    def crosses_in(self) -> float | None:
        return None if self.crosses_at is None else max(0.0, self.crosses_at - self.now)


def _clean(times, values) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(times, dtype=float)
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(t) & np.isfinite(v)
    t, v = t[ok], v[ok]
    order = np.argsort(t)
    return t[order], v[order]


def since_last_jump(t: np.ndarray, v: np.ndarray) -> int:
    """Index where the current regime starts: after the last abrupt step that the level stays at
    (a cleanup, a resize). A one-sample spike is a big step too, but the level returns; it is ignored."""
    n = len(v)
    if n < 8:
        return 0
    steps = np.abs(np.diff(v))
    spread = float(np.max(v) - np.min(v))
    if spread == 0:
        return 0
    big = np.nonzero(steps > max(10 * float(np.median(steps)), 0.2 * spread))[0]
    w = max(3, n // 20)
    for i in big[::-1]:
        start = int(i) + 1
        if n - start < MIN_POINTS:
            continue
        before = float(np.median(v[max(0, start - w) : start]))
        after = float(np.median(v[start : start + w]))
        if abs(after - before) > 0.2 * spread:
            return start
    return 0


def theil_sen(t: np.ndarray, v: np.ndarray) -> Fit | None:
    if len(t) < 2:
        return None
    if len(t) > MAX_FIT_POINTS:
        idx = np.linspace(0, len(t) - 1, MAX_FIT_POINTS).round().astype(int)
        t, v = t[idx], v[idx]
    i, j = np.triu_indices(len(t), k=1)
    dt = t[j] - t[i]
    keep = dt > 0
    if not keep.any():
        return None
    slope = float(np.median((v[j] - v[i])[keep] / dt[keep]))
    t_ref = float(t[-1])
    level = float(np.median(v - slope * (t - t_ref)))
    return Fit(slope=slope, level=level, t_ref=t_ref)


def history_needed(step: float) -> int:
    """Seconds of history a forecast from points `step` seconds apart needs: MIN_POINTS of them, and
    MIN_SPAN at least (a 7-day forecast queried at one point every 30m needs an hour)."""
    return int(max(MIN_SPAN, (MIN_POINTS - 1) * step))


def span_of(times, values) -> float:
    """Seconds between the first and the last usable point of a series."""
    t, _v = _clean(times, values)
    return float(t[-1] - t[0]) if len(t) > 1 else 0.0


def outlook(times, values, now: float, horizon: float, threshold: float | None) -> Outlook | None:
    """The trend of a series and when it reaches `threshold` (rising) within `horizon` seconds of `now`.
    None when there is too little history (fewer than 3 points or under a minute)."""
    t, v = _clean(times, values)
    if len(t) < MIN_POINTS or t[-1] - t[0] < MIN_SPAN:
        return None
    start = since_last_jump(t, v)
    t, v = t[start:], v[start:]
    if len(t) < MIN_POINTS or t[-1] - t[0] < MIN_SPAN:
        return None
    fit = theil_sen(t, v)
    if fit is None:
        return None
    last = float(v[-1])
    fitted_now = fit.at(now)
    crosses_at = None
    already = threshold is not None and last >= threshold
    if threshold is not None and not already and fit.slope > 0:
        t_cross = now + (threshold - fitted_now) / fit.slope
        if fitted_now >= threshold:
            t_cross = now
        if t_cross <= now + horizon:
            crosses_at = t_cross
    return Outlook(
        now=now,
        last=last,
        fitted_now=fitted_now,
        per_day=fit.slope * DAY,
        at_horizon=fit.at(now + horizon),
        horizon=horizon,
        threshold=threshold,
        crosses_at=crosses_at,
        already=already,
        history_span=float(t[-1] - t[0]),
        points=len(t),
    )


def projection(o: Outlook, steps: int = 50) -> tuple[list[float], list[float]]:
    """The forecast line from now to the crossing (plus a little) or the horizon, for a chart."""
    end = o.now + o.horizon
    if o.crosses_at is not None:
        end = min(end, o.crosses_at + 0.1 * max(o.crosses_at - o.now, 3600.0))
    ts = [o.now + (end - o.now) * k / steps for k in range(steps + 1)]
    return ts, [o.fitted_now + o.per_day / DAY * (x - o.now) for x in ts]


def is_finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)
