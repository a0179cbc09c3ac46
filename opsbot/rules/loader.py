"""Load rule packs from YAML and check them as a whole; every problem is reported with file:line."""

from __future__ import annotations

from collections import defaultdict
from functools import cached_property
from itertools import combinations
from pathlib import Path

from pydantic import ValidationError

from opsbot import yamlsource
from opsbot.config import Config
from opsbot.core.action import Capability
from opsbot.executors.registry import REGISTRY
from opsbot.resources import shipped
from opsbot.rules.alert_schema import AlertRule
from opsbot.rules.render import SHELL_FIELDS, check_template
from opsbot.rules.schema import Pack, Rule
from opsbot.yamlsource import UNKNOWN_FIELD, Problem, SourceError


class RuleSet:
    """The loaded rules, indexed by intent. Immutable after load."""

    def __init__(self, rules: list[Rule], alerts: list[AlertRule] | None = None):
        self.rules = rules
        self.alerts = alerts or []  # alert rules, in load order: the first that matches an alert applies
        self.by_intent: dict[str, list[Rule]] = defaultdict(list)
        for r in rules:
            self.by_intent[r.intent].append(r)
        self.by_id = {r.id: r for r in rules}

    def intents(self) -> list[str]:
        return list(self.by_intent)

    @cached_property
    def capabilities(self) -> tuple[Capability, ...]:
        """Every intent as `help` lists it: its primary rule's summary and first examples, and whether
        any of its rules needs approval."""
        out = []
        for intent, rules in self.by_intent.items():
            rule = self.primary(intent)
            assert rule is not None  # every intent in by_intent has a rule
            out.append(
                Capability(
                    intent=intent,
                    summary=rule.summary,
                    example_en=next(iter(rule.examples.en), None),
                    example_zh=next(iter(rule.examples.zh), None),
                    needs_approval=any(r.needs_approval for r in rules),
                )
            )
        return tuple(out)

    def primary(self, intent: str) -> Rule | None:
        """The rule that describes an intent in help and prompts: its fallback, else its first rule."""
        rules = self.by_intent.get(intent) or []
        return next((r for r in rules if not r.when), rules[0] if rules else None)


def _action_problems(src: yamlsource.Located, i: int, rule: Rule) -> list[Problem]:
    """The rule's action fields checked against its executor's model (opsbot/executors/fields.py)."""
    model = REGISTRY[rule.action.executor].fields
    try:
        model.model_validate(rule.action.fields())
    except ValidationError as e:
        takes = ", ".join(model.model_fields)
        return [
            p
            if p.message != UNKNOWN_FIELD
            else Problem(
                p.file, p.line, p.field, f"the {rule.action.executor} executor has no such field; it takes {takes}"
            )
            for p in yamlsource.pydantic_problems(src, e, prefix=("rules", i, "action"))
        ]
    return []


def pack_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files += sorted(list(p.glob("*.yaml")) + list(p.glob("*.yml")))
        else:
            files.append(p)
    return files


def _load_file(path: Path, problems: list[Problem], alerts: list[AlertRule] | None = None) -> list[Rule]:
    try:
        src = yamlsource.load(path)
    except SourceError as e:
        problems += e.problems
        return []
    try:
        pack = Pack(**src.data) if isinstance(src.data, dict) else None
    except ValidationError as e:
        problems += yamlsource.pydantic_problems(src, e)
        return []
    if pack is None:
        problems.append(Problem(src.file, 1, "", "a rule pack is a mapping with a `rules:` and/or `alerts:` list"))
        return []
    for i, alert in enumerate(pack.alerts):
        alert.source, alert.line = src.file, src.line_of(("alerts", i))
        for kind, steps in (("diagnose", alert.diagnose), ("suggest", alert.suggest)):
            for j, step in enumerate(steps):
                step.line = src.line_of(("alerts", i, kind, j)) or alert.line
    if alerts is not None:
        alerts += pack.alerts
    for i, rule in enumerate(pack.rules):
        rule.source, rule.line = src.file, src.line_of(("rules", i))
        problems += _action_problems(src, i, rule)
        known = rule.template_names()
        for key, value in rule.action.fields().items():
            for text in _strings(value):
                err = check_template(text, known, shell=key in SHELL_FIELDS)
                if err:
                    problems.append(
                        Problem(src.file, src.line_of(("rules", i, "action", key)), f"rules.{i}.action.{key}", err)
                    )
        if rule.reply:
            err = check_template(rule.reply, known)
            if err:
                problems.append(Problem(src.file, src.line_of(("rules", i, "reply")), f"rules.{i}.reply", err))
    return pack.rules


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return []


def could_both_match(a: Rule, b: Rule) -> bool:
    """Conservative: two rules for one intent are apart only if some param's conditions exclude each other."""
    if not a.when and not b.when:
        return True  # two fallbacks
    if not a.when or not b.when:
        return False  # a fallback applies only when no conditional rule does
    for name in set(a.when) & set(b.when):
        ca, cb = a.when[name], b.when[name]
        la, lb = ca.literal_values(), cb.literal_values()
        if la is not None and lb is not None and not ({v.lower() for v in la} & {v.lower() for v in lb}):
            return False
        if (ca.group and ca.group == cb.not_group) or (ca.not_group and ca.not_group == cb.group):
            return False
        if ca.engine and cb.engine and ca.engine != cb.engine:
            return False
    return True


def check_rules(rules: list[Rule]) -> list[Problem]:
    problems = []
    seen_ids: dict[str, Rule] = {}
    by_intent: dict[str, list[Rule]] = defaultdict(list)
    for r in rules:
        by_intent[r.intent].append(r)
    for intent, group in by_intent.items():
        for n, r in enumerate(group):
            if not r.id:
                r.id = intent if len(group) == 1 else f"{intent}#{n + 1}"
        for a, b in combinations(group, 2):
            if could_both_match(a, b):
                problems.append(
                    Problem(
                        b.source,
                        b.line,
                        b.id or intent,
                        f"ambiguous: this rule and the one at {a.where()} could both match the same {intent} task; "
                        "give them `when` conditions that exclude each other (e.g. group / not_group)",
                    )
                )
    for r in rules:
        if r.check and not [x for x in by_intent.get(r.check.intent, []) if not x.changes_state]:
            problems.append(
                Problem(
                    r.source,
                    r.line,
                    r.id or r.intent,
                    f"check.intent {r.check.intent!r} is not a read-only intent here",
                )
            )
        reads = [x for x in by_intent.get(r.check_with or "", []) if not x.changes_state]
        if r.check_with and not reads:
            problems.append(
                Problem(
                    r.source,
                    r.line,
                    r.id or r.intent,
                    f"check_with names {r.check_with!r}, which is not a read-only intent here",
                )
            )
        if r.id in seen_ids:
            problems.append(Problem(r.source, r.line, r.id, f"duplicate rule id; also at {seen_ids[r.id].where()}"))
        seen_ids[r.id] = r
    return problems


def load_rules(paths: list[Path] | None = None, defaults: bool = True) -> RuleSet:
    """Load the shipped packs (if `defaults`) plus `paths`; raise SourceError listing every problem."""
    sources = ([shipped("rules")] if defaults else []) + list(paths or [])
    problems: list[Problem] = []
    rules: list[Rule] = []
    alerts: list[AlertRule] = []
    for f in pack_files(sources):
        if not f.exists():
            problems.append(Problem(str(f), None, "", "no such rule file or folder"))
            continue
        rules += _load_file(f, problems, alerts)
    problems += check_rules(rules)
    problems += check_alert_rules(alerts, rules)
    if problems:
        raise SourceError(problems)
    return RuleSet(rules, alerts)


def check_alert_rules(alerts: list[AlertRule], rules: list[Rule]) -> list[Problem]:
    """Every intent an alert rule names exists and takes the params given; diagnoses only read."""
    by_intent: dict[str, list[Rule]] = defaultdict(list)
    for r in rules:
        by_intent[r.intent].append(r)
    problems = []
    names: dict[str, AlertRule] = {}
    for alert in alerts:
        if alert.name in names:
            problems.append(
                Problem(
                    alert.source, alert.line, alert.name, f"duplicate alert rule; also at {names[alert.name].where()}"
                )
            )
        names[alert.name] = alert
        for kind, steps in (("diagnose", alert.diagnose), ("suggest", alert.suggest)):
            for step in steps:
                found = by_intent.get(step.intent)
                if not found:
                    problems.append(
                        Problem(alert.source, step.line, f"{alert.name}.{kind}", f"no rule has intent {step.intent!r}")
                    )
                    continue
                if kind == "diagnose" and any(r.changes_state for r in found):
                    problems.append(
                        Problem(
                            alert.source,
                            step.line,
                            f"{alert.name}.diagnose",
                            f"{step.intent} changes state; an alert may only suggest it (put it under suggest:)",
                        )
                    )
                declared = {p for r in found for p in r.params}
                unknown = sorted(set(step.params) - declared)
                if unknown:
                    problems.append(
                        Problem(
                            alert.source,
                            step.line,
                            f"{alert.name}.{kind}",
                            f"{step.intent} takes no param {', '.join(unknown)}; "
                            f"it takes {', '.join(sorted(declared))}",
                        )
                    )
    return problems


def load_for(config: Config) -> RuleSet:
    return load_rules(config.rules.dirs, config.rules.defaults)
