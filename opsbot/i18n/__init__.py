"""Every sentence a person reads, in the asker's language (English or Chinese), through gettext catalogs.

How to write a user-visible string (code in every layer does it the same way):

    from opsbot.i18n import _, ngettext, N_

    _("Restart {service} on {host}").format(service=svc, host=host)   # translate first, then fill in
    ngettext("{n} host", "{n} hosts", n).format(n=n)                   # plurals
    QUESTION = N_("Which host?")     # a module-level constant: marked for extraction only...
    _(QUESTION)                      # ...and translated where it is shown

- `_()` translates into the language of the request being handled: the front end (or the pipeline)
  wraps the handling of one request in `with use_language(lang):`. The language lives in a context
  variable, so threads and asyncio tasks never see each other's; outside any request it is English.
- Only literal strings go into `_()`: never an f-string, a variable or anything a user typed (chat text,
  alert labels and LLM output are data, placed with `.format()`). Names, numbers and units stay as
  they are; the sentence around them is what gets translated.
- After adding or changing strings: `make messages` (extracts opsbot/i18n/opsbot.pot from the code and
  the rule packs and merges it into each locale's .po), then translate the new entries in
  opsbot/i18n/locale/zh/LC_MESSAGES/opsbot.po. `tests/i18n` fails while an entry has no translation.
"""

from opsbot.i18n.catalogs import LANGUAGES, translations
from opsbot.i18n.language import (
    N_,
    Translator,
    _,
    choose_language,
    current_language,
    detect_language,
    ngettext,
    translator,
    use_language,
)

__all__ = [
    "LANGUAGES",
    "N_",
    "Translator",
    "_",
    "choose_language",
    "current_language",
    "detect_language",
    "ngettext",
    "translations",
    "translator",
    "use_language",
]
