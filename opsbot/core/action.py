"""What an executor receives: the rendered Action, its Targets and the ExecutionContext, and the
Executor contract itself. The rule engine makes Actions; executors run them; neither knows the other."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from opsbot.config import Config
from opsbot.core.reply import Reply


@dataclass(frozen=True)
class Target:
    """One inventory host an action runs on (a group param fans out into several)."""

    name: str
    address: str
    port: int
    user: str
    groups: tuple[str, ...] = ()
    services: tuple[str, ...] = ()

    @classmethod
    def of(cls, config: Config, name: str) -> Target:
        """The inventory host `name` (KeyError if there is none), with the default SSH user filled in."""
        h = config.inventory.hosts[name]
        return cls(
            name=name,
            address=h.address,
            port=h.port,
            user=h.user or config.ssh.user,
            groups=tuple(h.groups),
            services=tuple(h.services),
        )


@dataclass
class Action:
    """A rule's action, rendered for one request. Nothing in here came from the LLM unvalidated."""

    executor: str  # "prometheus", "ssh", "logs", "bot"
    intent: str
    rule_id: str
    fields: dict[str, Any]  # the rule's action fields, templates rendered (e.g. command, query)
    params: dict[str, Any]  # bound, validated params (window in seconds under "<name>_seconds")
    targets: list[Target] = field(default_factory=list)  # resolved hosts, empty when the intent has none


@dataclass(frozen=True)
class Capability:
    """One intent as `help` describes it (from the intent's rules)."""

    intent: str
    summary: str
    example_en: str | None = None
    example_zh: str | None = None
    needs_approval: bool = False


@dataclass(frozen=True)
class PastRun:
    """One execution the store recorded, with who approved it: an intent's history (llm.history)."""

    intent: str
    params: dict[str, Any]
    user: str  # who asked (the requester)
    approver: str | None
    status: str  # running (never finished: the bot stopped mid-way), ok, failed, timeout, refused
    summary: str
    started_at: datetime
    finished_at: datetime | None


History = Callable[[tuple[str, ...], int], list[PastRun]]  # (intents, limit) -> newest first


def no_history(intents: tuple[str, ...], limit: int) -> list[PastRun]:
    """The History of a run with no store."""
    return []


class AlertGroups(Protocol):
    """The alert groups the store keeps (one per Alertmanager group key), for the alerts.* executors."""

    def alert_group(self, key: str) -> Any: ...

    def ack_alert_group(self, key: str, user: str, now: datetime) -> bool: ...


Progress = Callable[[str], None]
RunIntent = Callable[[str], Reply]  # run another intent as the same person (a digest's parts)


def no_progress(text: str) -> None:
    """The Progress of a run nobody watches."""


def cannot_run_intents(intent: str) -> Reply:
    return Reply.error(f"{intent} cannot be run from here.")


@dataclass
class ExecutionContext:
    config: Config
    progress: Progress = no_progress
    capabilities: tuple[Capability, ...] = ()  # every intent, for `help`
    run_intent: RunIntent = cannot_run_intents  # for `digest`: its parts run through the pipeline
    user: str = ""  # who the run is for (a silence's creator, an alert's acknowledger)
    history: History = no_history  # past executions from the store (llm.history)
    acks: Callable[[], dict[tuple[str, str], str]] = dict  # (alertname, host) -> who is on it (alerts.list)
    alert_groups: AlertGroups | None = None  # the bot's store; None where a run has none


class Executor(Protocol):
    name: str

    def run(self, action: Action, ctx: ExecutionContext) -> Reply: ...


class ExecutorUnavailable(Exception):
    """The rule names an executor this build does not have (or that is not configured)."""
