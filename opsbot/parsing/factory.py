"""Build the parser the config asks for."""
from __future__ import annotations

from opsbot.config import Config
from opsbot.rules.loader import load_for


def build_parser(config: Config, kind: str | None = None, rules=None, store=None):
    from opsbot.parsing.offline import OfflineParser
    rules = rules or load_for(config)
    learned = store.learned_examples() if store is not None else []
    return OfflineParser(rules, config, learned=learned)
