"""What a conversation remembers between messages: the last task (for follow-ups like "and on web-2?")
and a clarifying question waiting for its answer (a missing param, or which of several readings was
meant), with the language they were in. Stored per Request.conversation, so any replica can continue
it; the JSON stored is these models' fields."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from opsbot.core.task import Choice, Task


class LastTask(BaseModel):
    """The last task planned in the conversation."""

    intent: str
    params: dict[str, Any] = Field(default_factory=dict)
    at: datetime
    lang: str | None = None  # the language it was asked in: an answer of names only continues it

    def fresh(self, now: datetime, ttl: timedelta) -> bool:
        return now - self.at <= ttl

    def task(self) -> Task:
        return Task(intent=self.intent, params=self.params)


class PendingQuestion(BaseModel):
    """A clarifying question: the task so far and the params it still misses, or (no intent) the
    readings offered to choose from; whom we asked, when, and in which language."""

    intent: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    missing: list[str] = Field(default_factory=list)
    choices: list[Choice] = Field(default_factory=list)
    asked: str
    at: datetime
    lang: str | None = None
    # offered, not asked (a runbook's actions): picked only by number or a yes; other words are a new request
    by_number: bool = False

    def fresh(self, now: datetime, ttl: timedelta) -> bool:
        return now - self.at <= ttl

    def task(self) -> Task:
        return Task(intent=self.intent, params=self.params, missing=self.missing)


class Conversation(BaseModel):
    last: LastTask | None = None
    pending: PendingQuestion | None = None

    @property
    def empty(self) -> bool:
        return self.last is None and self.pending is None
