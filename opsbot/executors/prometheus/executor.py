"""The Prometheus executor: answers from Prometheus' read-only HTTP API.

The rule's action says what to do (`kind`) and carries the PromQL, already rendered by the rule engine
with escaped label matchers. This executor never puts a user's value into PromQL itself: where it needs
to pick out a deployment it filters the query result by label instead. It only calls the query,
query_range, alerts and targets endpoints. Each kind of answer is a module of this package.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from opsbot.config import Config
from opsbot.core.action import Action, ExecutionContext
from opsbot.core.reply import Reply
from opsbot.executors.fields import BadFields, PrometheusFields, read_fields
from opsbot.executors.prometheus import alerts, forecast, llm_status, query, range_chart, targets
from opsbot.executors.prometheus.backend import Backend
from opsbot.executors.prometheus.client import PromError, PrometheusClient

Handler = Callable[[Backend, Action, PrometheusFields, ExecutionContext], Reply]
KINDS: dict[str, Handler] = {
    "range": range_chart.answer,
    "query": query.answer,
    "alerts": alerts.answer,
    "targets": targets.answer,
    "forecast": forecast.answer,
    "llm_status": llm_status.answer,
}


class PrometheusExecutor:
    name = "prometheus"

    def __init__(self, config: Config, clock: Callable[[], float] = time.time):
        self.config = config
        self.client = PrometheusClient(config.prometheus.url, config.prometheus.timeout)
        self.backend = Backend(config, self.client, clock)

    def close(self) -> None:
        self.client.close()

    def run(self, action: Action, ctx: ExecutionContext) -> Reply:
        try:
            fields = read_fields(PrometheusFields, action)
            return KINDS[fields.kind](self.backend, action, fields, ctx)
        except (BadFields, PromError) as e:
            return Reply.error(str(e))
