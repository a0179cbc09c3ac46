"""The rule examples' tokens, kept on disk between runs, so that a command such as `opsbot parse` starts
in well under half a second: reading several hundred examples through the entity extractor is most of
what building the offline parser costs (~75 ms of ~105 ms).

The file is used only when its key matches: a hash of the examples with their placeholders, of the
names and words the extraction looks up (inventory, enum words, vocabulary), and of the parser's own
source and the interpreter's version. Anything else (another config, an edited lexicon, a new learned
example) computes the tokens afresh and replaces the file. An unreadable or unwritable file is only a
slower start.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any, cast

import rapidfuzz

from opsbot.parsing.offline.entities import KnownNames

PARSING_SOURCE = Path(__file__).resolve().parent.parent  # opsbot/parsing: the extractor and its tables
FILE_NAME = "example-tokens.json"

Tokens = list[list[str]]


def cached_tokens(
    directory: Path | None,
    names: KnownNames,
    examples: Sequence[tuple[str, dict[str, str]]],
    compute: Callable[[], Tokens],
) -> Tokens:
    """`compute()`'s tokens for `examples` (text, placeholder of each param), from `directory` when it
    holds them for these exact inputs; computed and stored there otherwise. No directory: no cache."""
    if directory is None:
        return compute()
    path = directory / FILE_NAME
    key = _key(names, examples)
    stored = _read(path)
    if stored.get("key") == key and isinstance(stored.get("tokens"), list) and len(stored["tokens"]) == len(examples):
        return cast(Tokens, stored["tokens"])
    tokens = compute()
    _write(path, {"key": key, "tokens": tokens})
    return tokens


def _key(names: KnownNames, examples: Sequence[tuple[str, dict[str, str]]]) -> str:
    h = hashlib.sha256(_code_fingerprint().encode())
    lookups = [names.names, names.enum_words, sorted(names.vocabulary)]
    h.update(json.dumps(lookups, sort_keys=True, ensure_ascii=False).encode())
    h.update(json.dumps(list(examples), sort_keys=True, ensure_ascii=False).encode())
    return h.hexdigest()


@cache
def _code_fingerprint() -> str:
    """The parser's source as this process runs it (any edit to it changes the tokens), the
    interpreter (its Unicode tables normalise the text) and rapidfuzz (typo matching of names)."""
    h = hashlib.sha256(f"{sys.version}\0{rapidfuzz.__version__}".encode())
    for source in sorted(PARSING_SOURCE.rglob("*.py")):
        h.update(source.relative_to(PARSING_SOURCE).as_posix().encode() + b"\0" + source.read_bytes())
    return h.hexdigest()


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(path: Path, data: dict[str, Any]) -> None:
    """Atomically (a concurrent reader sees the old file or the new one), or not at all."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".example-tokens-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass  # a read-only state directory: the next run computes the tokens again
