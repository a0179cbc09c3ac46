"""A Task: the parser's output. `public()` is the JSON `opsbot parse --json` prints, a contract
(docs/DESIGN.md, Contracts)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Suggestion(BaseModel):
    intent: str
    score: float


class Task(BaseModel):
    intent: str | None
    params: dict[str, Any] = Field(default_factory=dict)
    confidence: float = 0.0
    parser: str = "offline"
    missing: list[str] = Field(default_factory=list)  # required params the text did not give
    suggestions: list[Suggestion] = Field(default_factory=list)  # when intent is None: the closest intents
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
        if self.note:
            out["note"] = self.note
        return out
