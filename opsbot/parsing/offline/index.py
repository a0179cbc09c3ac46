"""The index stage: an inverted tf-idf index over rule examples (cosine similarity, best example per
intent), and what each intent's examples say about it (IntentInfo).

Built once when the parser is constructed; a query touches only the posting lists of its own tokens, so
the cost of a parse grows with the number of examples that share a word with the message, not with the
number of rules.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from opsbot.parsing.chinese import has_cjk
from opsbot.parsing.offline.lexicon import NOT_SIGNALS, STOP, WEAK
from opsbot.rules.schema import Rule


def token_weight(tok: str) -> float:
    """How much a token counts before idf: placeholders and question words less, single Chinese
    characters less still."""
    if tok.startswith("<"):
        return 0.4 if tok == "<duration>" else 0.8
    if len(tok) == 1 and ord(tok) > 0x2E80:
        return 0.2
    if tok in WEAK:
        return 0.35
    return 1.0


def is_content(tok: str) -> bool:
    """A token that can carry a match on its own: a word that is not a question word, a Chinese bigram, or an
    enum word (cpu, critical, 磁盘)."""
    if tok.startswith("<"):
        return tok.startswith("<enum:")
    return tok not in WEAK and not (len(tok) == 1 and ord(tok) > 0x2E80)


class ExampleIndex:
    def __init__(self) -> None:
        self.docs: list[tuple[str, float]] = []  # (intent, weight of the example)
        self.learned: set[int] = set()  # examples confirmed by users (feedback)
        self._tokens: list[Counter[str]] = []
        self.postings: dict[str, list[int]] = {}
        self.vectors: list[dict[str, float]] = []
        self.contentless: list[int] = []
        self.idf: dict[str, float] = {}
        self.default_idf = 1.0
        self.doc_freq_by_intent: dict[str, Counter[str]] = defaultdict(Counter)
        self.intent_docs: Counter[str] = Counter()

    def add(self, intent: str, tokens: list[str], weight: float = 1.0, learned: bool = False) -> None:
        if tokens:
            if learned:
                self.learned.add(len(self.docs))
            self.docs.append((intent, weight))
            self._tokens.append(Counter(tokens))

    def build(self) -> None:
        n = len(self.docs)
        df: Counter[str] = Counter()
        for toks in self._tokens:
            df.update(toks.keys())
        self.idf = {t: math.log((n + 1) / (c + 0.5)) + 1.0 for t, c in df.items()}
        self.default_idf = math.log((n + 1) / 0.5) + 1.0
        postings: dict[str, list[int]] = defaultdict(list)
        self.vectors = []
        self.contentless = []  # examples made only of placeholders and question words
        for i, toks in enumerate(self._tokens):
            intent = self.docs[i][0]
            self.intent_docs[intent] += 1
            for t in toks:
                self.doc_freq_by_intent[t][intent] += 1
            vec = {t: (1 + math.log(c)) * self.idf[t] * token_weight(t) for t, c in toks.items()}
            norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
            self.vectors.append({t: v / norm for t, v in vec.items()})
            for t in vec:
                postings[t].append(i)
            if not any(is_content(t) for t in vec):
                self.contentless.append(i)
        self.postings = dict(postings)

    def query_vector(self, tokens: list[str], unknown_weight: float = 0.8) -> dict[str, float]:
        vec: dict[str, float] = {}
        for t, c in Counter(tokens).items():
            idf = self.idf.get(t)
            if idf is None:  # unseen: a foreign word counts; an unseen Chinese bigram mostly spans two words
                idf = self.default_idf * (unknown_weight if ord(t[0]) < 0x2E80 else unknown_weight / 2)
            w = (1 + math.log(c)) * token_weight(t) * idf
            vec[t] = w
        return vec

    def scores(self, tokens: list[str], gated: bool = True) -> dict[str, tuple[float, int]]:
        """Intent -> (cosine of its best example, that example's index). Only examples sharing a content
        token with the message are scored (plus the few that have none), so the cost does not grow with
        the number of rules."""
        vec = self.query_vector(tokens)
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        cands: set[int] = set()
        for t in vec:
            if is_content(t) or not gated:
                cands.update(self.postings.get(t, ()))
        content = set(cands) if gated else set()
        cands.update(self.contentless)
        best: dict[str, tuple[float, int]] = {}
        items = list(vec.items())
        for doc in sorted(cands):
            dv = self.vectors[doc]
            dot = covered = 0.0
            for t, qv in items:
                d = dv.get(t)
                if d is not None:
                    dot += qv * d
                    covered += d * d
            if dot <= 0.0 or (gated and doc not in content and covered < 0.85):
                continue  # sharing only placeholders or question words is no match, unless that is all
                #                 the example is ("how is {deployment} doing", "what can you do")
            intent, w = self.docs[doc]
            s = dot / norm * w
            if intent not in best or s > best[intent][0]:
                best[intent] = (s, doc)
        return best

    def purity(self, token: str, intent: str) -> float:
        """The share of the examples containing `token` that belong to `intent`."""
        by = self.doc_freq_by_intent.get(token)
        if not by:
            return 0.0
        return by.get(intent, 0) / sum(by.values())


SIGNAL_PURITY = 0.6  # a word is an intent's "own" when this share of the examples using it are its


@dataclass
class IntentInfo:
    intent: str
    rule: Rule  # the primary rule: its params describe the intent
    changes_state: bool
    kinds: set[str]  # the mention kinds its params accept
    vocab: set[str]  # normalised tokens of its examples
    text: str  # its examples, lower case (for Chinese veto exemptions)
    signals: set[str]
    left: dict[str, list[str]]  # text param -> words seen right before it in examples
    right: dict[str, list[str]]  # text param -> words seen right after it
    future: dict[str, bool]  # duration param -> examples put it in the future ("next {horizon}")


def signals_of(intent: str, vocab: set[str], index: ExampleIndex) -> set[str]:
    """The words that point at `intent` rather than at others (a change's own verb: restart, 重启)."""
    return {
        t
        for t in vocab
        if not t.startswith("<")
        and t not in STOP
        and t not in NOT_SIGNALS
        and not (len(t) == 1 and has_cjk(t))
        and index.purity(t, intent) >= SIGNAL_PURITY
    }


def contexts(rule: Rule, examples: list[str]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Per param: the words examples put just before and just after it, and whether a duration param is
    about the future ("for the next {horizon}", "未来{horizon}")."""
    left: dict[str, list[str]] = {}
    right: dict[str, list[str]] = {}
    future: dict[str, bool] = {}
    for ex in examples:
        low = ex.lower()
        for mt in re.finditer(r"\{(\w+)\}", low):
            name = mt.group(1)
            spec = rule.params.get(name)
            if spec is None:
                continue
            before, after = low[: mt.start()].rstrip(), low[mt.end() :].lstrip()
            if spec.type == "text":
                cjk = re.search(r"([\u3400-\u9fff]{1,2})$", before)
                word = re.search(r"([a-z]+)$", before)
                if cjk:
                    left.setdefault(name, []).append(cjk.group(1))
                elif word and not before.endswith("}"):
                    left.setdefault(name, []).append(word.group(1))
                cjk = re.match(r"^([\u3400-\u9fff])", after)
                word = re.match(r"^([a-z]+)", after)
                if cjk:
                    right.setdefault(name, []).append(cjk.group(1))
                elif word:
                    right.setdefault(name, []).append(word.group(1))
            if spec.type == "duration":
                if re.search(r"(next|coming|upcoming|未来|接下来)\s*$", before):
                    future[name] = True
                else:
                    future.setdefault(name, False)
    return left, right, future


def template(text: str, params: dict[str, Any], rule: Rule) -> str:
    """A confirmed example with its param values replaced by `{name}` placeholders."""
    out = text
    for name, value in sorted(params.items(), key=lambda kv: -len(str(kv[1]))):
        if name not in rule.params or value is None or str(value) == "":
            continue
        v = str(value)
        k = out.lower().find(v.lower())
        if k >= 0:
            # swallow surrounding quotes
            a, b = k, k + len(v)
            if a > 0 and b < len(out) and out[a - 1] in "`'\"“「" and out[b] in "`'\"”」":
                a, b = a - 1, b + 1
            out = out[:a] + "{" + name + "}" + out[b:]
    return out
