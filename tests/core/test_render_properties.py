"""Property: whatever the text and whatever the rule, a rendered command parses (shlex) into exactly the
argv the rule declares, each user value one whole argument; a real shell sees the same argv."""

from __future__ import annotations

import re
import shlex
import subprocess

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from opsbot.config import Config, Inventory
from opsbot.core.task import Task
from opsbot.parsing.offline.parser import OfflineParser
from opsbot.rules.binding import BindError, MissingParams
from opsbot.rules.engine import Engine, PlanError
from opsbot.rules.loader import load_rules
from opsbot.rules.render import SHELL_FIELDS
from opsbot.rules.schema import Rule
from opsbot.rules.tester import SAMPLE_INVENTORY

CONFIG = Config(inventory=Inventory(**SAMPLE_INVENTORY))
SHIPPED = load_rules()
ENGINE = Engine(SHIPPED, CONFIG)
PARSER = OfflineParser(SHIPPED, CONFIG)
SLOT = re.compile(r"\{\{.*?\}\}")
PARAM_REF = re.compile(r'"\$\{?(\d+)\}?"')  # in the script: "$1"
ARG_REF = re.compile(r"\$\{?(\d+)\}?")  # in one of the script's words, quotes removed: $1

# Chat text: anything printable, with the shell's and Jinja's metacharacters made likely.
HOSTILE = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs")) | st.sampled_from(list("$`'\"\\;|&(){}*?!#~<> =-")),
    min_size=1,
    max_size=40,
)
WORDS = st.sampled_from(["echo", "-n", "--flag", "x", "a=b", "./run", "/tmp"])


def split_rendered(command: str) -> tuple[str, list[str]]:
    """(script, values) of a rendered shell command; a command without values is its own script."""
    argv = shlex.split(command)
    if argv[:2] == ["sh", "-c"] and len(argv) >= 4 and argv[3] == "opsbot":
        return argv[2], argv[4:]
    return command, []


@st.composite
def rule_and_values(draw):
    """A generated rule: literal words and expression words (`{{ a }}`, `--opt={{ b }}`), and values."""
    names = ["a", "b", "c"]
    words = draw(
        st.lists(
            st.one_of(
                WORDS.map(lambda w: (w, None)),
                st.sampled_from(names).map(lambda n: ("{{ " + n + " }}", n)),
                st.sampled_from(names).map(lambda n: ("--opt={{ " + n + " }}", n)),
            ),
            min_size=1,
            max_size=6,
        )
    )
    template = "printf '%s\\0' " + " ".join(w for w, _ in words)
    rule = Rule.model_validate(
        {
            "intent": "x.gen",
            "summary": "generated",
            "params": {n: {"type": "text", "required": True} for n in names},
            "action": {"executor": "ssh", "command": template},
        }
    )
    values = {n: draw(HOSTILE) for n in names}
    return rule, words, values


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_and_values())
def test_any_value_in_any_generated_rule_is_exactly_one_argument(case):
    rule, words, values = case
    rules = load_rules([], defaults=False)
    rules.by_intent["x.gen"] = [rule]
    try:
        action = Engine(rules, CONFIG).plan(Task(intent="x.gen", params=values)).action
    except (BindError, MissingParams):
        assume(False)
        raise
    bound = action.params
    declared = [w.replace("{{ " + n + " }}", str(bound[n])) if n else w for w, n in words]
    script, args = split_rendered(action.fields["command"])
    assert script.startswith("printf '%s\\0' ")
    # each value is one whole element after the script, and the script refers to it, never contains it
    assert sorted(set(args)) == sorted({str(bound[n]) for _, n in words if n})
    expanded = [ARG_REF.sub(lambda m: args[int(m.group(1)) - 1], w) for w in shlex.split(script)[2:]]
    assert expanded == declared
    # and a real shell builds exactly that argv
    out = subprocess.run(["sh", "-c", action.fields["command"]], capture_output=True, check=True, timeout=30).stdout
    assert out.decode().split("\0")[:-1] == declared


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        HOSTILE,
        st.builds(
            lambda verb, svc, host, tail: f"{verb} {svc} on {host} {tail}",
            st.sampled_from(["restart", "status of", "scale", "deploy", "top on", "clean disk on"]),
            st.sampled_from(["nginx", "api", "llama-chat", "$(id)", "`id`", "nginx;id"]),
            st.sampled_from(["web-1", "web", "db-1", "gpu-1", "web-1'$(id)'", '"web-1"']),
            HOSTILE,
        ),
    )
)
def test_chat_text_through_parser_binder_renderer_never_changes_a_shipped_script(text):
    task = PARSER.parse(text)
    try:
        plan = ENGINE.plan(task)
    except (PlanError, BindError, MissingParams):
        return
    template = plan.rule.action.fields().get("command")
    if not isinstance(template, str):
        return
    assert set(SHELL_FIELDS) == {"command"}
    script, args = split_rendered(plan.action.fields["command"])
    # the shell text is the rule's, with each expression a positional parameter
    assert PARAM_REF.sub("SLOT", script) == SLOT.sub("SLOT", template)
    values = {str(v) for v in plan.action.params.values()} | {t.name for t in plan.action.targets}
    assert all(a in values for a in args)
