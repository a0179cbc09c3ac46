"""The safety stage: when a message may become an intent at all, and a state-changing one in particular.

- A destructive word ("delete", "rm", "删除") that the chosen intent's own examples never use vetoes it,
  unless the word is data inside a search pattern or PromQL the user handed over.
- A state-changing intent needs a clear verb of its own, its object (service, deployment or host) and a
  higher score than a read-only one.
- A change verb in a message going to a read-only intent means the user asked for a change: answering
  something else would be wrong.
"""

from __future__ import annotations

import re
from typing import Any

from opsbot.parsing.offline.index import IntentInfo
from opsbot.parsing.offline.lexicon import QUOTE_OPEN, VETO_ZH, is_veto_word, normalise_word
from opsbot.parsing.offline.ranking import Analysis

READ_THRESHOLD = 0.34  # best score a read-only intent needs
CHANGE_THRESHOLD = 0.50  # best score a state-changing intent needs (plus a verb of its own)
OBJECT_TYPES = ("service", "deployment")
NOT_SURE_OF_CHANGE = "not sure enough to propose a change (a change needs its own verb, its object and a close match)"


def vetoed(a: Analysis, info: IntentInfo, exempt: list[tuple[int, int]]) -> str | None:
    """A destructive word the intent's own examples never use, outside the text handed over as a
    search pattern; None when there is none."""
    text = a.text
    low = text.lower()
    for mt in re.finditer(r"[a-z]+", low):
        w = mt.group(0)
        if not is_veto_word(w):
            continue
        if not info.changes_state and any(s <= mt.start() < e for s, e in exempt):
            continue
        if normalise_word(w) in info.vocab or re.search(rf"\b{w}\b", info.text):
            continue
        return w
    for w in VETO_ZH:
        k = text.find(w)
        if k >= 0 and w not in info.text:
            # only a quoted pattern makes a Chinese destructive verb data: unquoted, "日志全删了" is the request
            if not info.changes_state and any(s <= k < e and text[s : s + 1] in QUOTE_OPEN for s, e in exempt):
                continue
            return w
    return None


def refusal(word: str) -> str:
    return f"refused: {word!r} is destructive and no matching rule uses it"


def has_own_verb(a: Analysis, info: IntentInfo) -> bool:
    """The message uses a word of the intent's own, or a wording users confirmed for it."""
    return bool(set(a.tokens) & info.signals) or info.intent in a.learned


def has_object(info: IntentInfo, params: dict[str, Any]) -> bool:
    """The change names what it acts on: its service or deployment, else its host."""
    req = {n: s for n, s in info.rule.params.items() if s.required}
    objects = [n for n, s in req.items() if s.type in OBJECT_TYPES]
    if objects:
        return all(n in params for n in objects)
    hosts = [n for n, s in req.items() if s.type in ("host", "group")]
    return all(n in params for n in hosts)


def change_asked(a: Analysis, chosen: IntentInfo, intents: dict[str, IntentInfo]) -> str | None:
    """A verb of a state-changing intent ("restart", "重启") in a message going to another intent whose
    examples never use it: the user asked for a change, so answering something else is wrong."""
    toks = set(a.tokens)
    for info in intents.values():
        if info.changes_state and info is not chosen:
            hit = sorted(t for t in toks & info.signals if t not in chosen.vocab)
            if hit:
                return hit[0]
    return None


def owner_of_verb(a: Analysis, word: str, intents: dict[str, IntentInfo]) -> IntentInfo | None:
    """The one state-changing intent whose own verb `word` is and that ranks close enough; None otherwise."""
    scores = dict(a.ranked)
    owners = [
        i
        for i, info in intents.items()
        if info.changes_state and word in info.signals and scores.get(i, 0.0) >= CHANGE_THRESHOLD
    ]
    return intents[owners[0]] if len(owners) == 1 else None
