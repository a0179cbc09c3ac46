"""YAML loading that remembers where every value came from, so errors can name file and line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class SourceError(Exception):
    """One or more problems in a YAML source; str() lists each on its own line."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


Path_ = tuple[Any, ...]


@dataclass
class Located:
    """Parsed YAML plus the line (1-based) of every mapping key and sequence item, by path."""

    file: str
    data: Any
    lines: dict[Path_, int]

    def line_of(self, path: Path_) -> int | None:
        """The line of the deepest part of `path` that exists in the source."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


MAX_BYTES = 5_000_000  # a config or rule pack is kilobytes; a bigger file is refused before it is parsed
MAX_VALUES = 200_000  # values after alias expansion: a "billion laughs" file is refused, not expanded


def _expanded_size(root: yaml.Node, file: str) -> int:
    """How many values the document holds once every alias is expanded, counted without expanding
    (each node once, memoised); a recursive alias is a Problem. Iterative: depth costs no stack."""
    size: dict[int, int] = {}
    state: dict[int, int] = {}  # 1: being counted, 2: done
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        children = _children(node)
        if children_done:
            size[id(node)] = min(1 + sum(size[id(c)] for c in children), MAX_VALUES + 1)
            state[id(node)] = 2
            continue
        if state.get(id(node)) == 2:
            continue
        state[id(node)] = 1
        stack.append((node, True))
        for child in children:
            if state.get(id(child)) == 1:
                raise SourceError(
                    [Problem(file, child.start_mark.line + 1, "", "a recursive alias: an anchor cannot contain itself")]
                )
            if state.get(id(child)) != 2:
                stack.append((child, False))
    return size[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _construct(node: yaml.Node, path: Path_, lines: dict, problems: list[Problem], file: str) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(
                    Problem(
                        file,
                        key_node.start_mark.line + 1,
                        ".".join(map(str, path)),
                        "a mapping key must be a plain value, not a list or mapping",
                    )
                )
                continue
            key = _scalar(key_node, problems, file, path)
            if key in out:
                problems.append(
                    Problem(
                        file,
                        key_node.start_mark.line + 1,
                        ".".join(map(str, (*path, key))),
                        "duplicate key: it is already defined above; keep one",
                    )
                )
            lines[(*path, key)] = key_node.start_mark.line + 1
            out[key] = _construct(value_node, (*path, key), lines, problems, file)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*path, i), lines, problems, file) for i, item in enumerate(node.value)]
    return _scalar(node, problems, file, path)


def _scalar(node: yaml.Node, problems: list[Problem], file: str, path: Path_) -> Any:
    # A bare constructor: a whole SafeLoader (reader, scanner, parser) per scalar costs more than the value.
    try:
        return yaml.constructor.SafeConstructor().construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as e:  # `!!int abc`, `!!float x`, a bad date
        message = getattr(e, "problem", None) or str(e)
        problems.append(
            Problem(
                file,
                node.start_mark.line + 1,
                ".".join(map(str, path)),
                f"cannot read {node.value!r} as {node.tag}: {message}",
            )
        )
        return None


# libyaml's composer when PyYAML has it (wheels do): the rule packs load in a fifth of the time.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(path: str | Path) -> Located:
    file = str(path)
    try:
        with Path(path).open("rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise SourceError([Problem(file, None, "", f"cannot read the file: {e.strerror}")]) from e
    if len(raw) > MAX_BYTES:
        raise SourceError([Problem(file, 1, "", f"the file is larger than {MAX_BYTES // 1_000_000} MB; refused")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise SourceError([Problem(file, line, "", "the file is not UTF-8 text")]) from None
    return loads(text, file)


def loads(text: str, file: str = "<string>") -> Located:
    if len(text) > MAX_BYTES:
        raise SourceError([Problem(file, 1, "", f"the text is larger than {MAX_BYTES // 1_000_000} MB; refused")])
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise SourceError([Problem(file, line, "", f"not valid YAML: {getattr(e, 'problem', e)}")]) from None
    except RecursionError:
        raise SourceError([Problem(file, 1, "", "not valid YAML: nested too deeply")]) from None
    # only an alias (`*name`) can expand or recurse; most files have none and skip the count
    if node is not None and "*" in text and _expanded_size(node, file) > MAX_VALUES:
        raise SourceError([Problem(file, 1, "", f"more than {MAX_VALUES} values once aliases are expanded; refused")])
    lines: dict[Path_, int] = {}
    problems: list[Problem] = []
    try:
        data = _construct(node, (), lines, problems, file) if node is not None else {}
    except RecursionError:
        raise SourceError([Problem(file, 1, "", "nested too deeply; refused")]) from None
    if problems:
        raise SourceError(problems)
    return Located(file, data, lines)


UNKNOWN_FIELD = "unknown field; check the spelling (see README for the fields this section takes)"


def pydantic_problems(src: Located, error, prefix: Path_ = ()) -> list[Problem]:
    """Turn a pydantic ValidationError on data from `src` (found at `prefix`) into located problems."""
    out = []
    for err in error.errors():
        loc = tuple(prefix) + tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        field = ".".join(str(p) for p in loc)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = UNKNOWN_FIELD
        elif err["type"] == "missing":
            msg = "required field is missing; add it"
        out.append(Problem(src.file, src.line_of(loc), field, msg))
    return out
