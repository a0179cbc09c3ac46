"""The executors, named once: each name maps to the model of its action fields (light, checked when
rules load) and to its implementation, imported and built lazily: a chat that only asks for help never
opens an SSH connection or imports matplotlib."""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass

from opsbot.config import Config
from opsbot.core.action import Executor, ExecutorUnavailable
from opsbot.executors.fields import (
    ActionFields,
    AlertmanagerFields,
    BotFields,
    KnowledgeFields,
    LLMServeFields,
    LogsFields,
    PrometheusFields,
    SSHFields,
)


@dataclass(frozen=True)
class Registered:
    fields: type[ActionFields]
    implementation: str  # "module:Class"; the class takes the Config (and the executors it shares)


REGISTRY: dict[str, Registered] = {
    "bot": Registered(BotFields, "opsbot.executors.bot:BotExecutor"),
    "prometheus": Registered(PrometheusFields, "opsbot.executors.prometheus.executor:PrometheusExecutor"),
    "ssh": Registered(SSHFields, "opsbot.executors.ssh:SSHExecutor"),
    "logs": Registered(LogsFields, "opsbot.executors.logs:LogsExecutor"),
    "llmserve": Registered(LLMServeFields, "opsbot.executors.llmserve.executor:LLMServeExecutor"),
    "knowledge": Registered(KnowledgeFields, "opsbot.executors.knowledge:KnowledgeExecutor"),
    "alertmanager": Registered(AlertmanagerFields, "opsbot.executors.alertmanager:AlertmanagerExecutor"),
}


class Executors:
    """The executors one pipeline uses, built on first use and shared by its worker threads."""

    def __init__(self, config: Config, overrides: dict[str, Executor] | None = None):
        self.config = config
        self._built: dict[str, Executor] = dict(overrides or {})
        self._lock = threading.RLock()  # reentrant: building logs gets ssh first

    def get(self, name: str) -> Executor:
        built = self._built.get(name)
        if built is not None:
            return built
        with self._lock:  # two threads asking at once must not build two (two SSH pools)
            if name not in self._built:
                self._built[name] = self._build(name)
            return self._built[name]

    def _build(self, name: str) -> Executor:
        registered = REGISTRY.get(name)
        if registered is None:
            raise ExecutorUnavailable(f"there is no executor called {name!r}")
        module, cls = registered.implementation.split(":")
        shared = {"ssh": self.get("ssh")} if name == "logs" else {}  # one warm SSH pool for both
        try:
            built: Executor = getattr(importlib.import_module(module), cls)(self.config, **shared)
        except ModuleNotFoundError as e:
            if e.name != module:
                raise
            raise ExecutorUnavailable(f"the {name} executor is not part of this build yet") from None
        return built

    def close(self) -> None:
        with self._lock:
            for ex in self._built.values():
                close = getattr(ex, "close", None)
                if close:
                    close()
