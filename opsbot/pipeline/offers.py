"""Actions a reply proposes (Reply.offers: a runbook's sentences) turned into choices the asker can
pick: each sentence is parsed by the offline parser, and kept only when it names a rule other than
the question's own, with every required param, binding and validating against the inventory. A
picked choice is a request like any other: rules, policy, approval."""

from __future__ import annotations

from opsbot.core.parser import Parser
from opsbot.core.task import Choice, Task
from opsbot.rules.binding import BindError, MissingParams
from opsbot.rules.engine import Engine, PlanError, UnknownIntent

MAX_OFFERS = 3
MIN_CONFIDENCE = 0.3  # an offer is only a button: a pick still goes through the rules and approval


def offered_choices(phrases: list[str], parser: Parser, engine: Engine, asked: str) -> list[Choice]:
    out: list[Choice] = []
    for phrase in phrases:
        task = parser.parse(phrase)
        if task.intent in (None, asked) or task.missing or task.confidence < MIN_CONFIDENCE:
            continue
        try:
            plan = engine.plan(Task(intent=task.intent, params=task.params, confidence=1.0, parser="runbook"))
        except (BindError, MissingParams, PlanError, UnknownIntent):
            continue
        choice = Choice(intent=plan.rule.intent, params=plan.bound.values)
        if choice not in out:
            out.append(choice)
        if len(out) == MAX_OFFERS:
            break
    return out
