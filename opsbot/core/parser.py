"""The Parser contract: text (and the conversation's previous task) in, one Task out. Offline, LLM and
auto parsers all keep it; a parser never executes anything."""

from __future__ import annotations

from typing import Protocol

from opsbot.core.task import Task


class Parser(Protocol):
    name: str

    def parse(self, text: str, previous: Task | None = None) -> Task: ...
