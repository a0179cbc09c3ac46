"""The follow-up stage: "and on web-2?", "what about memory?", "web-2 呢" continue the conversation's
previous task, with the new values replacing the old, unless the message asks for something of its own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opsbot.core.task import Task
from opsbot.parsing.offline.lexicon import FOLLOW_UP_EN, FOLLOW_UP_FILLER, FOLLOW_UP_ZH, MARKERS_EN, MARKERS_ZH
from opsbot.parsing.offline.ranking import Analysis
from opsbot.parsing.offline.safety import refusal, vetoed
from opsbot.parsing.offline.slots import assign

if TYPE_CHECKING:
    from opsbot.parsing.offline.parser import OfflineParser


def is_follow_up(a: Analysis) -> bool:
    """Marked as one ("and ...", "... too", "呢"), or nothing but values ("web-2?")."""
    if FOLLOW_UP_EN.search(a.text) or FOLLOW_UP_ZH.search(a.text):
        return True
    content = [t for t in a.tokens if not t.startswith("<")]
    return not content and bool(a.ex.span_mentions())


def follow_up(parser: OfflineParser, a: Analysis, previous: Task) -> Task | None:
    """The previous task with this message's values, or the message's own read-only request with the
    previous values it lacks; None when the message adds nothing to the previous task."""
    assert previous.intent is not None
    prev = parser.info[previous.intent]
    # its own words first: "what about memory?" after a CPU question asks for memory
    stripped = MARKERS_ZH.sub(" ", MARKERS_EN.sub(" ", a.text))
    own = parser.analyse(stripped)
    words = [t for t in own.tokens if not t.startswith("<") and t not in FOLLOW_UP_FILLER]
    if words and own.ranked and own.ranked[0][0] != previous.intent:
        fresh = parser.decide(a)
        if fresh.intent is not None and not parser.info[fresh.intent].changes_state:
            info = parser.info[fresh.intent]
            for n, v in (previous.params or {}).items():
                if n in info.rule.params and n not in fresh.params:
                    fresh.params[n] = v
            fresh.missing = [n for n in fresh.missing if n not in fresh.params]
            return fresh
        if fresh.intent is not None:
            return fresh
    new, spans = assign(prev, a.ex, parser.known_word)
    if not new:
        return None
    word = vetoed(a, prev, spans)
    if word:
        return parser.null(a.ranked, refusal(word))
    params = {**(previous.params or {}), **new}
    missing = [n for n, s in prev.rule.params.items() if s.required and n not in params]
    return Task(
        intent=previous.intent,
        params=params,
        confidence=round(0.9 * (previous.confidence or 0.8), 4),
        parser=parser.name,
        missing=missing,
        note="follow-up of the previous request",
    )
