"""`opsbot rules test` for alert rules: each example's labels (or a real webhook payload) are matched
to a rule and its steps filled and planned through the rule engine, exactly as an arriving alert's
would be. Nothing is executed."""

from __future__ import annotations

from opsbot.config import Config
from opsbot.core.task import Task
from opsbot.incidents.hosts import host_of
from opsbot.incidents.steps import fill, match
from opsbot.rules.alert_schema import AlertRule
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


def names_missing(rule: AlertRule, labels: dict[str, str], config: Config) -> bool:
    """The example is about a host or deployment this inventory does not have (as chat examples whose
    placeholders the inventory cannot fill): it is skipped, not failed."""
    refs = {str(v)[1:]: k for step in rule.diagnose for k, v in step.params.items() if str(v).startswith("$")}
    if "host" in refs and host_of(labels, config.inventory) is None:
        return True
    return any(
        param == "deployment" and labels.get(ref) not in config.inventory.deployments for ref, param in refs.items()
    )


def run_alert_examples(rules: RuleSet, config: Config) -> list[Outcome]:
    out = []
    for rule in rules.alerts:
        for example in rule.examples:
            shown = ", ".join(f"{k}={v}" for k, v in example.labels.items())
            if names_missing(rule, example.labels, config):
                out.append(Outcome(f"alert:{rule.name}", shown, True, "skipped: not in this inventory", skipped=True))
                continue
            name, ran, notes = plan_alert(rules, config, example.labels)
            if name != rule.name:
                out.append(Outcome(f"alert:{rule.name}", shown, False, f"matched {name or 'no alert rule'}"))
            elif example.diagnose is not None and ran != example.diagnose:
                why = f" ({'; '.join(notes)})" if notes else ""
                out.append(Outcome(f"alert:{rule.name}", shown, False, f"would run {ran or 'nothing'}{why}"))
            else:
                out.append(Outcome(f"alert:{rule.name}", shown, True, f"diagnose: {', '.join(ran) or 'nothing'}"))
    return out
