"""What an executor receives and the registry that maps an action's `executor:` name to code."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from opsbot.config import Config
from opsbot.reply import Reply


@dataclass(frozen=True)
class Target:
    """One inventory host an action runs on (a group param fans out into several)."""
    name: str
    address: str
    port: int
    user: str
    groups: tuple[str, ...] = ()
    services: tuple[str, ...] = ()


@dataclass
class Action:
    """A rule's action, rendered for one request. Nothing in here came from the LLM unvalidated."""
    executor: str                         # "prometheus", "ssh", "logs", "bot"
    intent: str
    rule_id: str
    fields: dict[str, Any]                # the rule's action fields, templates rendered (e.g. command, query)
    params: dict[str, Any]                # bound, validated params (window in seconds under "<name>_seconds")
    targets: list[Target] = field(default_factory=list)   # resolved hosts, empty when the intent has none


Progress = Callable[[str], None]


@dataclass
class ExecutionContext:
    config: Config
    progress: Progress = lambda text: None
    extras: dict[str, Any] = field(default_factory=dict)   # e.g. the rule set, for `help`


class Executor(Protocol):
    name: str

    def run(self, action: Action, ctx: ExecutionContext) -> Reply: ...


class ExecutorUnavailable(Exception):
    """The rule names an executor this build does not have (or that is not configured)."""
