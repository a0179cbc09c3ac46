"""Render rule templates in a sandbox. Values are data, never template source, and every value that
lands in a shell command is quoted unless the template already quoted it with `| q`."""

from __future__ import annotations

import re
import shlex
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

SHELL_FIELDS = {"command"}  # action fields that a shell will interpret


class Quoted(str):
    """A string already safe for the shell."""


class PromQL(str):
    """A string already safe inside a PromQL query."""


def shell_quote(value: Any) -> Quoted:
    if isinstance(value, Quoted):
        return value
    return Quoted(shlex.quote(str(value)))


def promql_string(value: Any) -> PromQL:
    """A PromQL double-quoted string literal."""
    s = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return PromQL(f'"{s}"')


def promql_regex(values: Any) -> PromQL:
    """A label-matcher regex matching exactly these values (RE2 metacharacters escaped)."""
    items = values if isinstance(values, (list, tuple)) else [values]
    alternatives = "|".join(re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", str(v)) for v in items)
    return promql_string(alternatives)


def _finalize_shell(value: Any) -> str:
    return shell_quote(value)


def _env(shell: bool) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        finalize=_finalize_shell if shell else None,
    )
    env.filters.update(q=shell_quote, shell_quote=shell_quote, promql_string=promql_string, promql_regex=promql_regex)
    return env


_ENVS = {True: _env(True), False: _env(False)}


@lru_cache(maxsize=4096)
def compile_template(source: str, shell: bool = False) -> Template:
    """Compile once; raises TemplateSyntaxError, which the loader reports with the rule's file and line."""
    return _ENVS[shell].from_string(source)


def render(source: str, context: dict[str, Any], shell: bool = False) -> str:
    return compile_template(source, shell).render(**context)


def check_template(source: str, known: set[str], shell: bool = False) -> str | None:
    """None if the template compiles and uses only `known` names, else the problem as a sentence."""
    env = _ENVS[shell]
    try:
        names = meta.find_undeclared_variables(env.parse(source))
    except TemplateSyntaxError as e:
        return f"template syntax error: {e.message} (template line {e.lineno})"
    unknown = sorted(names - known)
    if unknown:
        return (
            f"the template uses {', '.join(unknown)}, which this rule does not define "
            f"(it may use: {', '.join(sorted(known))})"
        )
    return None
