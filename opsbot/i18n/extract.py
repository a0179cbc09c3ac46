"""A Babel extractor for rule packs: the strings of a rule that people read (its summary, its reply
line, its chart title, its choice label, its params' descriptions) become catalog entries, like `_()` strings in code.
Registered in pyproject.toml's [tool.babel] as the `rules` method for rules/*.yaml."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

# (where in a rule, the key holding a user-visible string)
RULE_TEXT = (((), "summary"), ((), "reply"), (("action",), "title"), ((), "choice"), (("choice",), "label"))


def _lines(node: yaml.Node) -> Iterator[tuple[int, str]]:
    """(line, string) of the user-visible strings under a rule-pack YAML node."""
    if not isinstance(node, yaml.MappingNode):
        return
    for key, value in node.value:
        if key.value == "rules" and isinstance(value, yaml.SequenceNode):
            for rule in value.value:
                yield from _rule_lines(rule)


def _child(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if k.value == key:
                return v
    return None


def _rule_lines(rule: yaml.Node) -> Iterator[tuple[int, str]]:
    for path, key in RULE_TEXT:
        node: yaml.Node | None = rule
        for step in path:
            node = node and _child(node, step)
        value = node and _child(node, key)
        if isinstance(value, yaml.ScalarNode) and value.value:
            yield value.start_mark.line + 1, value.value
    params = _child(rule, "params")
    if isinstance(params, yaml.MappingNode):
        for _name, spec in params.value:
            desc = _child(spec, "description")
            if isinstance(desc, yaml.ScalarNode) and desc.value:
                yield desc.start_mark.line + 1, desc.value


def extract_rules(fileobj, keywords, comment_tags, options: dict[str, Any]):
    """Babel's extractor interface: yields (line, funcname, message, comments)."""
    node = yaml.compose(fileobj.read().decode(options.get("encoding", "utf-8")))
    if node is None:  # an empty file
        return
    for line, text in _lines(node):
        yield line, None, text, []
