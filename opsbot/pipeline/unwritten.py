"""A change on a host nobody wrote: the LLM read `restart nginx on web-l` as the group `web` (or as
web-1). The offline parser asks about its own corrections (parsing/offline/choices.py); an LLM's
reading is checked here: a host or group the message does not name, and the conversation did not
carry, is asked back ("Did you mean: Restart nginx on web-1?") before any approval exists."""

from __future__ import annotations

import re

from opsbot.core.task import Choice, Task
from opsbot.parsing.offline.entities import name_key
from opsbot.rules.loader import RuleSet

TARGET_TYPES = ("host", "group")


def unwritten_targets(task: Task, text: str, previous: Task | None, rules: RuleSet) -> list[str]:
    """The host/group values of a state-changing LLM task that the message does not name."""
    if task.parser != "llm" or not task.intent:
        return []
    group = rules.by_intent.get(task.intent, [])
    if not any(r.changes_state for r in group):
        return []
    words = [t for t in re.split(r"[^A-Za-z0-9_.-]+", text) if t]
    written = {name_key(t) for t in words} | {name_key(t.rstrip("._-")) for t in words}
    carried = previous.params if previous else {}
    names = {n for r in group for n, spec in r.params.items() if spec.type in TARGET_TYPES}
    out = []
    for name in sorted(names):
        value = task.params.get(name)
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, str) and name_key(v) not in written and carried.get(name) != value:
                out.append(v)
    return out


def ask_unwritten(task: Task, text: str, previous: Task | None, rules: RuleSet) -> Task:
    missing = unwritten_targets(task, text, previous, rules)
    if not missing:
        return task
    return Task(
        intent=None,
        parser=task.parser,
        confidence=task.confidence,
        choices=[Choice(intent=task.intent or "", params=task.params)],
        note=f"the message does not name {', '.join(missing)}; asking before any approval",
        usage=task.usage,
    )
