"""Which language a request is answered in, and `_()` bound to it.

The language is a context variable set around the handling of one request (`use_language`), so each
thread and each asyncio task has its own and nothing leaks from one request to the next.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from opsbot.i18n.catalogs import DEFAULT, LANGUAGES, translations

_language: ContextVar[str] = ContextVar("opsbot_language", default=DEFAULT)

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LATIN_WORD = re.compile(r"(?<![\w.-])[A-Za-z]{2,}(?![\w.-])")
OVERRIDES = ("en", "zh", "auto")  # what `/lang` accepts


@dataclass(frozen=True)
class Translator:
    """gettext bound to one language: pass it where a context variable cannot go (another thread)."""

    lang: str

    def gettext(self, message: str) -> str:
        return translations(self.lang).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return translations(self.lang).ngettext(singular, plural, n)

    __call__ = gettext


def translator(lang: str | None = None) -> Translator:
    """The translator for `lang`, or for the current request's language."""
    return Translator(lang if lang in LANGUAGES else current_language())


def current_language() -> str:
    return _language.get()


@contextlib.contextmanager
def use_language(lang: str | None) -> Iterator[str]:
    """Answer in `lang` inside the block (English for an unknown or missing language)."""
    token = _language.set(lang if lang in LANGUAGES else DEFAULT)
    try:
        yield _language.get()
    finally:
        _language.reset(token)


def _(message: str) -> str:
    """`message` in the current request's language."""
    return translations(_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_language.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a constant for extraction; translate it with `_()` where it is shown."""
    return message


def detect_language(text: str, names: Iterable[str] = (), fallback: str = DEFAULT) -> str:
    """The language a message is written in: Chinese when it has Chinese characters, English when it has
    English words (other than the inventory `names`), else `fallback` (an answer like "web-1" or "2"
    continues the conversation's language)."""
    if CJK.search(text or ""):
        return "zh"
    known = {n.lower() for n in names}
    if any(w.lower() not in known for w in LATIN_WORD.findall(text or "")):
        return "en"
    return fallback if fallback in LANGUAGES else DEFAULT


def choose_language(text: str, override: str | None, names: Iterable[str] = (), fallback: str = DEFAULT) -> str:
    """The reply language: the user's `/lang` setting when it names a language, else the message's own."""
    if override in LANGUAGES:
        return override
    return detect_language(text, names, fallback)
