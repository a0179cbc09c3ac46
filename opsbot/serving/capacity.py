"""Request-rate forecasts with daily seasonality and trend, and the replicas they call for. The model is a
least-squares fit of a linear trend plus a few daily harmonics (sines and cosines of the time of day),
refit once without the points it explains worst (spikes, outages). Pure numpy, no I/O.
`benchmarks/llmserve.py` measures it against the seasonal-naive forecast (yesterday, same time)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DAY = 86400.0
HARMONICS = 4  # a daily shape with a morning rise, an evening peak and a night trough needs about four
MIN_SPAN = DAY / 2  # less history than this cannot show a daily shape
Floats = Sequence[float] | np.ndarray


@dataclass(frozen=True)
class SeasonalModel:
    coef: np.ndarray
    t0: float
    harmonics: int

    def design(self, times: np.ndarray) -> np.ndarray:
        d = (times - self.t0) / DAY
        cols = [np.ones_like(d), d]
        for k in range(1, self.harmonics + 1):
            cols += [np.sin(2 * math.pi * k * d), np.cos(2 * math.pi * k * d)]
        return np.column_stack(cols)

    def predict(self, times: Floats) -> np.ndarray:
        t = np.asarray(times, dtype=float)
        return np.maximum(self.design(t) @ self.coef, 0.0)  # a request rate is never negative


def fit(times: Floats, values: Floats, harmonics: int = HARMONICS) -> SeasonalModel | None:
    """The model for the finite points of (times, values); None with too little history."""
    t = np.asarray(times, dtype=float)
    v = np.asarray(values, dtype=float)
    keep = np.isfinite(t) & np.isfinite(v)
    t, v = t[keep], v[keep]
    if len(t) < 4 * harmonics + 2 or float(t.max() - t.min()) < MIN_SPAN:
        return None
    t0 = float(t.min())
    model = SeasonalModel(np.zeros(2 + 2 * harmonics), t0, harmonics)
    x = model.design(t)
    coef, *_ = np.linalg.lstsq(x, v, rcond=None)
    resid = np.abs(v - x @ coef)
    cut = np.quantile(resid, 0.95)
    inliers = resid <= max(cut, 1e-12)
    if inliers.sum() >= x.shape[1] + 2:  # refit without the worst 5% (spikes, outages)
        coef, *_ = np.linalg.lstsq(x[inliers], v[inliers], rcond=None)
    return SeasonalModel(coef, t0, harmonics)


def seasonal_naive(times: Floats, values: Floats, future: Floats) -> np.ndarray:
    """The value one day before each future time (interpolated): the baseline a forecast must beat."""
    t = np.asarray(times, dtype=float)
    v = np.asarray(values, dtype=float)
    f = np.asarray(future, dtype=float) - DAY
    return np.interp(f, t, v)


def mape(actual: Floats, predicted: Floats) -> float:
    a = np.asarray(actual, dtype=float)
    p = np.asarray(predicted, dtype=float)
    ok = np.isfinite(a) & np.isfinite(p) & (np.abs(a) > 1e-9)
    return float(np.mean(np.abs((a[ok] - p[ok]) / a[ok]))) if ok.any() else float("nan")


@dataclass(frozen=True)
class CapacityPlan:
    peak_rps: float
    peak_at: float  # unix seconds
    per_replica_rps: float
    replicas: int
    headroom: float


def replicas_for(peak_rps: float, per_replica_rps: float, headroom: float = 0.8, minimum: int = 1) -> int:
    """Replicas so that the peak keeps each one at or under `headroom` of what it can serve."""
    if per_replica_rps <= 0:
        raise ValueError("per-replica capacity must be positive")
    return max(minimum, math.ceil(peak_rps / (per_replica_rps * headroom) - 1e-9))


def plan(
    model: SeasonalModel, now: float, horizon: float, per_replica_rps: float, headroom: float = 0.8, step: float = 300
) -> tuple[CapacityPlan, np.ndarray, np.ndarray]:
    """The forecast over (now, now + horizon] and the replicas its peak needs."""
    future = np.arange(now + step, now + horizon + step / 2, step)
    pred = model.predict(future)
    i = int(np.argmax(pred))
    peak = float(pred[i])
    return (
        CapacityPlan(peak, float(future[i]), per_replica_rps, replicas_for(peak, per_replica_rps, headroom), headroom),
        future,
        pred,
    )


def seeded_series(
    days: float,
    step: float = 300,
    start: float = 1_700_000_000.0,
    seed: int = 7,
    base: float = 20.0,
    amplitude: float = 12.0,
    trend_per_day: float = 1.5,
    noise: float = 0.05,
) -> tuple[np.ndarray, np.ndarray]:
    """A request-rate series with a daily cycle (evening peak), a rising trend and multiplicative noise,
    for the capacity spec, the benchmark and the lab's history (same seed, same series)."""
    rng = np.random.default_rng(seed)
    t = np.arange(start, start + days * DAY, step)
    d = (t - start) / DAY
    hour = (t % DAY) / 3600
    daily = np.exp(-(((hour - 20) % 24 - 0) ** 2) / 18) + np.exp(-(((hour - 20) % 24 - 24) ** 2) / 18)  # peak ~20:00
    daily += 0.5 * np.exp(-((hour - 11) ** 2) / 8)  # a smaller late-morning bump
    level = base + trend_per_day * d + amplitude * daily
    return t, level * (1 + noise * rng.standard_normal(len(t)))
