"""Build the parser the config asks for: `offline`, `llm` or `auto` (offline first, LLM when unsure).

Without a kind, `parser.default` decides; without that, `auto` when an LLM is configured
(llm.base_url or llm.api_key), else `offline`. `auto` without an LLM is the offline parser. `llm`
without one answers with the offline parser and says so in Task.note.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsbot.config import Config
from opsbot.core.parser import Parser
from opsbot.rules.loader import RuleSet, load_for

if TYPE_CHECKING:  # the LLM client and the store are imported only by parsers that use them
    from opsbot.parsing.llm import LLMClient
    from opsbot.store import Store

KINDS = ("offline", "llm", "auto")


def parser_kind(config: Config, kind: str | None = None) -> str:
    kind = kind or config.parser.default or ("auto" if config.llm.configured else "offline")
    if kind not in KINDS:
        raise ValueError(f"unknown parser {kind!r}; use one of {', '.join(KINDS)}")
    return kind


def build_parser(
    config: Config,
    kind: str | None = None,
    rules: RuleSet | None = None,
    store: Store | None = None,
    prompt: str | Path | None = None,
    client: LLMClient | None = None,
) -> Parser:
    """`store` supplies the learned examples; `prompt` a parse template other than prompts/parse.j2;
    `client` an LLMClient to share (tests, evaluations comparing prompts on one server)."""
    from opsbot.parsing.offline import OfflineParser
    from opsbot.parsing.router import LearnedBank

    rules = rules or load_for(config)
    kind = parser_kind(config, kind)
    bank = LearnedBank(store)
    bank.refresh()

    cache_dir = _example_cache_dir()

    def make_offline(learned: list[dict[str, Any]]) -> OfflineParser:
        return OfflineParser(rules, config, learned=learned, cache_dir=cache_dir)

    if kind == "offline" or (kind == "auto" and not config.llm.configured and client is None):
        return make_offline(bank.current())

    from opsbot.parsing.llm import LLMParser
    from opsbot.parsing.prompt import Prompt

    template = Prompt(prompt) if prompt else Prompt()
    if kind == "llm":

        def examples() -> list[dict[str, Any]]:
            bank.refresh()
            return bank.current()

        return LLMParser(rules, config, make_offline(bank.current()), client=client, prompt=template, examples=examples)

    from opsbot.parsing.router import AutoParser

    llm = LLMParser(rules, config, None, client=client, prompt=template)
    return AutoParser(config, make_offline, llm, bank)


def _example_cache_dir() -> Path | None:
    """Where the offline parser keeps its examples' tokens between runs: the state directory's cache/;
    None where that cannot be made (a read-only disk, no home directory), which only makes the start
    slower."""
    from opsbot.store.location import state_dir

    try:
        return state_dir() / "cache"
    except (OSError, RuntimeError):  # RuntimeError: Path.home() with no $HOME and no passwd entry
        return None
