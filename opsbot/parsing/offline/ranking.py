"""The ranking stage: intents by example similarity times how well the values found fit their params
(a deployment favours llm.*, PromQL favours metrics.query), and the confidence of the best."""

from __future__ import annotations

from dataclasses import dataclass

from opsbot.parsing.offline.entities import Extraction
from opsbot.parsing.offline.index import IntentInfo, is_content
from opsbot.parsing.offline.lexicon import FOLLOW_UP_FILLER

OBJECT_KINDS = ("host", "group", "service", "deployment")  # what a request is about

# How much an intent's score shrinks per value of a kind its params cannot take.
PENALTY = {
    "host": 0.8,
    "group": 0.8,
    "service": 0.8,
    "deployment": 0.75,
    "duration": 0.9,
    "version": 0.85,
    "quote": 0.85,
    "promql": 0.6,
    "integer": 1.0,
}


@dataclass
class Analysis:
    """One message, analysed: its values, its tokens and the intents it is closest to."""

    text: str
    ex: Extraction
    tokens: list[str]
    ranked: list[tuple[str, float]]
    learned: set[str]  # intents whose closest example is one users confirmed

    def named(self) -> set[str]:
        """The kinds of inventory names the message names (host, group, service, deployment)."""
        return {k for m in self.ex.span_mentions() if not m.meta.get("weak") for k in m.kinds() & set(OBJECT_KINDS)}

    def content(self) -> list[str]:
        """The words that could tell an intent (not names, not question words, not filler)."""
        return [t for t in self.tokens if not t.startswith("<") and is_content(t) and t not in FOLLOW_UP_FILLER]


def rank(
    info: dict[str, IntentInfo],
    ex: Extraction,
    toks: list[str],
    scores: dict[str, tuple[float, int]],
    learned: set[str],
    limit: int = 10,
) -> list[tuple[str, float]]:
    """Intents by similarity times entity fit, best first: at least the `limit` best exactly; intents
    whose similarity alone cannot reach them are left out (with hundreds of rules most are)."""
    raw = sorted(((s, i) for i, (s, _doc) in scores.items()), key=lambda x: (-x[0], x[1]))
    own_words = set(toks)
    present = [m.kinds() for m in ex.span_mentions() if not m.meta.get("weak")]
    boost = 1.15 ** sum(1 for k in present if "promql" in k)
    out: list[tuple[str, float]] = []
    for score, intent in raw:
        if len(out) >= limit and score * boost < sorted(s for _, s in out)[-limit]:
            break
        it = info[intent]
        factor = 1.0
        for kinds in present:
            if not kinds & it.kinds:
                factor *= min(PENALTY.get(k, 1.0) for k in kinds)
            elif "promql" in kinds and "promql" in it.kinds:
                factor *= 1.15
        if it.changes_state and not (own_words & it.signals) and intent not in learned:
            factor *= 0.7  # a change without a verb of its own is unlikely meant
        out.append((intent, round(min(1.0, score * factor), 4)))
    out.sort(key=lambda x: (-x[1], info[x[0]].changes_state, x[0]))  # ties: the read-only one first
    return out


def confidence(best: float, second: float) -> float:
    """The best score, discounted when the runner-up is close."""
    margin = max(0.0, best - second)
    return round(max(0.0, min(1.0, best * (0.8 + min(margin, 0.2)))), 4)
