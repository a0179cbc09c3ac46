"""Which of the offered choices an answer picks: a number ("2", "第二个"), a yes to a single choice, or
words that lead to one of them ("memory", "free it up", "just show me"). A change is picked only by
its number, a yes, or a wording that passes the parser's own gates for it (its change verb)."""

from __future__ import annotations

import re
from typing import Any

from opsbot.core.parser import Parser
from opsbot.core.task import Choice, Task
from opsbot.parsing.offline import phrasing

LOOK = re.compile(r"\b(?:show|see|look|view|display|check|just|only|read)\b|看|查|显示|只", re.I)


def pick_choice(parser: Parser, text: str, choices: list[Choice], changes: set[str]) -> Task | None:
    """The Task of the choice `text` picks, or None when it picks none (then it is a request of its own).
    `changes` are the intents that change state."""
    n = phrasing.picked_number(text, len(choices))
    if n is None and len(choices) == 1 and phrasing.yes(text):
        n = 0
    if n is not None:
        return _task(choices[n], {})
    # each choice as the previous task: the one the answer continues ("memory" after CPU, "free it up")
    hits: dict[str, tuple[Choice, Task]] = {}
    for choice in choices:
        task = parser.parse(text, previous=Task(intent=choice.intent, params=choice.params))
        if task.intent == choice.intent:
            hits.setdefault(choice.intent, (choice, task))
    if len(hits) == 1:
        choice, task = next(iter(hits.values()))
        return _task(choice, task.params)
    looks = [c for c in choices if c.intent not in changes]
    # a read-only choice by its words ("just the status"), or by looking words when only one looks
    rank = getattr(parser, "rank", None)
    ranked: dict[str, float] = dict(rank(text, k=50)) if rank else {}
    best = max(looks, key=lambda c: ranked.get(c.intent, 0.0), default=None)
    if (
        best is not None
        and ranked.get(best.intent, 0.0) > 0
        and sum(1 for c in looks if ranked.get(c.intent, 0.0) == ranked[best.intent]) == 1
    ):
        return _task(best, {})
    if len(looks) == 1 and len(choices) > 1 and LOOK.search(text):
        return _task(looks[0], {})
    return None


def _task(choice: Choice, parsed: dict[str, Any]) -> Task:
    params = {**choice.params, **{k: v for k, v in parsed.items() if v is not None}}
    return Task(intent=choice.intent, params=params, confidence=0.9, parser="choice", note="the asker's choice")
