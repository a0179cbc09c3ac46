"""Group log lines into templates, Drain-style (He et al., "Drain: An Online Log Parsing Approach with
Fixed Depth Tree", ICWS 2017).

A line is first stripped of its timestamp and masked: numbers, hex, ids, IPs, quoted strings and paths
become placeholders, so `timeout after 3012 ms to 10.0.3.7:8080` and `timeout after 97 ms to
10.0.9.1:8080` are the same line. Masked lines then walk a fixed-depth tree (token count, then the first
tokens) to a leaf whose templates are compared by token similarity; a close enough template absorbs
the line and positions that differ become `<*>`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

WILDCARD = "<*>"

# Timestamps a log line commonly starts with (or carries near its start); removed before masking.
TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:\s?(?:Z|UTC|GMT|[+-]\d{2}:?\d{2}))?"  # ISO 8601
    r"|\[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\]"  # nginx, Apache
    r"|\b\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}\b"  # nginx error log
    r"|\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d{2}:\d{2}:\d{2}\b"  # syslog
)

_MASKS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), token)
    for p, token in [
        (r"\"[^\"\n]*\"", '"<*>"'),  # double-quoted strings
        (r"(?<![\w'])'[^'\n]*'(?![\w'])", "'<*>'"),  # single-quoted, not apostrophes
        (r"\b[a-zA-Z][a-zA-Z0-9+.-]*://\S+", "<URL>"),
        (r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b", "<ID>"),
        (r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b", "<IP>"),
        (r"(?<![\w.])(?:/[\w.@%+-]+)+/?", "<PATH>"),
        (r"\b0x[0-9a-fA-F]+\b", "<HEX>"),
        (r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b", "<HEX>"),
        (r"(?<![\w<.-])\d+(?:\.\d+)?", "<NUM>"),  # 42, 3.5, 120ms; not http2, v1, web-1
        (r"\b(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[A-Za-z0-9][\w-]{5,}\b", "<ID>"),  # req-4f3a2b, job_20251125a
    ]
]
_SPACES = re.compile(r"\s+")


def message_of(line: str) -> str:
    """For a JSON log line, its level and message (the other fields would make every line unique)."""
    text = line.strip()
    if text.startswith("{"):
        try:
            obj = json.loads(text)
        except ValueError:
            return line
        if isinstance(obj, dict):
            for key in ("msg", "message", "error", "err"):
                if isinstance(obj.get(key), str):
                    level = obj.get("level") or obj.get("severity")
                    return f"{level} {obj[key]}" if isinstance(level, str) else obj[key]
    return line


def strip_timestamp(line: str) -> str:
    return TIMESTAMP.sub(" ", line)


def mask(line: str) -> str:
    """The line without its timestamp, variable parts replaced by placeholders, spaces squeezed."""
    text = strip_timestamp(message_of(line))
    for pattern, token in _MASKS:
        text = pattern.sub(token, text)
    return _SPACES.sub(" ", text).strip()


def _is_variable(token: str) -> bool:
    return (
        (token.startswith("<") and token.endswith(">"))
        or any(c.isdigit() for c in token)
        or token.startswith(('"<', "'<"))
    )


@dataclass
class Template:
    tokens: list[str]
    count: int = 0
    example: str = ""
    sources: dict[str, int] = field(default_factory=dict)  # e.g. host -> lines

    @property
    def text(self) -> str:
        return " ".join(self.tokens)

    def similarity(self, tokens: list[str]) -> tuple[float, int]:
        """Share of positions equal to `tokens` (wildcards do not count as equal), and wildcard count."""
        same = wild = 0
        for mine, theirs in zip(self.tokens, tokens, strict=True):  # the length layer groups equal lengths
            if mine == WILDCARD:
                wild += 1
            elif mine == theirs:
                same += 1
        return same / max(1, len(tokens)), wild

    def absorb(self, tokens: list[str]) -> None:
        self.tokens = [mine if mine == theirs else WILDCARD for mine, theirs in zip(self.tokens, tokens, strict=True)]


@dataclass
class _Node:
    children: dict[str, _Node] = field(default_factory=dict)
    templates: list[Template] = field(default_factory=list)


class Drain:
    """Online template miner. `depth` counts the root and the length layer, as in the paper."""

    def __init__(self, depth: int = 4, similarity: float = 0.5, max_children: int = 100, max_templates: int = 5000):
        self.prefix = max(1, depth - 2)
        self.threshold = similarity
        self.max_children = max_children
        self.max_templates = max_templates
        self._root = _Node()
        self._all: list[Template] = []
        self.overflow = 0  # lines not grouped because max_templates was reached

    def add(self, line: str, count: int = 1, source: str | None = None, example: str | None = None) -> Template | None:
        """Group one line (or `count` identical ones). Returns its template, None on overflow."""
        tokens = mask(line).split(" ")
        leaf = self._leaf(tokens)
        best, best_key = None, (-1.0, -1)
        for template in leaf.templates:
            key = template.similarity(tokens)
            if key > best_key:
                best, best_key = template, key
        if best is not None and best_key[0] >= self.threshold:
            best.absorb(tokens)
        elif len(self._all) >= self.max_templates:
            self.overflow += count
            return None
        else:
            best = Template(tokens=tokens, example=example or line)
            leaf.templates.append(best)
            self._all.append(best)
        best.count += count
        if source is not None:
            best.sources[source] = best.sources.get(source, 0) + count
        return best

    def _leaf(self, tokens: list[str]) -> _Node:
        node = self._root.children.setdefault(str(len(tokens)), _Node())
        for token in tokens[: self.prefix]:
            key = WILDCARD if _is_variable(token) else token
            if key not in node.children and len(node.children) >= self.max_children:
                key = WILDCARD
            node = node.children.setdefault(key, _Node())
        return node

    def templates(self) -> list[Template]:
        """All templates, most frequent first."""
        return sorted(self._all, key=lambda t: (-t.count, t.text))
