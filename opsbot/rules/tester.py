"""`opsbot rules test`: run every rule example through parse + bind + render; execute nothing.
Like StackStorm's offline rule tester: catches examples that parse to the wrong intent and templates
that do not render."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from opsbot.config import Config, Inventory
from opsbot.config.models import KnowledgeSource
from opsbot.core.parser import Parser
from opsbot.rules.engine import Engine
from opsbot.rules.loader import RuleSet
from opsbot.rules.schema import Rule

SAMPLE_INVENTORY = {
    "hosts": {
        "web-1": {"address": "10.0.0.11", "groups": ["web"], "services": ["nginx", "api"]},
        "web-2": {"address": "10.0.0.12", "groups": ["web"], "services": ["nginx", "api"]},
        "db-1": {"address": "10.0.0.21", "groups": ["db"], "services": ["postgresql"]},
        "gpu-1": {"address": "10.0.0.31", "groups": ["llm"], "services": ["vllm"]},
    },
    "deployments": {"llama-chat": {"host": "gpu-1", "service": "vllm"}},
}
FILL = {
    "window": "6h",
    "horizon": "7d",
    "replicas": "3",
    "version": "v2",
    "other": "v3",
    "metric": "disk",
    "severity": "critical",
    "pattern": "'connection reset'",
    "promql": "`up`",
    "name": "daily",
    "duration": "2h",
    "silence": "'3f2a9c1e'",
    "alertname": "TargetDown",
}


@dataclass
class Outcome:
    rule_id: str
    text: str
    ok: bool
    detail: str
    skipped: bool = False


def _fill(text: str, config: Config, rule: Rule) -> str | None:
    """The example with real names; None when the inventory has nothing to put in a placeholder."""
    inv = config.inventory
    host = next(iter(inv.hosts))
    values: dict[str, str | None] = {**FILL, "host": host, "service": next(iter(inv.hosts[host].services), None)}
    if inv.deployments:
        values["deployment"] = next(iter(inv.deployments))
    cond = rule.when.get("host")
    if cond is not None and cond.group:  # pick a host the rule's `when` accepts
        host = inv.groups().get(cond.group, [host])[0]
        values.update(host=host, service=(inv.hosts[host].services or ["x"])[0])
    needed = re.findall(r"\{(\w+)\}", text)
    if any(values.get(n) is None for n in needed):
        return None
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), text)


def with_sample_inventory(config: Config) -> Config:
    """The config's inventory, or a sample one when it has none; and a runbook source when it names
    none, so questions for the runbooks parse to kb.ask (nothing is read: examples are never run)."""
    if not config.knowledge.sources:
        knowledge = config.knowledge.model_copy(update={"sources": [KnowledgeSource(path=Path("runbooks"))]})
        config = config.model_copy(update={"knowledge": knowledge})
    if config.inventory.hosts:
        return config
    return config.model_copy(update={"inventory": Inventory(**SAMPLE_INVENTORY)})


def run_examples(rules: RuleSet, config: Config, parser: Parser) -> list[Outcome]:
    engine = Engine(rules, config)
    out = []
    for rule in rules.rules:
        for text in rule.examples.en + rule.examples.zh:
            filled = _fill(text, config, rule)
            if filled is None:
                out.append(
                    Outcome(rule.id, text, True, "skipped: the inventory has nothing to fill it with", skipped=True)
                )
                continue
            text = filled
            task = parser.parse(text)
            if task.intent != rule.intent:
                out.append(Outcome(rule.id, text, False, f"parsed as {task.intent or 'nothing'}"))
                continue
            try:
                plan = engine.plan(task)
            except Exception as e:
                out.append(Outcome(rule.id, text, False, f"{type(e).__name__}: {e}"))
                continue
            shown = {k: v for k, v in plan.action.fields.items() if k in ("command", "query", "kind", "mode")}
            via = f"{plan.rule.id} -> {plan.action.executor} {shown}"
            out.append(Outcome(rule.id, text, True, via + (" [approval]" if plan.needs_approval else "")))
    return out
