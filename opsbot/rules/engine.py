"""From a Task to exactly one rule and a rendered action. Pure: no I/O, no shared state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateError

from opsbot.config import Config
from opsbot.core.action import Action
from opsbot.core.durations import parse_duration
from opsbot.core.task import Task
from opsbot.i18n import _
from opsbot.rules.binding import BindError, Bound, MissingParams, bind
from opsbot.rules.loader import RuleSet
from opsbot.rules.render import SHELL_FIELDS, promql_regex, render
from opsbot.rules.schema import Condition, Rule


class PlanError(Exception):
    """The task cannot become an action; the message is one sentence for the user."""


class UnknownIntent(PlanError):
    pass


@dataclass
class Plan:
    rule: Rule
    bound: Bound
    action: Action

    @property
    def needs_approval(self) -> bool:
        return self.rule.needs_approval


def _holds(cond: Condition, name: str, bound: Bound, config: Config) -> bool:
    value = bound.values.get(name)
    if value is None:
        return False
    if cond.at_most is not None:
        seconds = bound.seconds.get(name)
        return seconds is not None and seconds <= parse_duration(cond.at_most)
    if cond.engine is not None:
        dep = config.inventory.deployments.get(str(value))
        return dep is not None and dep.engine == cond.engine
    if cond.group is not None or cond.not_group is not None:
        groups = {g for t in bound.targets for g in t.groups}
        return cond.group in groups if cond.group is not None else cond.not_group not in groups
    return str(value).lower() in {v.lower() for v in cond.literal_values() or ()}


def choose(rules: list[Rule], params: dict[str, Any], config: Config) -> tuple[Rule, Bound]:
    """The conditional rule whose `when` holds, else the intent's fallback rule."""
    fallback = None
    first_error: BindError | MissingParams | None = None
    for rule in rules:
        if not rule.when:
            fallback = rule
            continue
        try:
            bound = bind(rule, params, config)
        except (BindError, MissingParams) as e:  # this rule cannot take the task; anything else is a bug,
            first_error = first_error or e  # and must not fall through to the (more permissive) fallback
            continue
        if all(_holds(c, n, bound, config) for n, c in rule.when.items()):
            return rule, bound
    if fallback is not None:
        return fallback, bind(fallback, params, config)
    if first_error is not None:
        raise first_error
    raise PlanError(_("no rule accepts this request with these parameters"))


def context(rule: Rule, bound: Bound, config: Config) -> dict[str, Any]:
    """What templates see: the bound params, the target host names and ready-made matchers
    (Rule.template_names lists these names for load-time checks)."""
    ctx: dict[str, Any] = dict.fromkeys(rule.params)
    ctx.update(bound.values)
    ctx.update({f"{k}_seconds": v for k, v in bound.seconds.items()})
    names = [t.name for t in bound.targets]
    ctx["targets"] = names
    ctx["host_label"] = config.prometheus.host_label
    label = config.prometheus.host_label
    ctx["host_matcher"] = f"{label}=~{promql_regex(names)}" if names else f'{label}=~".+"'
    dep = bound.values.get("deployment")
    if dep:
        d = config.inventory.deployments[dep]
        ctx["deployment_service"], ctx["deployment_host"] = d.service or "", d.host or ""
    return ctx


def _render_value(value: Any, ctx: dict[str, Any], shell: bool) -> Any:
    if isinstance(value, str):
        return render(value, ctx, shell)
    if isinstance(value, list):
        return [_render_value(v, ctx, shell) for v in value]
    if isinstance(value, dict):
        return {k: _render_value(v, ctx, shell) for k, v in value.items()}
    return value


class Engine:
    def __init__(self, rules: RuleSet, config: Config):
        self.rules = rules
        self.config = config

    def plan(self, task: Task) -> Plan:
        """Raises UnknownIntent, MissingParams, BindError or PlanError; never touches the outside world."""
        if not task.intent or task.intent not in self.rules.by_intent:
            raise UnknownIntent(f"no rule handles {task.intent!r}" if task.intent else "no intent")
        rule, bound = choose(self.rules.by_intent[task.intent], task.params, self.config)
        ctx = context(rule, bound, self.config)
        try:
            fields = {k: _render_value(v, ctx, k in SHELL_FIELDS) for k, v in rule.action.fields().items()}
        except TemplateError as e:
            raise PlanError(
                _("rule {rule} ({where}) cannot be rendered: {problem}").format(
                    rule=rule.id, where=rule.where(), problem=e
                )
            ) from None
        action = Action(
            executor=rule.action.executor,
            intent=rule.intent,
            rule_id=rule.id or rule.intent,
            fields=fields,
            params={**bound.values, **{f"{k}_seconds": v for k, v in bound.seconds.items()}},
            targets=bound.targets,
        )
        return Plan(rule=rule, bound=bound, action=action)

    def reply_line(self, plan: Plan) -> str | None:
        """The rule's reply line, in the request's language (the catalogs hold the shipped rules' lines)."""
        if not plan.rule.reply:
            return None
        ctx = context(plan.rule, plan.bound, self.config)
        for template in dict.fromkeys((_(plan.rule.reply), plan.rule.reply)):
            try:
                return render(template, ctx)
            except TemplateError:
                continue
        return None
