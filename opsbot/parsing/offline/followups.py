"""The follow-up stage: "and on web-2?", "what about memory?", "web-2 呢" continue the conversation's
previous task, under a contract:

- a follow-up changes only what it names (host, service, window, metric);
- it keeps the previous intent only when it has no intent of its own;
- a question or a read-only phrasing ("is it ok", "还好吗") never becomes a change, follow-up or not;
- a change needs its own change verb ("restart it on web-2 too"); without one, the bot asks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opsbot.core.task import Choice, Task
from opsbot.parsing.offline import phrasing
from opsbot.parsing.offline.index import IntentInfo
from opsbot.parsing.offline.lexicon import (
    ANAPHORA,
    FOLLOW_UP_EN,
    FOLLOW_UP_ZH,
    MARKERS_EN,
    MARKERS_ZH,
)
from opsbot.parsing.offline.ranking import OBJECT_KINDS, Analysis
from opsbot.parsing.offline.safety import refusal, vetoed

if TYPE_CHECKING:
    from opsbot.parsing.offline.parser import OfflineParser

FOLLOW_UP_CONFIDENCE = 0.8  # how sure a question back about the thread's last task is (it is about it)


def is_follow_up(parser: OfflineParser, a: Analysis, previous: Task) -> bool:
    """Marked as one ("and ...", "... too", "呢"), nothing but values ("web-2?"), pointing back ("any
    errors there?"), or a question that is about the previous task ("is it ok on web-2?")."""
    if FOLLOW_UP_EN.search(a.text) or FOLLOW_UP_ZH.search(a.text):
        return True
    if not a.content() and bool(a.ex.span_mentions()):
        return True
    if not a.named() and ANAPHORA.search(a.text):  # "any errors in the logs there?"
        return True
    if phrasing.read_only(a.text):  # "how is it now", "is it ok on web-2": about the previous task
        # "how much space is left now?", "现在正常了吗" name nothing: about what the previous task was about
        if not a.named() and objects(parser, previous):
            return True
        fresh = parser.decide(a)
        return fresh.intent is None or bool(fresh.missing)
    return False


def follow_up(parser: OfflineParser, a: Analysis, previous: Task) -> Task | None:
    """The follow-up contract (see above): the previous task with this message's values, the message's
    own request with the previous values it lacks, or a question back; None when the message adds
    nothing to the previous task."""
    assert previous.intent is not None
    prev = parser.info[previous.intent]
    carry = dict(previous.params or {})
    looks_only = phrasing.read_only(a.text)
    if prev.changes_state and looks_only and not a.named() and not set(a.tokens) & prev.signals:
        return not_a_change(parser, prev, carry, {}, looks_only=True)  # "现在正常了吗" after a restart
    # its own words first: "what about memory?" after a CPU question asks for memory
    stripped = MARKERS_ZH.sub(" ", MARKERS_EN.sub(" ", a.text))
    own = parser.analyse(stripped)
    if own.content() and own.ranked and own.ranked[0][0] != previous.intent:
        fresh = parser.decide(a, carry=carry)
        if fresh.intent is not None or fresh.choices:
            fresh.missing = [n for n in fresh.missing if n not in fresh.params]
            return fresh
    if a.named() - prev.kinds - {"group"}:
        fresh = parser.decide(a, carry=carry)  # "is redis ok on cache-1" after top processes
        return fresh if fresh.intent is not None or fresh.choices else None
    new, spans = parser.params_for(prev, a.ex)
    if not new and not looks_only:
        return other_reading(parser, a, carry)
    word = vetoed(a, prev, spans)
    if word:
        return parser.null(a.ranked, refusal(word))
    params = {**carry, **new}
    if prev.changes_state and not (set(a.tokens) & prev.signals):
        return not_a_change(parser, prev, params, new, looks_only)
    missing = [n for n, s in prev.rule.params.items() if s.required and n not in params]
    return Task(
        intent=previous.intent,
        params=params,
        confidence=round(0.9 * (previous.confidence or 0.8), 4),
        parser=parser.name,
        missing=missing,
        note="follow-up of the previous request",
    )


def objects(parser: OfflineParser, task: Task) -> dict[str, Any]:
    """The hosts, services and deployments a task is about."""
    spec = parser.info[task.intent].rule.params if task.intent in parser.info else {}
    return {n: v for n, v in (task.params or {}).items() if n in spec and spec[n].type in OBJECT_KINDS}


def other_reading(parser: OfflineParser, a: Analysis, carry: dict[str, Any]) -> Task | None:
    """A follow-up giving a value the previous intent does not take ("make it 5" after a status): the
    intents that take it with what the thread is about, offered as choices; None if there are none."""
    used = [m for m in a.ex.span_mentions() if not m.meta.get("weak")]
    if not used:
        return None
    out = []
    for info in parser.info.values():
        if not all(m.kinds() & info.kinds for m in used):
            continue
        params, _ = parser.params_for(info, a.ex)
        if len(params) < len(used):
            continue
        params = {**{k: v for k, v in carry.items() if k in info.rule.params}, **params}
        if all(n in params for n, sp in info.rule.params.items() if sp.required):
            out.append(Choice(intent=info.intent, params=params))
    if not out or len(out) > 3:
        return None
    return Task(
        intent=None,
        parser=parser.name,
        choices=out,
        confidence=FOLLOW_UP_CONFIDENCE,
        note="a value for another request; asking which",
    )


def not_a_change(
    parser: OfflineParser, prev: IntentInfo, params: dict[str, Any], named: dict[str, Any], looks_only: bool
) -> Task:
    """A follow-up to a change without a change verb of its own. A question ("is it ok on web-2?") is
    answered by the change's read-only counterpart (`check_with`); a bare one ("and on web-2?", "make
    it 5") is asked back: the change again, or (when it takes what was named) the look."""
    look = parser.info.get(prev.rule.check_with or "")
    look_params = {k: v for k, v in params.items() if look and k in look.rule.params}
    if looks_only:
        if look is None:
            return Task(intent=None, parser=parser.name, note="a question changes nothing")
        missing = [n for n, s in look.rule.params.items() if s.required and n not in look_params]
        return Task(
            intent=look.intent,
            params=look_params,
            confidence=0.8,
            parser=parser.name,
            missing=missing,
            note="a question after a change: its state, not the change again",
        )
    choices = [Choice(intent=prev.intent, params=params)]
    if look is not None and named.keys() <= look.rule.params.keys():
        choices.append(Choice(intent=look.intent, params=look_params))
    return Task(
        intent=None,
        parser=parser.name,
        choices=choices,
        confidence=FOLLOW_UP_CONFIDENCE,
        note="a change needs its own verb; asking whether to change or to look",
    )
