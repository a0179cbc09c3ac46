"""Clarifying questions: a missing param (with the inventory's values as one-click choices), or which of
several readings of a message was meant (a bare host's menu, "see it or change it?", "did you mean…?")."""

from __future__ import annotations

from opsbot.config import Config
from opsbot.core.reply import Button, Reply
from opsbot.core.task import Choice, Task
from opsbot.i18n import N_, _
from opsbot.rules.binding import BindError, MissingParams
from opsbot.rules.engine import Engine, PlanError, UnknownIntent
from opsbot.rules.loader import RuleSet
from opsbot.rules.schema import ParamSpec, Rule

QUESTIONS = {
    "host": N_("Which host (or group)?"),
    "service": N_("Which service?"),
    "deployment": N_("Which deployment?"),
    "group": N_("Which group?"),
    "duration": N_("Over what time window (like 30m, 6h, 2d)?"),
    "integer": N_("How many?"),
    "text": N_("What text?"),
    "promql": N_("Which PromQL query? Put it in backticks."),
    "version": N_("Which version?"),
}
MAX_CHOICES = 8
OBJECTS = ("host", "service", "deployment")


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
    if spec.description:
        question = _("Which {what}?").format(what=_(spec.description))
    elif spec.type in QUESTIONS:
        question = _(QUESTIONS[spec.type])
    else:
        question = _("What {name}?").format(name=name)
    options = choices(spec.type, task, config, spec)
    text = _("{summary}. {question}").format(summary=_(rule.summary), question=question)
    if options and len(options) <= MAX_CHOICES:
        buttons = [Button(label=o, action="choose", value=o) for o in options]
    else:
        buttons = []
        if options:
            text += " " + _("(e.g. {examples} …)").format(examples=", ".join(options[:MAX_CHOICES]))
    return Reply(text=text, kind="question", buttons=buttons)


def choice_label(choice: Choice, rules: RuleSet, engine: Engine, short: bool) -> str:
    """How a choice reads: its short label in a menu ("CPU"), else what it would do ("Restart nginx on
    web-2"), marked when it changes something."""
    rule = _rule(rules, choice.intent)
    if short and rule.choice:
        return _(rule.choice.label)
    try:
        line = engine.reply_line(engine.plan(Task(intent=choice.intent, params=choice.params)))
    except (BindError, MissingParams, PlanError, UnknownIntent):
        line = None
    line = line or _(rule.summary)
    if any(r.changes_state for r in rules.by_intent.get(choice.intent, [])):
        line = _("{action} (changes state; needs approval)").format(action=line)
    return line


def choices_question(task: Task, rules: RuleSet, engine: Engine) -> Reply:
    """Ask which reading was meant; each choice is a button whose value is its number."""
    named = [
        str(v)
        for c in task.choices[:1]
        for k, v in c.params.items()
        if k in _rule(rules, c.intent).params and _rule(rules, c.intent).params[k].type in OBJECTS
    ]
    menu = len(task.choices) > 1 and all(_rule(rules, c.intent).choice for c in task.choices)
    labels = [choice_label(c, rules, engine, short=menu) for c in task.choices]
    if menu:
        text = _("What would you like to see for {target}?").format(target=", ".join(dict.fromkeys(named)))
    elif len(task.choices) == 1:
        text = _("Did you mean: {what}? (yes / no)").format(what=labels[0])
    else:
        text = _("Which did you mean?") + "\n" + "\n".join(f"{i}. {label}" for i, label in enumerate(labels, 1))
    buttons = [Button(label=label, action="choose", value=str(i)) for i, label in enumerate(labels, 1)]
    if len(task.choices) == 1:
        buttons = [Button(label=_("Yes"), action="choose", value="1", style="primary")]
    return Reply(text=text, kind="question", buttons=buttons)


def _rule(rules: RuleSet, intent: str) -> Rule:
    rule = rules.primary(intent)
    assert rule is not None, intent  # choices come from this rule set
    return rule
