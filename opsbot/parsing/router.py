"""`--parser auto`: the offline parser first, the LLM only when the offline parser is unsure.

The LLM is asked when the offline parse found no intent, or found one with a confidence below
`parser.min_confidence`; then exactly one chat completion is made (plus one repair call, only when the
answer had to be repaired). Every parse carries what it cost in Task.usage: which parser answered, the
latency, tokens and estimated cost (zero for offline answers), so the store records it with the task.

The learned examples (`opsbot tune`) are read from the store when its version changes, so a running
bot picks up a tune (or a revert) on its next request: the offline parser is rebuilt with them and the
LLM's few-shot examples come from them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from opsbot.config import Config
from opsbot.core.task import Task

if TYPE_CHECKING:  # the LLM client (openai) is imported only when an LLM parser is built
    from opsbot.parsing.llm import LLMParser
    from opsbot.parsing.offline import OfflineParser
    from opsbot.store import Store


class LearnedBank:
    """The store's learned examples, re-read only when their version changes."""

    def __init__(self, store: Store | None = None):
        self.store = store
        self.version: int | None = None
        self.examples: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def refresh(self) -> bool:
        """True when the examples changed since the last call (the first call loads them)."""
        if self.store is None:
            changed, self.version = self.version is None, 0
            return changed
        version = self.store.learned_version()
        if version == self.version:
            return False
        with self._lock:
            if version == self.version:
                return False
            self.examples = self.store.learned_examples()
            self.version = version
        return True

    def current(self) -> list[dict[str, Any]]:
        return self.examples


class AutoParser:
    name = "auto"

    def __init__(
        self,
        config: Config,
        make_offline: Callable[[list[dict[str, Any]]], OfflineParser],
        llm: LLMParser,
        bank: LearnedBank | None = None,
    ):
        self.config = config
        self.make_offline = make_offline
        self.llm = llm
        self.bank = bank or LearnedBank()
        self.bank.refresh()
        self.offline = make_offline(self.bank.current())
        self.llm.offline = self.offline
        self.llm.examples = self.bank.current

    def _refresh(self) -> None:
        if self.bank.refresh():
            self.offline = self.make_offline(self.bank.current())
            self.llm.offline = self.offline

    def rank(self, text: str, k: int) -> list[tuple[str, float]]:
        return self.offline.rank(text, k)

    def parse(self, text: str, previous: Task | None = None) -> Task:
        started = time.perf_counter()
        self._refresh()
        task = self.offline.parse(text, previous=previous)
        threshold = self.config.parser.min_confidence
        if task.intent is not None and task.confidence >= threshold:
            task.usage = {
                **task.usage,
                "parser": "offline",
                "route": "offline: confident",
                "prompt_tokens": 0,
                "completion_tokens": 0,
                "cost": 0.0,
                "llm_calls": 0,
                "latency_ms": round((time.perf_counter() - started) * 1000, 1),
            }
            return task
        why = (
            "offline: no intent"
            if task.intent is None
            else f"offline: confidence {task.confidence:.2f} < {threshold:.2f}"
        )
        result = self.llm.parse(text, previous=previous, offline_task=task)
        result.usage = {
            **result.usage,
            "route": f"llm ({why})",
            "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        }
        return result
