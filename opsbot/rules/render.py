"""Render rule templates in a sandbox. Values are data, never template source.

A shell field (`command`) never has a value spliced into its shell text: each `{{ expr }}` becomes a
positional parameter ("$1", "$2"...) of a fixed script, and the values follow as separate, quoted
arguments: `sh -c 'systemctl restart "$1"' opsbot nginx`. Whatever quotes a rule author put around an
expression, a value can only ever be one argument, never shell syntax. `opsbot rules check` also refuses
templates that put an expression where even that would surprise (inside quotes, `$(...)`, backticks)."""

from __future__ import annotations

import re
import shlex
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, meta, nodes, pass_context
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

SHELL_FIELDS = {"command"}  # action fields that a shell will interpret
SCRIPT_NAME = "opsbot"  # $0 of the rendered `sh -c` script


class Quoted(str):
    """A string already safe for the shell (outside shell fields, where `| q` still quotes)."""


class PromQL(str):
    """A string already safe inside a PromQL query."""


def shell_quote(value: Any) -> Quoted:
    if isinstance(value, Quoted):
        return value
    return Quoted(shlex.quote(str(value)))


def as_argument(value: Any) -> Any:
    """`| q` in a shell field: every value already is one argument, so it changes nothing."""
    return value


def promql_string(value: Any) -> PromQL:
    """A PromQL double-quoted string literal."""
    s = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return PromQL(f'"{s}"')


def promql_regex(values: Any) -> PromQL:
    """A label-matcher regex matching exactly these values (RE2 metacharacters escaped)."""
    items = values if isinstance(values, (list, tuple)) else [values]
    alternatives = "|".join(re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", str(v)) for v in items)
    return promql_string(alternatives)


# The values of the shell render in progress (a ContextVar: renders on other threads keep their own).
_ARGS: ContextVar[list[str] | None] = ContextVar("opsbot_shell_args", default=None)


@pass_context  # also keeps Jinja from folding constant expressions at compile time
def _finalize_shell(context: Context, value: Any) -> str:
    args = _ARGS.get()
    if args is None:
        raise RuntimeError("a shell template is rendered only through render()")
    text = str(value)
    if text not in args:
        args.append(text)
    n = args.index(text) + 1
    return f'"${n}"' if n < 10 else f'"${{{n}}}"'


def _env(shell: bool) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        finalize=_finalize_shell if shell else None,
    )
    quote = as_argument if shell else shell_quote
    env.filters.update(q=quote, shell_quote=quote, promql_string=promql_string, promql_regex=promql_regex)
    return env


_ENVS = {True: _env(True), False: _env(False)}


@lru_cache(maxsize=4096)
def compile_template(source: str, shell: bool = False) -> Template:
    """Compile once; raises TemplateSyntaxError, which the loader reports with the rule's file and line."""
    return _ENVS[shell].from_string(source)


def render(source: str, context: dict[str, Any], shell: bool = False) -> str:
    if not shell:
        return compile_template(source, shell).render(**context)
    args, script = render_argv(source, context)
    if not args:
        return script
    return shlex.join(["sh", "-c", script, SCRIPT_NAME, *args])


def render_argv(source: str, context: dict[str, Any]) -> tuple[list[str], str]:
    """A shell template rendered as (values, script): the script refers to value i as "$i"."""
    args: list[str] = []
    token = _ARGS.set(args)
    try:
        script = compile_template(source, True).render(**context)
    finally:
        _ARGS.reset(token)
    return args, script


# Template code that reaches for Python internals: refused when the rule loads, not at first use.
_UNSAFE_FILTERS = {"attr"}


def unsafe_code(ast: nodes.Template) -> str | None:
    for node in ast.find_all((nodes.Getattr, nodes.Getitem, nodes.Name, nodes.Filter)):
        name = None
        if isinstance(node, nodes.Getattr):
            name = node.attr
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            name = node.arg.value
        elif isinstance(node, nodes.Name):
            name = node.name
        elif isinstance(node, nodes.Filter) and node.name in _UNSAFE_FILTERS:
            return f"the template uses the `{node.name}` filter, which rule templates may not use"
        if name is not None and name.startswith("_"):
            return f"the template reaches for {name!r}; names starting with `_` are Python internals, not data"
    return None


_SLOT = "\x00"  # stands for one {{ expression }} while the shell text around it is scanned


def _shell_text(env: ImmutableSandboxedEnvironment, source: str) -> tuple[str, list[str]]:
    """The template's literal text with each expression replaced by _SLOT (statements dropped), and the
    expressions' own source in order."""
    text: list[str] = []
    exprs: list[str] = []
    current: list[str] | None = None
    for _line, kind, value in env.lex(source):
        if kind == "variable_begin":
            current = []
        elif kind == "variable_end":
            exprs.append("{{ " + "".join(current or []).strip() + " }}")
            text.append(_SLOT)
            current = None
        elif current is not None:
            current.append(value)
        elif kind == "data":
            text.append(value)
    return "".join(text), exprs


def shell_context_problem(env: ImmutableSandboxedEnvironment, source: str) -> str | None:
    """None when every expression stands in plain shell-word position, else why not, as a sentence.
    A value placed inside quotes, `$(...)` or backticks means the author expected the shell to re-read
    it; the rendered command never does, so the template is refused rather than silently changed."""
    text, exprs = _shell_text(env, source)
    stack: list[str] = []  # open contexts: ' " ` $( ${
    slot = 0
    i = 0
    where = {"'": "single quotes", '"': "double quotes", "`": "backticks", "$(": "$(...)", "${": "${...}"}
    while i < len(text):
        c = text[i]
        top = stack[-1] if stack else ""
        if c == _SLOT:
            expr = exprs[slot]
            slot += 1
            if top:
                inner = next((where[s] for s in reversed(stack) if s in ("$(", "`")), where[top])
                return (
                    f"{expr} sits inside {inner}; write it as a word of its own (`cmd {expr}`): "
                    "opsbot passes each value as one whole argument, never as shell text"
                )
            if i > 0 and text[i - 1] == "\\":
                return f"{expr} follows a backslash; write it as a word of its own"
        elif top == "'":
            if c == "'":
                stack.pop()
        elif c == "\\":
            if i + 1 < len(text) and text[i + 1] == _SLOT:
                return f"{exprs[slot]} follows a backslash; write it as a word of its own"
            i += 1
        elif c == '"' and top == '"':
            stack.pop()
        elif c == "'" and top != '"':
            stack.append("'")
        elif c == '"':
            stack.append('"')
        elif c == "`":
            if top == "`":
                stack.pop()
            else:
                stack.append("`")
        elif c == "$" and text[i + 1 : i + 2] in ("(", "{"):
            stack.append("$" + text[i + 1])
            i += 1
        elif c == "(" and top == "$(":
            stack.append("$(")  # nested parentheses close one at a time
        elif (c == ")" and top == "$(") or (c == "}" and top == "${"):
            stack.pop()
        i += 1
    if stack:
        return f"the template leaves {where[stack[-1]]} open"
    return None


def check_template(source: str, known: set[str], shell: bool = False) -> str | None:
    """None if the template compiles, uses only `known` names, reaches for no Python internals and (for a
    shell field) places every expression as a plain shell word; else the problem as a sentence."""
    env = _ENVS[shell]
    try:
        ast = env.parse(source)
    except TemplateSyntaxError as e:
        return f"template syntax error: {e.message} (template line {e.lineno})"
    unsafe = unsafe_code(ast)
    if unsafe:
        return unsafe
    names = meta.find_undeclared_variables(ast)
    unknown = sorted(names - known)
    if unknown:
        return (
            f"the template uses {', '.join(unknown)}, which this rule does not define "
            f"(it may use: {', '.join(sorted(known))})"
        )
    if shell:
        return shell_context_problem(env, source)
    return None
