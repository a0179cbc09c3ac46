"""Clarifying questions for missing params, with the inventory's values as one-click choices."""

from __future__ import annotations

from opsbot.config import Config
from opsbot.core.reply import Button, Reply
from opsbot.core.task import Task
from opsbot.rules.loader import RuleSet
from opsbot.rules.schema import ParamSpec

QUESTIONS = {
    "host": "Which host (or group)?",
    "service": "Which service?",
    "deployment": "Which deployment?",
    "group": "Which group?",
    "duration": "Over what time window (like 30m, 6h, 2d)?",
    "integer": "How many?",
    "text": "What text?",
    "promql": "Which PromQL query? Put it in backticks.",
    "version": "Which version?",
}
MAX_CHOICES = 8


def choices(kind: str, task: Task, config: Config, spec: ParamSpec) -> list[str]:
    inv = config.inventory
    if kind == "host":
        svc = task.params.get("service")
        hosts = [h for h, c in inv.hosts.items() if not svc or svc in c.services]
        return hosts + (list(inv.groups()) if spec.groups else [])
    if kind == "group":
        return list(inv.groups())
    if kind == "service":
        host = task.params.get("host")
        return list(inv.hosts[host].services) if host in inv.hosts else inv.services()
    if kind == "deployment":
        return list(inv.deployments)
    if kind == "enum":
        return list(spec.values)
    return []


def question_for(task: Task, missing: list[str], rules: RuleSet, config: Config) -> Reply:
    rule = rules.primary(task.intent or "")
    assert rule is not None, task.intent  # asked only about tasks the rule engine planned
    name = missing[0]
    spec = rule.params[name]
    question = (spec.description and f"Which {spec.description}?") or QUESTIONS.get(spec.type, f"What {name}?")
    options = choices(spec.type, task, config, spec)
    text = f"{rule.summary}. {question}"
    if options and len(options) <= MAX_CHOICES:
        buttons = [Button(label=o, action="choose", value=o) for o in options]
    else:
        buttons = []
        if options:
            text += f" (e.g. {', '.join(options[:MAX_CHOICES])} …)"
    return Reply(text=text, kind="question", buttons=buttons)
