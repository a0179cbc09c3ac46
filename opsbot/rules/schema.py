"""The shape of a rule pack (YAML). One rule = one intent's behaviour under optional `when` conditions."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from opsbot.core.durations import parse_duration
from opsbot.executors.registry import REGISTRY
from opsbot.rules.alert_schema import AlertRule

ParamType = Literal[
    "host", "group", "service", "deployment", "duration", "integer", "enum", "text", "promql", "version"
]
# Names every template may use besides the rule's params (the engine's `context` provides them).
CONTEXT_NAMES = {"targets", "host_label", "host_matcher", "deployment_service", "deployment_host"}
INTENT = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ParamSpec(Strict):
    type: ParamType
    required: bool = False
    default: Any = None
    description: str | None = None
    groups: bool = True  # host: a group name is accepted and fans out
    min: int | None = None  # integer
    max: int | str | None = None  # integer bound, or the longest duration
    values: list[str] = Field(default_factory=list)  # enum
    aliases: dict[str, list[str]] = Field(default_factory=dict)  # enum value -> words that mean it
    pattern: str | None = None  # text: full-match regex
    max_length: int = 500  # text, promql
    from_message: bool = False  # text: the whole message is the value (a question asked in words)

    @model_validator(mode="after")
    def _coherent(self) -> ParamSpec:
        if self.type == "enum" and not self.values:
            raise ValueError("an enum param needs `values`")
        if set(self.aliases) - set(self.values):
            raise ValueError(
                f"aliases name values that are not in `values`: {sorted(set(self.aliases) - set(self.values))}"
            )
        if self.pattern is not None:
            re.compile(self.pattern)
        if self.type == "duration" and isinstance(self.max, str):
            parse_duration(self.max)
        if self.from_message and self.type != "text":
            raise ValueError("only a text param can take the whole message (from_message)")
        if self.required and self.default is not None:
            raise ValueError("a param with a default is not required; drop one of them")
        return self


class Condition(Strict):
    """A test on one bound param. `group`/`not_group` look at the hosts a host param resolves to."""

    equals: str | None = None
    in_: list[str] | None = Field(None, alias="in")
    group: str | None = None  # true when any target host is in this group
    not_group: str | None = None  # true when no target host is in this group
    at_most: str | None = None  # a duration param: true when it is this long or shorter
    engine: Literal["ray", "ssh"] | None = None  # a deployment param: true when its deployment runs on it

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _one(self) -> Condition:
        if (
            sum(v is not None for v in (self.equals, self.in_, self.group, self.not_group, self.engine, self.at_most))
            != 1
        ):
            raise ValueError("a condition takes exactly one of: equals, in, group, not_group, engine, at_most")
        if self.at_most is not None:
            parse_duration(self.at_most)
        return self

    def literal_values(self) -> set[str] | None:
        if self.equals is not None:
            return {self.equals}
        if self.in_ is not None:
            return set(self.in_)
        return None


class Approval(Strict):
    required: bool | None = None  # default: whether the rule changes state
    roles: list[str] = Field(default_factory=lambda: ["approver"])
    allow_self: bool = False  # may the requester approve their own request?
    ttl: str | None = None  # default: config approval_ttl

    @field_validator("ttl")
    @classmethod
    def _ttl(cls, v: str | None) -> str | None:
        if v is not None:
            parse_duration(v)
        return v


class RateLimit(Strict):
    max: int = Field(ge=1)
    per: str

    @field_validator("per")
    @classmethod
    def _per(cls, v: str) -> str:
        parse_duration(v)
        return v


class Policy(Strict):
    roles: list[str] | None = None  # who may ask; default: anyone for reads, ["operator"] for changes
    approval: Approval = Field(default_factory=Approval)
    rate_limit: RateLimit | None = None


class ActionSpec(BaseModel):
    """`executor` plus templated fields the executor understands (command, query, ...)."""

    model_config = ConfigDict(extra="allow")
    executor: str

    @field_validator("executor")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in REGISTRY:
            raise ValueError(f"unknown executor {v!r}; use one of {', '.join(REGISTRY)}")
        return v

    def fields(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class Examples(Strict):
    en: list[str] = Field(default_factory=list)
    zh: list[str] = Field(default_factory=list)


class ChoiceSpec(Strict):
    label: str
    order: int = 50  # lower comes first in the offered choices

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v: object) -> object:
        return {"label": v} if isinstance(v, str) else v


class Expect(Strict):
    """What the check's output must show for "fixed": a line matching `matches`, or no line matching
    `absent` (an alert gone from the list). Regular expressions, searched line by line."""

    matches: str | None = None
    absent: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Expect:
        if (self.matches is None) == (self.absent is None):
            raise ValueError("expect takes exactly one of: matches, absent")
        re.compile(self.matches or self.absent or "")
        return self


class OutcomeCheck(Strict):
    """After this change ran, a read-only intent run `after` a delay says whether it fixed the problem."""

    intent: str
    after: str = "10s"
    params: dict[str, str] | None = None  # default: the change's own params the check's rule takes
    expect: Expect

    @field_validator("after")
    @classmethod
    def _after(cls, v: str) -> str:
        if parse_duration(v) > 3600:
            raise ValueError("a check runs at most an hour after the change")
        return v


class Rule(Strict):
    intent: str
    id: str = ""  # default: the intent, or intent + '#n' when an intent has several
    summary: str
    examples: Examples = Field(default_factory=Examples)
    params: dict[str, ParamSpec] = Field(default_factory=dict)
    when: dict[str, Condition] = Field(default_factory=dict)
    changes_state: bool = False
    policy: Policy = Field(default_factory=Policy)
    action: ActionSpec
    reply: str | None = None  # Jinja2 template for the reply's first line
    ephemeral: bool = False  # reply only to the asker
    # Offered under this short label when a message names only a host, service or deployment
    # ("check web-1" -> status, CPU, memory...); read-only rules only.
    choice: ChoiceSpec | None = None
    # The read-only intent that shows what this change acts on: a question after this change ("is it ok
    # on web-2?") is answered with it, never with the change.
    check_with: str | None = None
    # After a successful run of this change: a read-only check that records fixed / not fixed / unknown.
    check: OutcomeCheck | None = None

    # Set by the loader: where the rule came from, for messages.
    source: str = Field("", exclude=True)
    line: int | None = Field(None, exclude=True)

    @field_validator("intent")
    @classmethod
    def _intent(cls, v: str) -> str:
        if not INTENT.match(v):
            raise ValueError("an intent is lowercase words joined by dots, like service.restart")
        return v

    @model_validator(mode="after")
    def _refs(self) -> Rule:
        if self.check and not self.changes_state:
            raise ValueError("`check` follows a change; a read-only rule has nothing to check")
        if self.choice and self.changes_state:
            raise ValueError("`choice` offers a rule unasked, so only a read-only rule may have one")
        for name in self.when:
            if name not in self.params:
                raise ValueError(f"`when` tests param {name!r}, which the rule does not declare")
        placeholder = re.compile(r"\{(\w+)\}")
        for text in self.examples.en + self.examples.zh:
            for name in placeholder.findall(text):
                if name not in self.params:
                    raise ValueError(f"example {text!r} uses {{{name}}}, which the rule does not declare")
        return self

    def template_names(self) -> set[str]:
        """Every name this rule's templates may use."""
        durations = {f"{n}_seconds" for n, p in self.params.items() if p.type == "duration"}
        return set(self.params) | durations | CONTEXT_NAMES

    @property
    def needs_approval(self) -> bool:
        req = self.policy.approval.required
        return self.changes_state if req is None else req

    @property
    def allowed_roles(self) -> list[str]:
        if self.policy.roles is not None:
            return self.policy.roles
        return ["operator"] if self.changes_state else ["*"]

    def where(self) -> str:
        return f"{self.source}:{self.line}" if self.line else self.source


class Pack(Strict):
    pack: str | None = None
    description: str | None = None
    rules: list[Rule] = Field(default_factory=list)
    alerts: list[AlertRule] = Field(default_factory=list)  # what to do when an alert arrives (alert_schema.py)
