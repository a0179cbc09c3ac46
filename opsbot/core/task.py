"""A Task: the parser's output. `public()` is the JSON `opsbot parse --json` prints, a contract
(docs/DESIGN.md, Contracts)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Suggestion(BaseModel):
    intent: str
    score: float


class Choice(BaseModel):
    """One reading of a message the bot asks the asker to pick: a whole task (intent and params)."""

    intent: str
    params: dict[str, Any] = Field(default_factory=dict)


class Task(BaseModel):
    intent: str | None
    params: dict[str, Any] = Field(default_factory=dict)
    confidence: float = 0.0
    parser: str = "offline"
    missing: list[str] = Field(default_factory=list)  # required params the text did not give
    suggestions: list[Suggestion] = Field(default_factory=list)  # when intent is None: the closest intents
    # when intent is None and the bot should ask rather than guess: the readings to choose from (a bare
    # host's menu, "see it or change it?", "did you mean web-1?")
    choices: list[Choice] = Field(default_factory=list)
    cancel: str | None = None  # "question" / "approval": the message cancels it
    note: str | None = None  # e.g. "LLM unavailable, used offline parser"
    usage: dict[str, Any] = Field(default_factory=dict)  # tokens, cost, latency: filled by parsers

    def public(self) -> dict[str, Any]:
        """The JSON printed by `opsbot parse --json`."""
        out: dict[str, Any] = {
            "intent": self.intent,
            "params": self.params,
            "confidence": round(self.confidence, 3),
            "parser": self.parser,
        }
        if self.missing:
            out["missing"] = self.missing
        if self.suggestions:
            out["suggestions"] = [s.model_dump() for s in self.suggestions]
        if self.choices:
            out["choices"] = [c.model_dump() for c in self.choices]
        if self.cancel:
            out["cancel"] = self.cancel
        if self.note:
            out["note"] = self.note
        return out
