"""Executor name -> implementation. Executors are built lazily: a chat that only asks for help
never opens an SSH connection or imports matplotlib."""
from __future__ import annotations

import importlib

from opsbot.config import Config
from opsbot.core.action import Executor, ExecutorUnavailable

# name -> "module:Class"; each class takes the Config (and the executors it shares connections with).
KNOWN = {
    "bot": "opsbot.executors.bot:BotExecutor",
    "prometheus": "opsbot.executors.prometheus:PrometheusExecutor",
    "ssh": "opsbot.executors.ssh:SSHExecutor",
    "logs": "opsbot.executors.logs:LogsExecutor",
}


class Executors:
    def __init__(self, config: Config, overrides: dict[str, Executor] | None = None):
        self.config = config
        self._built: dict[str, Executor] = dict(overrides or {})

    def get(self, name: str) -> Executor:
        if name not in self._built:
            target = KNOWN.get(name)
            if target is None:
                raise ExecutorUnavailable(f"there is no executor called {name!r}")
            module, cls = target.split(":")
            shared = {"ssh": self.get("ssh")} if name == "logs" else {}   # one warm SSH pool for both
            try:
                self._built[name] = getattr(importlib.import_module(module), cls)(self.config, **shared)
            except ModuleNotFoundError as e:
                if e.name != module:
                    raise
                raise ExecutorUnavailable(f"the {name} executor is not part of this build yet") from None
        return self._built[name]

    def close(self) -> None:
        for ex in self._built.values():
            close = getattr(ex, "close", None)
            if close:
                close()
