"""Bind a task's params to a rule: check each against its declared type and the inventory, normalise it,
apply defaults, and report what is missing. Pure: no I/O."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from opsbot.config import Config
from opsbot.core.action import Target
from opsbot.core.durations import format_duration, parse_duration
from opsbot.i18n import _
from opsbot.rules.schema import ParamSpec, Rule

HOST_LIST = re.compile(r"\s*,\s*")  # a host param naming several hosts: "web-1,web-2"
VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class BindError(ValueError):
    """A param value that is not acceptable; the message is one sentence for the user."""

    def __init__(self, param: str, message: str):
        self.param = param
        super().__init__(message)


class MissingParams(Exception):
    def __init__(self, names: list[str]):
        self.names = names
        super().__init__(", ".join(names))


@dataclass
class Bound:
    values: dict[str, Any]  # normalised values, as they appear in a Task
    targets: list[Target] = field(default_factory=list)
    seconds: dict[str, int] = field(default_factory=dict)  # duration params in seconds


def _unquote(v: str) -> str:
    v = v.strip()
    while len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"`":
        v = v[1:-1].strip()
    return v


def _closest(word: str, names: list[str]) -> str:
    near = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    return " " + _("Did you mean {name}?").format(name=near[0]) if near else ""


def _listing(names: list[str], limit: int = 8) -> str:
    shown = ", ".join(sorted(names)[:limit])
    return shown + (" " + _("(and {count} more)").format(count=len(names) - limit) if len(names) > limit else "")


def _lookup(value: str, names: list[str]) -> str | None:
    low = {n.lower(): n for n in names}
    return low.get(value.lower())


def bind_value(name: str, spec: ParamSpec, raw: Any, config: Config) -> Any:
    inv = config.inventory
    if spec.type == "integer":
        try:
            n = int(str(raw).strip()) if not isinstance(raw, bool) else None
        except ValueError:
            n = None
        if n is None:
            raise BindError(name, _("{name} must be a whole number, not {value}.").format(name=name, value=repr(raw)))
        if (spec.min is not None and n < spec.min) or (isinstance(spec.max, int) and n > spec.max):
            raise BindError(
                name,
                _("{name} must be between {min} and {max}; {value} is out of range.").format(
                    name=name, min=spec.min, max=spec.max, value=n
                ),
            )
        return n
    if not isinstance(raw, (str, int, float)) or isinstance(raw, bool):
        raise BindError(name, _("{name} must be text, not {type}.").format(name=name, type=type(raw).__name__))
    value = _unquote(str(raw))
    if not value:
        raise BindError(name, _("{name} is empty.").format(name=name))
    if CONTROL.search(value):
        raise BindError(name, _("{name} contains control characters; send it on one line.").format(name=name))
    if spec.type in ("host", "group"):
        hosts, groups = list(inv.hosts), list(inv.groups())
        allowed = (hosts if spec.type == "host" else []) + (groups if spec.type == "group" or spec.groups else [])
        names: list[str] = []
        for one in HOST_LIST.split(value) if spec.type == "host" else [value]:  # "web-1,web-2": several hosts
            found = _lookup(one, allowed)
            if found is None:
                unknown = (
                    _("I don't know the host or group {name}.")
                    if spec.type == "host" and spec.groups
                    else _("I don't know the host {name}.")
                    if spec.type == "host"
                    else _("I don't know the group {name}.")
                )
                raise BindError(
                    name,
                    unknown.format(name=repr(one))
                    + _closest(one, allowed)
                    + " "
                    + _("Known: {names}.").format(names=_listing(allowed) or _("none configured")),
                )
            if found not in names:
                names.append(found)
        return ",".join(names)
    if spec.type == "service":
        found = _lookup(value, inv.services())
        if found is None:
            raise BindError(
                name,
                _("I don't know the service {name}.").format(name=repr(value))
                + _closest(value, inv.services())
                + " "
                + _("Known: {names}.").format(names=_listing(inv.services()) or _("none configured")),
            )
        return found
    if spec.type == "deployment":
        found = _lookup(value, list(inv.deployments))
        if found is None:
            raise BindError(
                name,
                _("I don't know the deployment {name}.").format(name=repr(value))
                + _closest(value, list(inv.deployments))
                + " "
                + _("Known: {names}.").format(names=_listing(list(inv.deployments)) or _("none configured")),
            )
        return found
    if spec.type == "duration":
        try:
            secs = parse_duration(value)
        except ValueError as e:
            raise BindError(name, f"{e}.") from None  # already a sentence from parse_duration
        if spec.max is not None and secs > parse_duration(str(spec.max)):
            raise BindError(
                name,
                _("{name} {value} is longer than the {max} this command allows.").format(
                    name=name, value=value, max=spec.max
                ),
            )
        return format_duration(secs)
    if spec.type == "enum":
        for canon in spec.values:
            if value.lower() == canon.lower() or value.lower() in (a.lower() for a in spec.aliases.get(canon, [])):
                return canon
        raise BindError(
            name,
            _("{name} must be one of {values}, not {value}.").format(
                name=name, values=", ".join(spec.values), value=repr(value)
            ),
        )
    if spec.type == "version":
        if not VERSION.match(value):
            raise BindError(
                name,
                _("{value} does not look like a version (letters, digits, '.', '_', '+', '-').").format(
                    value=repr(value)
                ),
            )
        return value
    # text and promql
    if len(value) > spec.max_length:
        raise BindError(
            name,
            _("{name} is {length} characters; the limit is {limit}.").format(
                name=name, length=len(value), limit=spec.max_length
            ),
        )
    if spec.pattern and not re.fullmatch(spec.pattern, value):
        raise BindError(name, _("{name} {value} is not in the accepted form.").format(name=name, value=repr(value)))
    return value


def bind(rule: Rule, params: dict[str, Any], config: Config) -> Bound:
    """Validate and normalise `params` for `rule`. Raises BindError or MissingParams."""
    values: dict[str, Any] = {}
    missing = []
    for name, spec in rule.params.items():
        raw = params.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if spec.default is not None:
                raw = spec.default
            elif spec.required:
                missing.append(name)
                continue
            else:
                continue
        values[name] = bind_value(name, spec, raw, config)
    if missing:
        raise MissingParams(missing)
    bound = Bound(values=values)
    groups = config.inventory.groups()
    for name, spec in rule.params.items():
        v = values.get(name)
        if v is None:
            continue
        if spec.type in ("host", "group"):
            names = [h for one in v.split(",") for h in groups.get(one, [one])]
            bound.targets = [Target.of(config, h) for h in dict.fromkeys(names)]
        elif spec.type == "duration":
            bound.seconds[name] = parse_duration(v)
    dep_host = config.inventory.deployments[values["deployment"]].host if "deployment" in values else None
    if not bound.targets and dep_host:  # a ray deployment runs on no inventory host
        bound.targets = [Target.of(config, dep_host)]
    _check_service_on_hosts(rule, bound)
    return bound


def _check_service_on_hosts(rule: Rule, bound: Bound) -> None:
    """`restart nginx on db-1` is refused when db-1 does not run nginx (hosts that list no services pass)."""
    for name, spec in rule.params.items():
        if spec.type != "service" or name not in bound.values:
            continue
        svc = bound.values[name]
        wrong = [t.name for t in bound.targets if t.services and svc not in t.services]
        if wrong:
            runs = ", ".join(sorted({s for t in bound.targets if t.name in wrong for s in t.services}))
            raise BindError(
                name,
                _("{service} does not run on {hosts} (it runs: {runs}).").format(
                    service=svc, hosts=", ".join(wrong), runs=runs
                ),
            )
