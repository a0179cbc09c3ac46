"""The bot's own metrics, served as Prometheus text on `GET /metrics` of `opsbot serve`'s HTTP port.

One `Metrics` per running bot (its own registry, no global state): the pipeline counts requests, parses,
LLM spend, executions and approval decisions as they happen; figures that live elsewhere (approvals
pending in the shared store, the work queue's depth and rejections) are read when Prometheus scrapes,
through `watch()`. Label values come from a small fixed set (front ends, rule intents, executors,
reply kinds), never from what people type, so the series stay few.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PARSE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
EXECUTION_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
DECISION_BUCKETS = (5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)


class _Live(Collector):
    """Gauges and counters whose values are read at scrape time from callables."""

    def __init__(self) -> None:
        self.gauges: dict[str, tuple[str, Callable[[], float]]] = {}
        self.counters: dict[str, tuple[str, Callable[[], float]]] = {}

    def collect(self) -> Iterator[Metric]:
        for name, (doc, read) in list(self.gauges.items()):
            value = _read(read)
            if value is not None:
                yield GaugeMetricFamily(name, doc, value=value)
        for name, (doc, read) in list(self.counters.items()):
            value = _read(read)
            if value is not None:
                yield CounterMetricFamily(name, doc, value=value)


def _read(read: Callable[[], float]) -> float | None:
    try:
        return float(read())
    except Exception:  # a scrape must answer even when the store is down; the series is just missing
        return None


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "opsbot_requests", "Requests answered, by front end, intent and outcome (the reply's kind).",
            ["frontend", "intent", "outcome"], registry=r,
        )  # fmt: skip
        self.parse_seconds = Histogram(
            "opsbot_parse_seconds", "Time to turn a message into a Task, by the parser that answered.",
            ["parser"], buckets=PARSE_BUCKETS, registry=r,
        )  # fmt: skip
        self.llm_tokens = Counter("opsbot_llm_tokens", "LLM tokens spent, by kind.", ["kind"], registry=r)
        self.llm_cost = Counter("opsbot_llm_cost", "Estimated LLM cost (llm.cost_per_1k_* units).", registry=r)
        self.llm_calls = Counter("opsbot_llm_calls", "Chat completions requested from the LLM.", registry=r)
        self.llm_failures = Counter(
            "opsbot_llm_failures", "LLM parses that fell back to the offline parser, by reason.", ["kind"], registry=r
        )
        self.executions = Counter(
            "opsbot_executions", "Actions run, by executor and outcome.", ["executor", "outcome"], registry=r
        )
        self.execution_seconds = Histogram(
            "opsbot_execution_seconds", "How long actions ran, by executor.",
            ["executor"], buckets=EXECUTION_BUCKETS, registry=r,
        )  # fmt: skip
        self.approval_decisions = Counter(
            "opsbot_approval_decisions", "Approval requests decided, by decision.", ["decision"], registry=r
        )
        self.approval_decision_seconds = Histogram(
            "opsbot_approval_decision_seconds", "Time from an approval request to its decision.",
            buckets=DECISION_BUCKETS, registry=r,
        )  # fmt: skip
        self.slack_api_errors = Counter(
            "opsbot_slack_api_errors", "Slack Web API calls that failed, by method and error.",
            ["method", "error"], registry=r,
        )  # fmt: skip
        self.slack_api_retries = Counter(
            "opsbot_slack_api_retries", "Slack Web API calls retried (rate limits, server errors, lost connections).",
            ["reason"], registry=r,
        )  # fmt: skip
        self._live = _Live()
        r.register(self._live)

    # ---- figures read at scrape time --------------------------------------------------------------

    def watch_gauge(self, name: str, doc: str, read: Callable[[], float]) -> None:
        self._live.gauges[name] = (doc, read)

    def watch_counter(self, name: str, doc: str, read: Callable[[], float]) -> None:
        self._live.counters[name] = (doc, read)

    # ---- events ------------------------------------------------------------------------------------

    def request(self, frontend: str, intent: str | None, outcome: str) -> None:
        self.requests.labels(frontend, intent or "none", outcome).inc()

    def parsed(self, parser: str, seconds: float, usage: dict[str, Any]) -> None:
        self.parse_seconds.labels(parser).observe(seconds)
        prompt, completion = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
        if prompt:
            self.llm_tokens.labels("prompt").inc(prompt)
        if completion:
            self.llm_tokens.labels("completion").inc(completion)
        if usage.get("cost"):
            self.llm_cost.inc(float(usage["cost"]))
        if usage.get("llm_calls"):
            self.llm_calls.inc(int(usage["llm_calls"]))
        if usage.get("fallback_kind") or usage.get("fallback"):
            self.llm_failures.labels(str(usage.get("fallback_kind") or "other")).inc()

    def executed(self, executor: str, outcome: str, seconds: float) -> None:
        self.executions.labels(executor, outcome).inc()
        self.execution_seconds.labels(executor).observe(seconds)

    def decided(self, approve: bool, seconds: float) -> None:
        self.approval_decisions.labels("approved" if approve else "denied").inc()
        self.approval_decision_seconds.observe(max(0.0, seconds))

    def slack_error(self, method: str, error: str) -> None:
        self.slack_api_errors.labels(method, error).inc()

    def slack_retry(self, reason: str) -> None:
        self.slack_api_retries.labels(reason).inc()

    def exposition(self) -> bytes:
        """The Prometheus text format of every series."""
        return generate_latest(self.registry)
