"""The JSON schema an LLM's answer must follow, generated from the loaded rules, and our own check of it.

The answer is one object: `{"intent": <one of the candidate intents, or null>, "params": {...},
"confidence": <number>}`. `params` is typed per intent (an `anyOf` with one branch per distinct
parameter shape): enum params list their values, integers carry min/max, durations and versions are
pattern strings, and host / group / service / deployment params list the inventory's names when there
are few enough of them. Every property is required and nullable, and no other property is allowed, so
the schema is valid for OpenAI's strict `json_schema` mode and for vLLM / llama.cpp / Ollama grammars.

Servers do not all enforce the schema (some only do `json_object`), so `validate` checks an answer on
our side against the same schema; `check_params` then binds each value with the rule engine's own
types (inventory membership, ranges, durations), which is what finally decides.
"""

from __future__ import annotations

import re
from typing import Any

from opsbot.config import Config
from opsbot.core.durations import DURATION_PATTERN
from opsbot.llm.structured import request_parts
from opsbot.rules.binding import BindError, bind_value
from opsbot.rules.loader import RuleSet
from opsbot.rules.schema import ParamSpec

SCHEMA_NAME = "opsbot_task"
VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"
MAX_ENUM = 64  # inventory names are listed as an enum up to this many; beyond, a pattern string


def intent_params(rules: RuleSet, intent: str) -> dict[str, ParamSpec]:
    """The params an intent takes: those of its primary rule, then any its conditional rules add."""
    out: dict[str, ParamSpec] = {}
    primary = rules.primary(intent)
    for rule in ([primary] if primary else []) + list(rules.by_intent.get(intent, [])):
        for name, spec in rule.params.items():
            out.setdefault(name, spec)
    return out


def _nullable_enum(values: list[str]) -> dict[str, Any]:
    return {"type": ["string", "null"], "enum": [*values, None]}


SHARED = ("host", "group", "service", "deployment", "duration", "version")  # types defined once in $defs


def _def_name(spec: ParamSpec) -> str | None:
    """The $defs entry a param uses (inventory names and common formats are spelled out once)."""
    if spec.type == "host":
        return "host" if spec.groups else "host_only"
    return spec.type if spec.type in SHARED else None


def type_schema(kind: str, config: Config) -> dict[str, Any]:
    inv = config.inventory
    names = {
        "host": list(inv.hosts) + list(inv.groups()),
        "host_only": list(inv.hosts),
        "group": list(inv.groups()),
        "service": inv.services(),
        "deployment": list(inv.deployments),
    }.get(kind)
    if names is not None:
        if 0 < len(names) <= MAX_ENUM:
            return _nullable_enum(names)
        return {"type": ["string", "null"], "pattern": NAME_PATTERN}
    if kind == "duration":
        return {"type": ["string", "null"], "pattern": DURATION_PATTERN}
    if kind == "version":
        return {"type": ["string", "null"], "pattern": VERSION_PATTERN}
    raise ValueError(f"no shared schema for {kind!r}")


def param_schema(spec: ParamSpec, config: Config, defs: dict[str, Any] | None = None) -> dict[str, Any]:
    """One param's JSON schema (always nullable: null means "not given"). With `defs`, shared types
    become a $ref into it (and are added to it)."""
    shared = _def_name(spec)
    if shared is not None:
        if defs is None:
            return type_schema(shared, config)
        defs.setdefault(shared, type_schema(shared, config))
        return {"$ref": f"#/$defs/{shared}"}
    if spec.type == "enum":
        return _nullable_enum(list(spec.values))
    if spec.type == "integer":
        out: dict[str, Any] = {"type": ["integer", "null"]}
        if spec.min is not None:
            out["minimum"] = spec.min
        if isinstance(spec.max, int):
            out["maximum"] = spec.max
        return out
    if spec.type == "text" and spec.pattern:
        return {"type": ["string", "null"], "pattern": f"^(?:{spec.pattern})$"}
    return {"type": ["string", "null"]}  # text, promql: checked by binding (length, pattern)


def params_schema(params: dict[str, ParamSpec], config: Config, defs: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {name: param_schema(spec, config, defs) for name, spec in params.items()},
        "required": list(params),
        "additionalProperties": False,
    }


def task_schema(rules: RuleSet, config: Config, intents: list[str]) -> dict[str, Any]:
    """The schema for an answer choosing among `intents` (or null)."""
    intents = [i for i in dict.fromkeys(intents) if i in rules.by_intent]
    defs: dict[str, dict[str, Any]] = {}
    branches: list[dict[str, Any]] = []
    for intent in intents:
        branch = params_schema(intent_params(rules, intent), config, defs)
        if branch not in branches:
            branches.append(branch)
    empty = params_schema({}, config)
    if empty not in branches:
        branches.append(empty)  # intent null (or a param-less intent)
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "intent": _nullable_enum(intents),
            "params": branches[0] if len(branches) == 1 else {"anyOf": branches},
            "confidence": {"type": "number"},
        },
        "required": ["intent", "params", "confidence"],
        "additionalProperties": False,
    }
    if defs:
        schema["$defs"] = defs
    return schema


def response_format(schema: dict[str, Any], mode: str) -> dict[str, Any] | None:
    """The `response_format` for a chat completion in a structured-output mode (opsbot.llm.structured);
    None in `grammar` mode, which sends none."""
    fmt: dict[str, Any] | None = request_parts(schema, mode, SCHEMA_NAME).get("response_format")
    return fmt


# --- our side: validate an answer ----------------------------------------------------------------

_TYPES: dict[str, type | tuple[type, ...]] = {
    "object": dict,
    "string": str,
    "number": (int, float),
    "integer": int,
    "null": type(None),
    "boolean": bool,
    "array": list,
}


def _is(value: Any, type_name: str) -> bool:
    if type_name in ("number", "integer") and isinstance(value, bool):
        return False
    if type_name == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _TYPES[type_name])


def validate(value: Any, schema: dict[str, Any], path: str = "$", root: dict[str, Any] | None = None) -> list[str]:
    """Errors of `value` against `schema` (the subset `task_schema` uses); [] when it conforms."""
    root = schema if root is None else root
    if "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/$defs/") or ref[8:] not in root.get("$defs", {}):
            return [f"{path}: the schema's reference {ref} is not defined"]
        return validate(value, root["$defs"][ref[8:]], path, root)
    if "anyOf" in schema:
        results = [validate(value, branch, path, root) for branch in schema["anyOf"]]
        if any(not r for r in results):
            return []
        return min(results, key=len)  # the closest branch explains best what is wrong
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        if not any(_is(value, t) for t in types):
            return [f"{path}: expected {' or '.join(types)}, got {_show(value)}"]
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join("null" if v is None else str(v) for v in schema["enum"])
        return [f"{path}: {_show(value)} is not one of: {allowed}"]
    errors: list[str] = []
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        errors.append(f"{path}: {_show(value)} does not match {schema['pattern']}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path}: {value} is below the minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path}: {value} is above the maximum {schema['maximum']}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                errors.append(f"{path}: missing property {name!r}")
        if schema.get("additionalProperties") is False:
            for name in value:
                if name not in props:
                    errors.append(f"{path}: property {name!r} is not allowed")
        for name, sub in props.items():
            if name in value:
                errors += validate(value[name], sub, f"{path}.{name}", root)
    return errors


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_params(
    rules: RuleSet, config: Config, intent: str, params: dict[str, Any]
) -> tuple[dict[str, Any], list[str], list[str]]:
    """Bind an answer's params to the intent with the rule engine's types.
    Returns (normalised params, missing required names, errors)."""
    specs = intent_params(rules, intent)
    values: dict[str, Any] = {}
    errors: list[str] = []
    for name, raw in params.items():
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        spec = specs.get(name)
        if spec is None:
            errors.append(f"$.params.{name}: {intent} takes no param {name!r} (it takes: {', '.join(specs) or 'none'})")
            continue
        try:
            values[name] = bind_value(name, spec, raw, config)
        except BindError as e:
            errors.append(f"$.params.{name}: {e}")
    missing = [name for name, spec in specs.items() if spec.required and name not in values]
    return values, missing, errors
