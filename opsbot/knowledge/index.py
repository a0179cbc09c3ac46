"""BM25 over runbook sections (bm25s), with the heading path weighed twice, inventory names boosted,
and a relevance floor: a hit must cover enough of the question's weight (by IDF), so a question the
runbooks do not answer gets "nothing relevant found" rather than the least bad section."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import bm25s
import numpy as np

from opsbot.knowledge.sections import Section
from opsbot.knowledge.tokens import CJK, groups, tokens

NAME_BOOST = 0.5  # per inventory name of the question a section mentions
WEAK_SHARE = 0.6  # a strong match may cover this share of min_coverage


@dataclass(frozen=True)
class Hit:
    section: Section
    score: float  # BM25, boosted
    coverage: float  # share of the question's IDF weight the section contains, 0..1


def relevant(hit: Hit, min_coverage: float, min_score: float) -> bool:
    return hit.coverage >= min_coverage or (hit.coverage >= WEAK_SHARE * min_coverage and hit.score >= min_score)


def section_tokens(section: Section) -> list[str]:
    head = " ".join(section.headings)
    return tokens(f"{head}\n{head}\n{section.text}")


class KnowledgeIndex:
    def __init__(self, sections: Iterable[Section], names: Iterable[str] = ()):
        self.sections = [s for s in sections if s.text.strip()]
        docs = [section_tokens(s) for s in self.sections]
        self.doc_sets = [frozenset(d) for d in docs]
        df: Counter[str] = Counter()
        for d in self.doc_sets:
            df.update(d)
        n = len(docs)
        self.idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self.unknown_idf = math.log(1 + (n + 0.5) / 0.5)
        # Chinese cut into words leaves question filler (多久, 很差…) the runbooks never use: an unknown
        # Chinese word weighs like a common word, an unknown English one (a name: kafka) like the rarest
        self.unknown_cjk = float(np.median(list(self.idf.values()))) if self.idf else 1.0
        self.names = {t for name in names for t in tokens(name)[:1]}  # a name's whole token
        self.bm25: bm25s.BM25 | None = None
        if docs:
            self.bm25 = bm25s.BM25()
            self.bm25.index(docs, show_progress=False)

    def __len__(self) -> int:
        return len(self.sections)

    def _unknown(self, token: str) -> float:
        return self.unknown_cjk if CJK.match(token) else self.unknown_idf

    def search(self, question: str, k: int = 3, min_coverage: float = 0.0, min_score: float = 0.0) -> list[Hit]:
        """The best `k` sections for `question`, best first; none when the best one is not relevant:
        it covers less than `min_coverage` of the question's weight, or (a strong BM25 match, at least
        `min_score`) less than WEAK_SHARE of that."""
        words = groups(question, expand=True)
        known = list(dict.fromkeys(t for g in words for t in g if t in self.idf))
        if self.bm25 is None or not known:
            return []
        wanted = min(len(self.sections), max(k * 5, 20))
        ids, scores = self.bm25.retrieve([known], k=wanted, show_progress=False)
        # each word weighs its rarest known form (an unknown word weighs the most: it is nowhere)
        weights = [max((self.idf[t] for t in g if t in self.idf), default=self._unknown(g[0])) for g in words]
        total = sum(weights) or 1.0
        names = [t for t in known if t in self.names]
        hits = []
        for i, score in zip(np.asarray(ids[0]).tolist(), np.asarray(scores[0]).tolist(), strict=True):
            if score <= 0:
                continue
            have = self.doc_sets[i]
            coverage = sum(w for g, w in zip(words, weights, strict=True) if any(t in have for t in g)) / total
            boosted = score * (1 + NAME_BOOST * sum(t in have for t in names))
            hits.append(Hit(self.sections[i], round(float(boosted), 4), round(min(coverage, 1.0), 3)))
        hits.sort(key=lambda h: (-h.score, h.section.id))
        if not hits or not relevant(hits[0], min_coverage, min_score):
            return []
        return hits[:k]
