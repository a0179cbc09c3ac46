"""LLM serving: deploy-to-healthy and scale times on the lab's real Ray Serve (reported, no target), and
the capacity forecast's error on held-out days of a seeded seasonal series with trend, against the
seasonal-naive forecast (yesterday, same time) on the same series in the same run (target: MAPE at a
24 h horizon <= 0.7x seasonal-naive)."""

from __future__ import annotations

import statistics
import time

import numpy as np

from opsbot.serving import capacity as cap

DAY = 86400
TARGET_RATIO = 0.7


def bench_forecast(days: int = 21, held: int = 7, seeds: tuple[int, ...] = (1, 7, 42), noise: float = 0.05) -> dict:
    """Each of the last `held` days forecast a day ahead from the days before it; MAPE of the model and
    of seasonal-naive, averaged over days and seeds."""
    ours, naive, fit_ms = [], [], []
    for seed in seeds:
        t, v = cap.seeded_series(days, seed=seed, noise=noise)
        per_day = int(DAY / (t[1] - t[0]))
        for d in range(held):
            start = len(t) - (held - d) * per_day
            future, actual = t[start : start + per_day], v[start : start + per_day]
            began = time.perf_counter()
            model = cap.fit(t[:start], v[:start])
            fit_ms.append((time.perf_counter() - began) * 1000)
            assert model is not None
            ours.append(cap.mape(actual, model.predict(future)))
            naive.append(cap.mape(actual, cap.seasonal_naive(t[:start], v[:start], future)))
    m, n = float(np.mean(ours)), float(np.mean(naive))
    return {"mape": m, "naive_mape": n, "ratio": m / n, "fit_ms_p50": statistics.median(fit_ms), "noise": noise}


def bench_engines(rounds: int = 3) -> dict:
    """Against a fresh serving lab: the seconds from a deploy's PUT to Ray reporting the new version
    healthy (release checks off), and from a scale PUT to the replicas running, median of `rounds`."""
    from opsbot.config.models import DeploymentConfig
    from opsbot.lab.serving import ServingLab
    from opsbot.serving.ray import RayServe
    from opsbot.serving.registry import Registry
    from opsbot.serving.rollout import Rollout

    began = time.perf_counter()
    with ServingLab.start() as lab:
        start_s = time.perf_counter() - began
        dep = DeploymentConfig(**lab.deployment_config(checks=False))
        rollout = Rollout(dep, RayServe(lab.dashboard_url), Registry(lab.mlflow_url), poll=0.1)
        deploys, scales = [], []
        for i in range(rounds):
            outcome = rollout.deploy("2" if i % 2 == 0 else "1")
            assert outcome.ok, outcome.message
            deploys.append(outcome.seconds)
            for n in (2, 1):
                outcome = rollout.scale(n)
                assert outcome.ok, outcome.message
                scales.append(outcome.seconds)
    return {
        "lab_start_s": start_s,
        "deploy_to_healthy_s_p50": statistics.median(deploys),
        "scale_s_p50": statistics.median(scales),
        "deploys": deploys,
        "scales": scales,
    }
