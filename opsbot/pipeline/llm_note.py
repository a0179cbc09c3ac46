"""The one short line a reply carries when the LLM was meant to parse the message but did not: the
offline parser answered instead, and the asker should know why (a slow server, a refused format…)."""

from __future__ import annotations

from opsbot.core.task import Task
from opsbot.i18n import N_, _

NOTES = {
    "timeout": N_("the LLM did not answer in time"),
    "server": N_("the LLM server kept failing"),
    "unreachable": N_("the LLM server is unreachable"),
    "refused": N_("the LLM server refused the request"),
    "format": N_("the LLM server refused the structured-output format"),
    "answer": N_("the LLM's answer was unusable"),
    "unconfigured": N_("no LLM is configured"),
}


def llm_note(task: Task | None) -> str | None:
    """ "LLM not used: …" for a task the offline parser answered after an LLM failure; else None."""
    if task is None or "fallback" not in task.usage:
        return None
    why = NOTES.get(str(task.usage.get("fallback_kind")), NOTES["answer"])
    return _("_LLM not used: {why}; the offline parser answered._").format(why=_(why))
