"""The asking stage: when guessing would be wrong, the readings to choose from instead of an intent.

- A message that names only what to look at ("check web-1", "看看 db-1") gets a menu: the read-only
  rules offered as choices (`choice:` in the rule packs) that take what it names.
- A change request that reads just as well as a look at the same thing ("free disk space on db-1": see
  it, or free it up?) asks which was meant; the change's read-only counterpart is its `check_with`.
- A change on a misspelt name ("restart nginx on web-l") asks "did you mean … web-1?" first.
- A question about a named service ("is redis ok on cache-1?") is its status, the menu's first choice.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from opsbot.core.task import Choice, Task
from opsbot.parsing.chinese import has_cjk
from opsbot.parsing.offline import phrasing
from opsbot.parsing.offline.index import IntentInfo
from opsbot.parsing.offline.lexicon import VETO_ZH, is_veto_word, normalise_word
from opsbot.parsing.offline.ranking import OBJECT_KINDS, Analysis
from opsbot.parsing.offline.safety import READ_THRESHOLD, refusal

if TYPE_CHECKING:
    from opsbot.parsing.offline.parser import OfflineParser

CLEAR_MATCH = 0.9  # a bare name with a generic verb still counts when it matches an example this well
AMBIGUOUS = 0.8  # a read-only reading this close to a change's score: ask which was meant


def bare(a: Analysis) -> bool:
    """The message names one kind of thing (a host, a service or a deployment) and says nothing an
    intent could be told by: "check web-1", "web-1?", "看看 db-1"."""
    kinds = {k for m in a.ex.span_mentions() if not m.meta.get("weak") for k in m.kinds()}
    named = a.named()
    if not named or len(named - {"group"}) > 1 or kinds - set(OBJECT_KINDS):
        return False
    return not a.content()


def corrected_names(a: Analysis, params: dict[str, Any]) -> list[str]:
    """`typed -> host` for each host read from a name the message misspelt (web-l -> web-1): a change on
    a corrected host is asked about first, never approved as if it had been written. (A misspelt
    service on a host named right stays a change: which host it touches is not in doubt.)"""
    values = {str(v) for v in params.values()}
    return [
        f"{m.text} -> {v}"
        for m in a.ex.span_mentions()
        if m.meta.get("corrected")
        for k, v in m.options
        if k == "host" and str(v) in values
    ]


def names_only(info: IntentInfo, score: float, a: Analysis, params: dict[str, Any]) -> bool:
    """A read-only intent reached only through a name and a generic verb ("check web-1"): not a match."""
    objects = {n for n, sp in info.rule.params.items() if sp.type in OBJECT_KINDS}
    return score < CLEAR_MATCH and bare(a) and params.keys() <= objects


def look_instead(
    parser: OfflineParser, a: Analysis, change: IntentInfo, score: float, params: dict[str, Any]
) -> Choice | None:
    """The read-only reading of a change request whose change words the read-only intent's examples use
    too, not in a way only the change's examples do, and which scores nearly as well: "free disk space
    on db-1" (see it, or free it up?), but not "free up space" or "reclaim disk space". None if none."""
    look = parser.info.get(change.rule.check_with or "")
    if look is None or dict(a.ranked).get(look.intent, 0.0) < AMBIGUOUS * score:
        return None
    if any(has_cjk(t) and t not in look.vocab for t in set(a.tokens) & change.signals):
        return None
    words = re.findall(r"[a-z]+", a.text.lower())
    used = [(i, w) for i, w in enumerate(words) if normalise_word(w) in change.signals]
    if not used and not set(a.tokens) & change.signals:
        return None
    for i, w in used:
        after = words[i + 1] if i + 1 < len(words) else ""
        if not re.search(rf"\b{w}\b", look.text) or (after and re.search(rf"\b{w} {after}\b", change.text)):
            return None
    return Choice(intent=look.intent, params={k: v for k, v in params.items() if k in look.rule.params})


def unsure(parser: OfflineParser, a: Analysis, why: str) -> Task:
    """No intent: with the readings to choose from when the message names a host, service or deployment."""
    bad = next((w for w in re.findall(r"[a-z]+", a.text.lower()) if is_veto_word(w)), None) or next(
        (w for w in VETO_ZH if w in a.text), None
    )
    if bad:
        return parser.null(a.ranked, refusal(bad))
    task = parser.null(a.ranked, why)
    named = a.named()
    task.choices = menu(parser, a, named) if named else []
    if task.choices and named & {"service", "deployment"} and phrasing.read_only(a.text) and not a.content():
        # "is redis ok on cache-1?": a question about a named service is its status (the first choice)
        first = task.choices[0]
        rule = parser.info[first.intent].rule
        missing = [n for n, sp in rule.params.items() if sp.required and n not in first.params]
        return Task(
            intent=first.intent,
            params=first.params,
            confidence=READ_THRESHOLD,
            parser=parser.name,
            missing=missing,
            note="a question about a named service: its status",
        )
    if task.choices:
        task.note = "names only what to look at; asking what to show"
    return task


def menu(parser: OfflineParser, a: Analysis, named: set[str]) -> list[Choice]:
    """What can be shown for the hosts, services or deployments a message names: the read-only rules
    offered as choices (`choice:` in the rule packs) that take them, best first, one per label."""
    found: list[tuple[int, bool, int, str, Choice]] = []
    for info in parser.info.values():
        spec = info.rule.choice
        if spec is None or info.changes_state:
            continue
        params, _ = parser.params_for(info, a.ex)
        takes = info.kinds
        if not params or not (named - {"group"}) <= takes | ({"deployment"} if "host" in takes else set()):
            continue
        missing = [n for n, sp in info.rule.params.items() if sp.required and n not in params]
        if any(info.rule.params[n].type not in OBJECT_KINDS for n in missing):
            continue  # only what a follow-up question can ask (a host, a service)
        native = named - {"group"} <= takes  # takes a deployment as itself, not as its host
        found.append((spec.order, not native, len(missing), spec.label, Choice(intent=info.intent, params=params)))
    out: dict[str, Choice] = {}
    for *_, label, choice in sorted(found, key=lambda f: f[:3]):
        out.setdefault(label, choice)
    return list(out.values())
