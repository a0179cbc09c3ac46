"""The one short line a reply carries when the LLM was meant to parse the message but did not: the
offline parser answered instead, and the asker should know why (a slow server, a refused format…)."""

from __future__ import annotations

from opsbot.core.task import Task
from opsbot.i18n import _
from opsbot.llm.notes import why_not_used


def llm_note(task: Task | None) -> str | None:
    """ "LLM not used: …" for a task the offline parser answered after an LLM failure; else None."""
    if task is None or "fallback" not in task.usage:
        return None
    return _("_LLM not used: {why}; the offline parser answered._").format(
        why=why_not_used(task.usage.get("fallback_kind"))
    )
