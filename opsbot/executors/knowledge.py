"""The `knowledge` executor (`kb.ask`): the runbook sections that answer a question, quoted with a link,
or a plain "nothing relevant found". With an LLM configured it also writes a short answer from those
sections only, citing them (opsbot/knowledge/llm_answer.py). It runs nothing: actions the best section
names are handed to the pipeline (Reply.offers), which offers those that fit a rule as choices."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opsbot.config import Config
from opsbot.core.action import Action, ExecutionContext
from opsbot.core.reply import Reply
from opsbot.i18n import _, current_language
from opsbot.knowledge.actions import action_phrases
from opsbot.knowledge.index import Hit
from opsbot.knowledge.library import Library
from opsbot.llm.notes import why_not_used

if TYPE_CHECKING:
    from opsbot.parsing.llm import LLMClient


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
        self._client: LLMClient | None = None

    @property
    def client(self) -> LLMClient | None:
        """The LLM that writes short answers, when one is configured and knowledge.llm_answers is on."""
        if self._client is None and self.config.llm.configured and self.config.knowledge.llm_answers:
            from opsbot.parsing.llm import LLMClient

            self._client = LLMClient(self.config.llm)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

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
        offers = action_phrases(hits[0].section.text)
        client = self.client
        if client is None:
            return Reply(text=self.quoted(hits), kind="result", offers=offers)
        from opsbot.knowledge.llm_answer import write_answer
        from opsbot.parsing.llm import LLMFailure

        try:
            written = write_answer(client, question, hits, current_language(), self.config.llm.timeout)
        except LLMFailure as e:
            note = _("_LLM not used: {why}; quoted the runbooks instead._").format(why=why_not_used(e.kind))
            return Reply(text=self.quoted(hits) + "\n" + note, kind="result", offers=offers)
        if written.text is None:
            note = _("_The LLM found no answer in these sections; here they are._")
            return Reply(text=self.quoted(hits) + "\n" + note, kind="result", offers=offers)
        sources = [
            f"[{n}] {h.section.heading_path} ({self.library.link(h.section) or h.section.id})"
            for n, h in enumerate(written.cited, 1)
        ]
        text = "\n".join(
            [written.text, _("Sources (runbook sections; the answer was written by the LLM from them):"), *sources]
        )
        return Reply(text=text, kind="result", offers=action_phrases(written.cited[0].section.text))

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
