"""An alert rule's steps with their params filled from one alert: `$host` is the inventory host the
alert names, `$LABEL` the label's value. The result is only ever bound like a typed request's params
(the rules' validation decides whether it may run); a missing value leaves the step out, with the reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opsbot.config import Inventory
from opsbot.i18n import _
from opsbot.incidents.hosts import host_of
from opsbot.rules.alert_schema import AlertRule, AlertStep

MAX_VALUE = 253  # the longest DNS name; no host, service or deployment name is longer


@dataclass
class FilledStep:
    intent: str
    params: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None  # why it cannot run for this alert (then params are incomplete)


def fill(step: AlertStep, labels: dict[str, str], inventory: Inventory) -> FilledStep:
    params: dict[str, Any] = {}
    for name, value in step.params.items():
        if isinstance(value, str) and value.startswith("$"):
            ref = value[1:]
            found = host_of(labels, inventory) if ref == "host" else labels.get(ref)
            if found is not None and len(found) > MAX_VALUE:
                return FilledStep(
                    step.intent,
                    params,
                    _("the label {label} is {n} characters long, longer than any name").format(label=ref, n=len(found)),
                )
            if found is None:
                what = (
                    _("no host label of this alert names an inventory host")
                    if ref == "host"
                    else _("the alert has no label {label}").format(label=ref)
                )
                return FilledStep(step.intent, params, what)
            params[name] = found
        else:
            params[name] = value
    return FilledStep(step.intent, params)


def match(rules: list[AlertRule], labels: dict[str, str]) -> AlertRule | None:
    """The first alert rule (in load order) whose match fits the labels."""
    return next((r for r in rules if r.matches(labels)), None)
