"""`opsbot eval` on a runbook question set: JSON lines {"text", "kb": [section ids]}, where an empty
list means the runbooks do not answer it. A question with sections passes when one of them is in the
top 3; one without passes when nothing relevant is found. Also reported: how many of the questions
the offline parser sends to kb.ask (for information: some are asked in words it does not take for a
question, which is the parser's business, not the search's), and the search latency."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from opsbot.config import Config
from opsbot.config.models import KnowledgeSource
from opsbot.knowledge.library import Library
from opsbot.tuning.evaluate import read_cases


def is_kb_dataset(path: str | Path) -> bool:
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                first = json.loads(line)
            except json.JSONDecodeError:
                return False
            return isinstance(first, dict) and "kb" in first
    return False


def load_kb_cases(path: str | Path) -> list[dict]:
    cases = []
    for n, case in read_cases(path):
        if not isinstance(case.get("text"), str) or not isinstance(case.get("kb"), list):
            raise ValueError(f'{path}:{n}: a case needs "text" and "kb" (a list of section ids, [] for none)')
        cases.append(case)
    return cases


def score_kb(library: Library, cases: list[dict], k: int = 3) -> dict:
    found = answered = none_ok = none = 0
    misses, times = [], []
    library.index()  # built before timing
    for case in cases:
        started = time.perf_counter()
        hits = library.search(case["text"], k)
        times.append((time.perf_counter() - started) * 1000)
        ids = [h.section.id for h in hits]
        if case["kb"]:
            answered += 1
            ok = any(i in case["kb"] for i in ids)
            found += ok
        else:
            none += 1
            ok = not ids
            none_ok += ok
        if not ok:
            misses.append(f"MISS {case['text']!r}: want {case['kb'] or 'nothing found'}, got {ids or 'nothing found'}")
    total = answered + none
    return {
        "cases": total,
        "top3": round(found / answered, 3) if answered else 1.0,
        "answered": answered,
        "found": found,
        "nothing_found_ok": none_ok,
        "no_answer": none,
        "accuracy": round((found + none_ok) / total, 3) if total else 1.0,
        "p50_ms": round(statistics.median(times), 2) if times else 0.0,
        "max_ms": round(max(times), 2) if times else 0.0,
        "misses": misses,
    }


def run_kb(
    dataset: str,
    config: Config,
    runbooks: list[str] | None = None,
    min_accuracy: float = 0.0,
    show_misses: bool = True,
    out: Callable[[str], None] = print,
) -> int:
    if runbooks:
        config.knowledge.sources = [KnowledgeSource(path=Path(r)) for r in runbooks]
    if not config.knowledge.sources:
        out("opsbot eval: a runbook question set needs runbooks: give --runbooks DIR or knowledge.sources")
        return 2
    cases = load_kb_cases(dataset)
    r = score_kb(Library(config), cases, config.knowledge.top)
    parsed = _parsed_as_kb(config, cases)
    if show_misses:
        for m in r["misses"]:
            out(m)
    out(
        f"kb.ask on {r['cases']} questions: right section in the top 3 for {r['found']}/{r['answered']} "
        f"({r['top3']:.1%}); 'nothing relevant found' for {r['nothing_found_ok']}/{r['no_answer']} without an "
        f"answer; accuracy {r['accuracy']:.3f}; search p50 {r['p50_ms']:.2f} ms, max {r['max_ms']:.2f} ms"
    )
    out(f"(the offline parser takes {parsed}/{len(cases)} of these questions for kb.ask)")
    return 0 if r["accuracy"] >= min_accuracy else 1


def _parsed_as_kb(config: Config, cases: list[dict]) -> int:
    from opsbot.parsing.offline import OfflineParser
    from opsbot.rules.loader import load_for

    parser = OfflineParser(load_for(config), config)
    return sum(parser.parse(c["text"]).intent == "kb.ask" for c in cases)
