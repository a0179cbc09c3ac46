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
from opsbot.i18n import _

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
                _(
                    "A {window} window is longer than the {limit} Prometheus queries may cover here "
                    "(prometheus.max_range)."
                ).format(window=format_duration(window), limit=format_duration(self.max_range))
            )
        return window

    def fetch(self, query: str, window: float) -> tuple[list[Series], float]:
        """A range query ending now, with `now` itself one of the evaluation points."""
        now = self.clock()
        step = choose_step(window, self.config.prometheus.max_points)
        end = math.ceil(now)
        start = end - int(window // step) * step
        return self.client.range(query, start, end, step), end

    def no_data(self, hosts: list[str], window_text: str, what: str = "", source: str = "node_exporter") -> str:
        """One sentence: no `what` (default: data) for these hosts, and what to check."""
        label, what = self.host_label, what or _("data")
        if not hosts:
            return _("No {what} for any host in the last {window} — is {source} scraped with a {label} label?").format(
                what=what, window=window_text, source=source, label=label
            )
        if len(hosts) == 1:
            return _("No {what} for {host} in the last {window} — is {source} scraped with {matcher}?").format(
                what=what, host=hosts[0], window=window_text, source=source, matcher=f'{label}="{hosts[0]}"'
            )
        return _(
            "No {what} for {hosts} in the last {window} — is {source} scraped with a {label} label naming each host?"
        ).format(what=what, hosts=", ".join(hosts), window=window_text, source=source, label=label)
