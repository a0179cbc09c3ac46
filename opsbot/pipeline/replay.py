"""A conversation replayed through the real pipeline without running anything: what `opsbot parse
--conversation` uses to show the Task each message resolves to in its thread, as the bot would resolve
it (follow-ups, clarifying questions and their answers, choices, cancels).

Nothing runs: every executor is replaced by one that does nothing, the store is a throwaway SQLite file,
and everyone may ask for everything (what a text means does not depend on who typed it; approvals are
still asked for, so "never mind" can cancel one)."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from opsbot.config import Config
from opsbot.config.models import AccessConfig
from opsbot.core.action import Action, ExecutionContext, Executor
from opsbot.core.parser import Parser
from opsbot.core.reply import Reply
from opsbot.core.request import Request
from opsbot.core.task import Task
from opsbot.executors.registry import REGISTRY, Executors
from opsbot.pipeline.pipeline import Pipeline
from opsbot.rules.loader import RuleSet
from opsbot.store import Store


class NothingRuns:
    name = "nothing"

    def run(self, action: Action, ctx: ExecutionContext) -> Reply:
        return Reply(text="", kind="info")


class Replay:
    """Feed messages in order; each returns the Task it resolved to."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    def turn(self, thread: str, user: str, text: str) -> Task:
        seen: list[Task] = []
        req = Request(text=text, user=user, channel="replay", thread=thread, frontend="replay")
        self.pipeline.handle(req, on_task=seen.append)
        return seen[-1] if seen else Task(intent=None, note="the message was refused before parsing")


@contextlib.contextmanager
def replay(config: Config, rules: RuleSet, parser: Parser) -> Iterator[Replay]:
    everyone = config.model_copy(update={"access": AccessConfig(default_roles=["admin"])})
    with tempfile.TemporaryDirectory(prefix="opsbot-replay-") as folder:
        store = Store.open(f"sqlite:///{Path(folder) / 'replay.db'}")
        nothing: dict[str, Executor] = {name: NothingRuns() for name in REGISTRY}
        executors = Executors(everyone, overrides=nothing)
        try:
            yield Replay(Pipeline(everyone, rules, store, parser, executors))
        finally:
            store.close()
