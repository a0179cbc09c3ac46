"""Wire the core together from a Config: rules, store, parser, executors, pipeline."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from opsbot.config import Config
from opsbot.executors.registry import Executors
from opsbot.parsing.factory import build_parser
from opsbot.pipeline import Pipeline
from opsbot.rules.loader import RuleSet, load_for
from opsbot.store import Store

log = logging.getLogger(__name__)


@dataclass
class App:
    config: Config
    rules: RuleSet
    store: Store
    pipeline: Pipeline

    def close(self) -> None:
        self.pipeline.executors.close()
        self.store.close()

    def __enter__(self) -> App:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def build_app(config: Config, parser_kind: str | None = None, store: Store | None = None) -> App:
    rules = load_for(config)
    store = store or Store.open(config.database_url, config.audit.secret(), config.store.secrets())
    # Executions a crashed process left `running` are told apart now, not counted or trusted forever.
    interrupted = store.interrupt_orphaned_executions()
    if interrupted:
        log.warning("marked %d execution(s) left running by a stopped process as interrupted", len(interrupted))
    parser = build_parser(config, parser_kind, rules=rules, store=store)
    return App(
        config=config, rules=rules, store=store, pipeline=Pipeline(config, rules, store, parser, Executors(config))
    )
