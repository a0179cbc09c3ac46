"""The shape of alert rules in a pack (`alerts:`): what to do when an Alertmanager alert arrives.

    alerts:
      - name: target-down
        match: {alertname: TargetDown}          # label -> value (or list of values); match_re: label -> regex
        diagnose:                               # read-only intents, run at once
          - {intent: service.status, params: {service: $service, host: $host}}
        suggest:                                # state-changing intents, offered as buttons
          - {intent: service.restart, params: {service: $service, host: $host}}
        channel: C0INCIDENTS                    # default: alertmanager.channel in the config

A param value that starts with `$` is taken from the alert: `$host` is the inventory host its host
labels name (host, instance, ...), `$NAME` the label NAME. Whatever it gives is bound and validated like
a typed request's params; nothing from an alert is ever template text.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AlertStep(Strict):
    intent: str
    params: dict[str, str | int] = Field(default_factory=dict)
    line: int | None = Field(None, exclude=True)  # set by the loader, for messages

    @field_validator("params")
    @classmethod
    def _references(cls, v: dict[str, str | int]) -> dict[str, str | int]:
        for name, value in v.items():
            if isinstance(value, str) and value.startswith("$") and not LABEL.match(value[1:]):
                raise ValueError(f"param {name}: {value!r} is not $host or $LABEL (a Prometheus label name)")
        return v


class AlertExample(Strict):
    """For `opsbot rules test`: an alert's labels, and the intents its diagnosis should run."""

    labels: dict[str, str]
    diagnose: list[str] | None = None  # intents expected to run (None: not checked)


class AlertRule(Strict):
    name: str
    match: dict[str, str | list[str]] = Field(default_factory=dict)
    match_re: dict[str, str] = Field(default_factory=dict)
    diagnose: list[AlertStep] = Field(default_factory=list)
    suggest: list[AlertStep] = Field(default_factory=list)
    channel: str | None = None
    examples: list[AlertExample] = Field(default_factory=list)

    # Set by the loader: where the rule came from, for messages.
    source: str = Field("", exclude=True)
    line: int | None = Field(None, exclude=True)

    @field_validator("match", "match_re")
    @classmethod
    def _labels(cls, v: dict[str, Any]) -> dict[str, Any]:
        for label in v:
            if not LABEL.match(label):
                raise ValueError(f"{label!r} is not a Prometheus label name")
        return v

    @field_validator("match_re")
    @classmethod
    def _regexes(cls, v: dict[str, str]) -> dict[str, str]:
        for label, pattern in v.items():
            try:
                re.compile(pattern)
            except re.error as e:
                raise ValueError(f"match_re.{label}: {e}") from None
        return v

    def matches(self, labels: dict[str, str]) -> bool:
        for label, want in self.match.items():
            values = [want] if isinstance(want, str) else want
            if labels.get(label) not in values:
                return False
        return all(re.fullmatch(p, labels.get(label, "")) for label, p in self.match_re.items())

    def where(self) -> str:
        return f"{self.source}:{self.line}" if self.line else self.source
