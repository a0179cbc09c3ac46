"""Ray Serve's own metrics in Prometheus for one deployment: request rate, p95 latency, error ratio, and
the request-rate history the capacity forecast is fitted on."""

from __future__ import annotations

import math

from opsbot.config import Config
from opsbot.executors.llmserve.common import RayDeployment


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def selector(rd: RayDeployment) -> str:
    return "{" + f"application={_quoted(rd.ray_cfg.app)},deployment={_quoted(rd.ray_cfg.deployment)}" + "}"


def queries(rd: RayDeployment) -> dict[str, str]:
    s = selector(rd)
    requests = f"sum(rate(ray_serve_deployment_request_counter_total{s}[5m]))"
    return {
        "rps": requests,
        "p95": "histogram_quantile(0.95, sum by (le) "
        f"(rate(ray_serve_deployment_processing_latency_ms_bucket{s}[5m]))) / 1000",
        "errors": f"(sum(rate(ray_serve_deployment_error_counter_total{s}[5m])) or vector(0)) / {requests}",
        "per_replica": f"{requests} / sum(ray_serve_deployment_replica_healthy{s})",
    }


def prometheus_url(config: Config, rd: RayDeployment) -> str:
    return rd.dep.prometheus or config.prometheus.url


def instant(config: Config, rd: RayDeployment) -> dict[str, float]:
    """The current values (missing ones left out); PromError when Prometheus does not answer."""
    from opsbot.executors.prometheus.client import PrometheusClient
    from opsbot.executors.prometheus.series import series_from

    client = PrometheusClient(prometheus_url(config, rd), config.prometheus.timeout)
    out: dict[str, float] = {}
    try:
        for key, q in queries(rd).items():
            result = client.instant(q)
            for item in result if isinstance(result, list) else []:
                value = series_from(item).last
                if value is not None and math.isfinite(value):
                    out[key] = value
    finally:
        client.close()
    return out


def history(config: Config, rd: RayDeployment, start: float, end: float, step: int, key: str = "rps"):
    """(times, values) of one query over [start, end]; empty when there is no data."""
    from opsbot.executors.prometheus.client import PrometheusClient

    client = PrometheusClient(prometheus_url(config, rd), config.prometheus.timeout)
    try:
        series = client.range(queries(rd)[key], start, end, step)
    finally:
        client.close()
    if not series:
        return [], []
    return series[0].times, series[0].values
