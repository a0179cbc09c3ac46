"""The message catalogs: opsbot/i18n/locale/<lang>/LC_MESSAGES/opsbot.po, compiled to .mo.

A wheel carries the compiled .mo files (hatch_build.py compiles them while building); a source checkout
has them after `make venv`. When a .mo is missing or older than its .po, the .po is compiled in memory
instead, so a fresh checkout or an edited catalog works without a build step.
"""

from __future__ import annotations

import functools
import gettext
import io
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "opsbot"
LANGUAGES = ("en", "zh")  # en is the language of the msgids
DEFAULT = "en"


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def compile_po(po: Path) -> bytes:
    """The .mo bytes of a .po file (fuzzy entries left out, as msgfmt does)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as f:
        catalog = read_po(f)
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalog of one language, loaded once per process and never changed afterwards."""
    if lang not in LANGUAGES:
        raise ValueError(f"no catalog for language {lang!r} (known: {', '.join(LANGUAGES)})")
    po = po_path(lang)
    mo = po.with_suffix(".mo")
    if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as f:
            return gettext.GNUTranslations(f)
    if po.is_file():
        return gettext.GNUTranslations(io.BytesIO(compile_po(po)))
    return gettext.NullTranslations()
