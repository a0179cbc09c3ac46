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


def _construct(node: yaml.Node, path: Path_, lines: dict, problems: list[Problem], file: str) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
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
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    # A bare constructor: a whole SafeLoader (reader, scanner, parser) per scalar costs more than the value.
    return yaml.constructor.SafeConstructor().construct_object(node, deep=True)


# libyaml's composer when PyYAML has it (wheels do): the rule packs load in a fifth of the time.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(path: str | Path) -> Located:
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise SourceError([Problem(file, None, "", f"cannot read the file: {e.strerror}")]) from e
    return loads(text, file)


def loads(text: str, file: str = "<string>") -> Located:
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise SourceError([Problem(file, line, "", f"not valid YAML: {getattr(e, 'problem', e)}")]) from e
    lines: dict[Path_, int] = {}
    problems: list[Problem] = []
    data = _construct(node, (), lines, problems, file) if node is not None else {}
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
