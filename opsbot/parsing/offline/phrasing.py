"""How a message is put, apart from what it asks: a question that only looks ("is it ok", "还好吗"), a
cancel ("never mind", "算了"), a yes or no, a pick by number ("2", "第二个"). English and Chinese; the
word lists are in lexicon.py.

These decide safety, not intent: a read-only phrasing never becomes a change, and a cancel word is never
read as a name. The pipeline uses them too (cancels and answers to its questions), whichever parser runs.
"""

from __future__ import annotations

from opsbot.parsing.chinese import numeral_value
from opsbot.parsing.offline.lexicon import CANCEL, NO, PICK, READ_ONLY_EN, READ_ONLY_ZH, REQUEST_EN, REQUEST_ZH, YES


def read_only(text: str) -> bool:
    """The message asks how something is, rather than asking for something to be done."""
    if REQUEST_EN.search(text) or REQUEST_ZH.search(text):
        return False
    return bool(READ_ONLY_EN.search(text) or READ_ONLY_ZH.search(text))


def cancels(text: str) -> bool:
    """The whole message says "never mind" (not a request that happens to contain "cancel")."""
    return bool(CANCEL.match(text.strip()))


def yes(text: str) -> bool:
    return bool(YES.match(text))


def no(text: str) -> bool:
    return bool(NO.match(text))


def picked_number(text: str, count: int) -> int | None:
    """The 0-based choice a message picks by number ("2", "#2", "option 2", "第二个"), if in range."""
    m = PICK.match(text)
    if not m:
        return None
    raw = m.group(1)
    n = int(raw) if raw.isdigit() else numeral_value(raw)
    return n - 1 if n is not None and 1 <= n <= count else None
