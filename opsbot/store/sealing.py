"""Secrets never reach the database, and what people typed and commands printed is unreadable there
without the key.

- `opsbot.redact.redact_all` runs the one redactor over every string of a value about to be stored:
  requests, parses, replies, conversations, executions and the audit trail all pass it.
- A `Sealer` with keys encrypts message texts and command outputs at rest (Fernet; MultiFernet for
  rotation: the first key encrypts, every key decrypts). A sealed value is "enc:" + the token; values
  stored before keys were configured stay readable as they are, and `rotate` re-encrypts both kinds.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

SEALED = "enc:"
UNREADABLE = "[encrypted: no key to read it]"


class Sealer:
    def __init__(self, keys: list[bytes] | None = None):
        self._fernet = MultiFernet([Fernet(k) for k in keys]) if keys else None

    @property
    def active(self) -> bool:
        return self._fernet is not None

    def seal(self, text: str | None) -> str | None:
        if text is None or self._fernet is None:
            return text
        return SEALED + self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def unseal(self, text: str | None) -> str | None:
        if text is None or not text.startswith(SEALED):
            return text
        if self._fernet is None:
            return UNREADABLE
        try:
            return self._fernet.decrypt(text[len(SEALED) :].encode("ascii")).decode("utf-8")
        except InvalidToken:
            return UNREADABLE

    def rotate(self, text: str | None) -> str | None:
        """Sealed with the first key (plain text sealed for the first time)."""
        if text is None or self._fernet is None:
            return text
        if not text.startswith(SEALED):
            return self.seal(text)
        return SEALED + self._fernet.rotate(text[len(SEALED) :].encode("ascii")).decode("ascii")


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")
