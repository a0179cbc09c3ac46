"""The sentences of a runbook section that may name an action ("restart api on web-1 and web-2"): its
prose lines and list items, code blocks left out. They are only candidates: the pipeline parses each
with the offline parser and offers those that bind to a rule as choices, which then go through the
rules, policy and approval like any request. Nothing in a runbook is ever run as written."""

from __future__ import annotations

import re

SENTENCE_END = re.compile(r"(?<=[.!?;。！？；])\s*")
LIST_MARK = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
FENCE = re.compile(r"^\s*(```|~~~)")
MAX_SENTENCE = 200
PARENS = re.compile(r"\([^()]*\)|（[^（）]*）")
# Clause boundaries inside a sentence: ", " "; " ": " "then", "and" before a verb, and their Chinese
VERBS = r"(?:restart|check|clean|look|scale|roll|reload|renew|remove|run|take|point|lower|move|rotate|search|promote)"
CLAUSE = re.compile(rf",\s+|;\s+|:\s+|\s+then\s+|\s+and\s+(?={VERBS}\b)|[，；：、]|然后|再", re.I)


def clauses(sentence: str) -> list[str]:
    """The sentence and its clauses ("restart redis on cache-1" out of a longer instruction)."""
    plain = PARENS.sub("", sentence).strip()
    parts = [p.strip(" .。") for p in CLAUSE.split(plain)]
    return list(dict.fromkeys([sentence, *[p for p in parts if len(p) >= 3]]))


def action_phrases(text: str, limit: int = 40) -> list[str]:
    out: list[str] = []
    in_code = False
    paragraph: list[str] = []

    def flush() -> None:
        joined = " ".join(paragraph).strip()
        paragraph.clear()
        for part in SENTENCE_END.split(joined):
            part = part.strip().strip("`")
            if 3 <= len(part) <= MAX_SENTENCE:
                out.extend(c for c in clauses(part) if c not in out)

    for line in text.splitlines():
        if FENCE.match(line):
            in_code = not in_code
            flush()
            continue
        if in_code or (line.startswith("    ") and not LIST_MARK.match(line) and not paragraph):
            continue
        if not line.strip() or LIST_MARK.match(line) or line.lstrip().startswith("|"):
            flush()
        stripped = LIST_MARK.sub("", line).strip()
        if stripped and not stripped.startswith("|"):
            paragraph.append(stripped)
    flush()
    return out[:limit]
