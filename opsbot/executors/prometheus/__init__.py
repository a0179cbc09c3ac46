"""Answers from Prometheus: the HTTP client, series helpers, formatting, and one module per kind of
answer (range_chart, query, alerts, targets, forecast, llm_status)."""

from opsbot.executors.prometheus.executor import PrometheusExecutor
from opsbot.executors.prometheus.series import choose_step

__all__ = ["PrometheusExecutor", "choose_step"]
