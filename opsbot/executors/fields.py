"""The action fields each executor takes, as pydantic models. `opsbot rules check` (every rule load, in
fact) validates a rule's `action:` against its executor's model, so a misspelt field or a bad value is a
load error with file:line, not a surprise when the rule first runs. Light on purpose: the rule loader
imports this module, never the executors themselves (paramiko, matplotlib)."""

from __future__ import annotations

import re
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from opsbot.core.action import Action
from opsbot.core.durations import parse_duration

LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ActionFields(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BadFields(ValueError):
    """An action whose fields its executor cannot use (a rule made in code; loaded rules are checked)."""


F = TypeVar("F", bound=ActionFields)


def read_fields(model: type[F], action: Action) -> F:
    """The action's fields as `model`; BadFields with one sentence otherwise."""
    try:
        return model.model_validate(action.fields)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'fields'}: {err['msg']}" for err in e.errors())
        raise BadFields(
            f"Rule {action.rule_id} has action fields the {action.executor} executor cannot use ({problems})."
        ) from None


class BotFields(ActionFields):
    kind: Literal["help", "digest"]


class SSHFields(ActionFields):
    command: str = Field(min_length=1)  # a template; every value in it is shell-quoted
    ok_exit_codes: list[int] = Field(default_factory=lambda: [0])  # exit codes that count as success
    timeout: float | None = Field(None, gt=0)  # seconds, or a duration like 90s or 5m; default ssh.command_timeout

    @field_validator("timeout", mode="before")
    @classmethod
    def _duration(cls, v: object) -> object:
        return float(parse_duration(v)) if isinstance(v, str) else v


class AlertmanagerFields(ActionFields):
    op: Literal["silence", "expire", "list", "ack"]


class KnowledgeFields(ActionFields):
    top: int = Field(3, ge=1, le=10)  # sections quoted at most


class LogsFields(ActionFields):
    mode: Literal["search", "errors", "tail"] = "search"


class LLMServeFields(ActionFields):
    """LLM serving on Ray Serve with MLflow's registry (opsbot/executors/llmserve/)."""

    kind: Literal[
        "models", "versions", "compare", "history", "deploy", "rollback", "scale", "retire", "status", "capacity"
    ]
    history: str = "7d"  # capacity: how much request-rate history the forecast is fitted on
    headroom: float = Field(0.8, gt=0, le=1)  # capacity: the share of a replica's capacity the peak may use

    @field_validator("history")
    @classmethod
    def _history(cls, v: str) -> str:
        parse_duration(v)
        return v


class PrometheusFields(ActionFields):
    kind: Literal["range", "query", "alerts", "targets", "forecast", "llm_status"]
    query: str | None = None  # range, query: PromQL (a template)
    title: str | None = None  # range, query: the chart's title
    unit: str | None = None  # range, query: percent, bytes, seconds, reqps, ...
    queries: dict[str, str] = Field(default_factory=dict)  # forecast: per metric; llm_status: overrides
    thresholds: dict[str, float] = Field(default_factory=dict)  # forecast: per metric
    units: dict[str, str] = Field(default_factory=dict)  # forecast: per metric
    deployment_label: str = "model_name"  # forecast, llm_status: the label naming a deployment

    @field_validator("deployment_label")
    @classmethod
    def _label(cls, v: str) -> str:
        if not LABEL_NAME.match(v):
            raise ValueError(f"{v!r} is not a Prometheus label name (letters, digits, _)")
        return v
