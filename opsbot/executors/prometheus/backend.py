"""What every kind of Prometheus answer shares: the client, the configured limits and the clock."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from opsbot.config import Config
from opsbot.core.action import Action
from opsbot.core.durations import format_duration, parse_duration
from opsbot.executors.prometheus.client import PromError, PrometheusClient
from opsbot.executors.prometheus.series import Series, choose_step

DEFAULT_WINDOW = 3600


@dataclass
class Backend:
    config: Config
    client: PrometheusClient
    clock: Callable[[], float]

    @property
    def host_label(self) -> str:
        return self.config.prometheus.host_label

    @property
    def max_range(self) -> int:
        return parse_duration(self.config.prometheus.max_range)

    def window(self, action: Action) -> int:
        """The action's window in seconds (default: an hour); PromError beyond prometheus.max_range."""
        window = self.window_if_given(action)
        return DEFAULT_WINDOW if window is None else window

    def window_if_given(self, action: Action) -> int | None:
        """The action's window in seconds, if it has one; PromError beyond prometheus.max_range."""
        window: int | None = action.params.get("window_seconds") or None
        if window is not None and window > self.max_range:
            raise PromError(
                f"A {format_duration(window)} window is longer than the "
                f"{format_duration(self.max_range)} Prometheus queries may cover here "
                "(prometheus.max_range)."
            )
        return window

    def fetch(self, query: str, window: float) -> tuple[list[Series], float]:
        """A range query ending now, with `now` itself one of the evaluation points."""
        now = self.clock()
        step = choose_step(window, self.config.prometheus.max_points)
        end = math.ceil(now)
        start = end - int(window // step) * step
        return self.client.range(query, start, end, step), end

    def no_data(self, hosts: list[str], window_text: str, what: str = "data", source: str = "node_exporter") -> str:
        label = self.host_label
        if not hosts:
            return f"no {what} for any host in the last {window_text} — is {source} scraped with a {label} label?"
        if len(hosts) == 1:
            return (
                f'no {what} for {hosts[0]} in the last {window_text} — is {source} scraped with {label}="{hosts[0]}"?'
            )
        return (
            f"no {what} for {', '.join(hosts)} in the last {window_text} — is {source} scraped with a "
            f"{label} label naming each host?"
        )
