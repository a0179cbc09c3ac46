"""The `knowledge` executor (`kb.ask`): the runbook sections that answer a question, quoted with a link,
or a plain "nothing relevant found". With an LLM configured it also writes a short answer from those
sections only, citing them (opsbot/knowledge/llm_answer.py). It runs nothing: actions the best section
names are handed to the pipeline (Reply.offers), which offers those that fit a rule as choices."""

from __future__ import annotations

from opsbot.config import Config
from opsbot.core.action import Action, ExecutionContext
from opsbot.core.reply import Reply
from opsbot.i18n import _
from opsbot.knowledge.actions import action_phrases
from opsbot.knowledge.index import Hit
from opsbot.knowledge.library import Library


def quote(text: str, limit: int) -> str:
    """The start of a section's text, cut at a line end before `limit` characters."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit)
    return (text[: cut if cut > limit // 2 else limit]).rstrip() + " …"


class KnowledgeExecutor:
    name = "knowledge"

    def __init__(self, config: Config, library: Library | None = None):
        self.config = config
        self.library = library or Library(config)

    def run(self, action: Action, ctx: ExecutionContext) -> Reply:
        question = str(action.params.get("question") or "").strip()
        if not self.library.configured:
            return Reply(
                text=_(
                    "No runbooks are configured (knowledge.sources in the config), so I cannot answer "
                    "questions from them. Nothing was run."
                ),
                kind="info",
            )
        hits = self.library.search(question)
        if not hits:
            return Reply(
                text=_("Nothing relevant found in the runbooks for this question. Nothing was run."),
                kind="info",
            )
        return Reply(text=self.quoted(hits), kind="result", offers=action_phrases(hits[0].section.text))

    def quoted(self, hits: list[Hit]) -> str:
        parts = [_("From the runbooks:")]
        limit = self.config.knowledge.quote_chars
        for n, hit in enumerate(hits):
            s = hit.section
            where = self.library.link(s) or s.id
            parts.append(f"*{s.heading_path}* ({where})")
            if n == 0:  # the best one quoted, the others linked
                parts.append("\n".join(f"> {line}" for line in quote(s.text, limit).splitlines()))
        return "\n".join(parts)
