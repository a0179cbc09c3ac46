"""A conversation replayed through the real pipeline without running anything: what `opsbot parse
--conversation` uses to show the Task each message resolves to in its thread, as the bot would resolve
it (follow-ups, clarifying questions and their answers, choices, cancels).

Nothing runs: every executor is replaced by one that does nothing, the store is a throwaway SQLite file,
and everyone may ask for everything (what a text means does not depend on who typed it; approvals are
still asked for, so "never mind" can cancel one)."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Iterator

from opsbot.config import Config
from opsbot.config.models import AccessConfig
from opsbot.executors.base import Action, ExecutionContext
from opsbot.executors.registry import KNOWN, Executors
from opsbot.pipeline.pipeline import Pipeline
from opsbot.reply import Reply
from opsbot.request import Request
from opsbot.rules.loader import RuleSet
from opsbot.task import Task


class NothingRuns:
    def run(self, action: Action, ctx: ExecutionContext) -> Reply:
        return Reply(text="", kind="info")


class Replay:
    """Feed messages in order; each returns the Task it resolved to."""

    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline

    def turn(self, thread: str, user: str, text: str) -> Task:
        seen: list[Task] = []
        req = Request(text=text, user=user, channel="replay", thread=thread, frontend="replay")
        self.pipeline.handle(req, on_task=seen.append)
        return seen[-1] if seen else Task(intent=None, note="the message was refused before parsing")


@contextlib.contextmanager
def replay(config: Config, rules: RuleSet, parser) -> Iterator[Replay]:
    from opsbot.store import Store

    everyone = config.model_copy(update={"access": AccessConfig(default_roles=["admin"])})
    with tempfile.TemporaryDirectory(prefix="opsbot-replay-") as folder:
        store = Store.open(f"sqlite:///{Path(folder) / 'replay.db'}")
        executors = Executors(everyone, overrides={name: NothingRuns() for name in KNOWN})
        try:
            yield Replay(Pipeline(everyone, rules, store, parser, executors))
        finally:
            store.close()
