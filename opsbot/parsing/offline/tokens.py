"""Messages and rule examples as tokens: values become placeholders (<host>, <duration>), English words
are stemmed and unified by synonym, Chinese runs become character n-grams, and a message's unknown word
is corrected to the example word it most likely meant (restrat -> restart)."""

from __future__ import annotations

import re

from rapidfuzz import process
from rapidfuzz.distance import OSA

from opsbot.parsing.chinese import ngrams
from opsbot.parsing.offline.entities import PLACEHOLDER_OF_KIND, Extraction
from opsbot.parsing.offline.index import ExampleIndex
from opsbot.parsing.offline.lexicon import STOP, apply_phrases, is_veto_word, normalise_word

EN_WORD_OR_CJK = re.compile(r"[a-z]+|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
FUZZY_CACHE = 20000  # corrected words remembered before the cache starts over


class Tokenizer:
    """`vocabulary`: the English words of the examples; `index`: the example index, whose tokens a
    message's words are corrected to when they are not among them."""

    def __init__(self, vocabulary: set[str], index: ExampleIndex):
        self.index = index  # not a closure over the parser: no reference cycle keeps a parser alive
        self._fuzzy_words = sorted(w for w in vocabulary if len(w) >= 5 and w not in STOP)
        self._short_words = sorted(w for w in vocabulary if len(w) == 4 and w not in STOP)
        self._fuzzy_cache: dict[str, str | None] = {}

    def tokens(self, ex: Extraction, query: bool) -> list[str]:
        toks: list[str] = []
        pos = 0
        for m in ex.span_mentions():
            toks += self.text_tokens(ex.text[pos : m.start], query)
            pos = m.end
            if "placeholder" in m.kinds():
                toks.append(m.value("placeholder"))
            elif m.meta.get("weak"):
                toks += self.text_tokens(m.text, query)
            else:
                for k in dict.fromkeys(k for k, _ in m.options):
                    if k in PLACEHOLDER_OF_KIND and PLACEHOLDER_OF_KIND[k] not in toks[-3:]:
                        toks.append(PLACEHOLDER_OF_KIND[k])
        toks += self.text_tokens(ex.text[pos:], query)
        enums = {f"<enum:{p}>" for m in ex.mentions if m.meta.get("overlay") for _, (p, _c) in m.options}
        return toks + sorted(enums)

    def text_tokens(self, segment: str, query: bool) -> list[str]:
        out: list[str] = []
        for w in EN_WORD_OR_CJK.findall(apply_phrases(segment.lower())):
            if w[0] >= "\u3400":
                out += ngrams(w)
            elif w not in STOP:
                t = normalise_word(w)
                if query and t not in self.index.idf:
                    t = self.correct(w) or t
                out.append(t)
        return out

    def correct(self, word: str) -> str | None:
        """A word of the examples the message probably meant (restrat -> restart); None if none is close.
        Destructive words are never corrected into something harmless."""
        if word in self._fuzzy_cache:
            return self._fuzzy_cache[word]
        fixed = None
        if len(word) >= 5 and not is_veto_word(word):
            limit = 1 if len(word) <= 7 else 2
            hit = process.extractOne(word, self._fuzzy_words, scorer=OSA.distance, score_cutoff=limit)
            if hit is not None:
                fixed = normalise_word(hit[0])
        elif len(word) == 4 and not is_veto_word(word):  # short words: only two letters swapped (dsik)
            swaps = [w for w in self._short_words if sorted(w) == sorted(word) and OSA.distance(w, word) == 1]
            if len(swaps) == 1:
                fixed = normalise_word(swaps[0])
        if len(self._fuzzy_cache) > FUZZY_CACHE:
            self._fuzzy_cache.clear()
        self._fuzzy_cache[word] = fixed
        return fixed
