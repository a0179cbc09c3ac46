"""`opsbot rules test` for alert rules: each example's labels (or a real webhook payload) are matched
to a rule and its steps filled and planned through the rule engine, exactly as an arriving alert's
would be. Nothing is executed."""

from __future__ import annotations

from opsbot.config import Config
from opsbot.core.task import Task
from opsbot.incidents.steps import fill, match
from opsbot.rules.engine import Engine
from opsbot.rules.loader import RuleSet
from opsbot.rules.tester import Outcome


def plan_alert(rules: RuleSet, config: Config, labels: dict[str, str]) -> tuple[str | None, list[str], list[str]]:
    """(the rule that matches, the diagnose intents that would run, why the others would not)."""
    rule = match(rules.alerts, labels)
    if rule is None:
        return None, [], []
    engine = Engine(rules, config)
    ran: list[str] = []
    notes: list[str] = []
    for step in rule.diagnose:
        filled = fill(step, labels, config.inventory)
        if filled.problem:
            notes.append(f"{step.intent}: {filled.problem}")
            continue
        try:
            engine.plan(Task(intent=filled.intent, params=filled.params, confidence=1.0, parser="alert"))
        except Exception as e:
            notes.append(f"{step.intent}: {e}")
            continue
        ran.append(step.intent)
    return rule.name, ran, notes


def run_alert_examples(rules: RuleSet, config: Config) -> list[Outcome]:
    out = []
    for rule in rules.alerts:
        for example in rule.examples:
            shown = ", ".join(f"{k}={v}" for k, v in example.labels.items())
            name, ran, notes = plan_alert(rules, config, example.labels)
            if name != rule.name:
                out.append(Outcome(f"alert:{rule.name}", shown, False, f"matched {name or 'no alert rule'}"))
            elif example.diagnose is not None and ran != example.diagnose:
                why = f" ({'; '.join(notes)})" if notes else ""
                out.append(Outcome(f"alert:{rule.name}", shown, False, f"would run {ran or 'nothing'}{why}"))
            else:
                out.append(Outcome(f"alert:{rule.name}", shown, True, f"diagnose: {', '.join(ran) or 'nothing'}"))
    return out
