"""Attack 1: shell injection through a rule's own quoting. A value reaches a shell command only as one
whole argument ("$1" of a fixed script), so no quoting in a template can turn it into shell text; and
`opsbot rules check` refuses templates that place an expression inside quotes, $(...) or backticks."""

from __future__ import annotations

import shlex
import subprocess
import sys
import textwrap

import pytest

from opsbot.config import Config, Inventory
from opsbot.core.task import Task
from opsbot.rules.engine import Engine
from opsbot.rules.loader import load_rules
from opsbot.rules.schema import Rule
from opsbot.rules.tester import SAMPLE_INVENTORY
from opsbot.yamlsource import SourceError

NOTE_RULE = """
rules:
  - intent: x.note
    summary: note a pattern
    params: {{pattern: {{type: text, required: true}}, host: {{type: host}}}}
    action: {{executor: ssh, command: '{command}'}}
"""


def pack(tmp_path, command):
    (tmp_path / "pack.yaml").write_text(textwrap.dedent(NOTE_RULE.format(command=command)))
    return tmp_path


def sh(command: str) -> str:
    """Run a rendered command in a real shell, as the SSH host's login shell would."""
    return subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=True, timeout=30).stdout


@pytest.mark.parametrize(
    ("command", "where"),
    [
        ('echo "note: {{ pattern }}"', "double quotes"),
        ("echo note: ''{{ pattern }}''", "single quotes"),  # YAML '' is one quote
        ("echo $(printf %s {{ pattern }})", "$(...)"),
        ("echo `echo {{ pattern }}`", "backticks"),
        ('echo "$(echo {{ pattern }})"', "$(...)"),
    ],
)
def test_rules_check_refuses_an_expression_inside_quotes_or_a_substitution(tmp_path, command, where):
    d = pack(tmp_path, command)
    with pytest.raises(SourceError) as e:
        load_rules([d], defaults=False)
    assert f"pack.yaml:6: rules.0.action.command: {{{{ pattern }}}} sits inside {where}" in str(e.value)
    check = subprocess.run(
        [sys.executable, "-m", "opsbot", "rules", "check", str(d)], capture_output=True, text=True, timeout=60
    )
    assert check.returncode != 0 and f"sits inside {where}" in check.stdout + check.stderr
    assert "Traceback" not in check.stderr


@pytest.mark.parametrize(
    "template",
    ["{{ pattern.__class__ }}", '{{ pattern | attr("__class__") }}', '{{ pattern["__globals__"] }}'],
)
def test_sandbox_escapes_are_refused_when_the_pack_loads(tmp_path, template):
    with pytest.raises(SourceError) as e:
        load_rules([pack(tmp_path, "echo " + template)], defaults=False)
    assert "pack.yaml:6: rules.0.action.command:" in str(e.value)
    assert "Python internals" in str(e.value) or "`attr` filter" in str(e.value)


@pytest.mark.parametrize(
    "value",
    [
        '"$(touch {marker})"',
        "$(touch {marker})",
        "`touch {marker}`",
        "'; touch {marker}; '",
        "a|b; touch {marker} && echo $HOME > {marker}",
    ],
)
def test_a_viewer_note_with_command_substitution_runs_nothing(tmp_path, value):
    marker = tmp_path / "x"
    value = value.format(marker=marker)
    eng = Engine(load_rules([pack(tmp_path, "echo note: {{ pattern }}")], defaults=False), Config())
    action = eng.plan(Task(intent="x.note", params={"pattern": value})).action
    bound = action.params["pattern"]  # the text as bound (surrounding quotes dropped), still hostile
    assert "touch" in bound
    assert shlex.split(action.fields["command"]) == ["sh", "-c", 'echo note: "$1"', "opsbot", bound]
    assert sh(action.fields["command"]) == f"note: {bound}\n"
    assert not marker.exists()


def test_even_a_quoting_template_that_skipped_the_loader_cannot_run_a_value(tmp_path):
    """Safety does not rest on the check: a rule made in code, quotes and all, still passes the value as
    an argument (at worst split into words, never executed)."""
    marker = tmp_path / "x"
    rule = Rule.model_validate(
        {
            "intent": "x.note",
            "summary": "note",
            "params": {"pattern": {"type": "text", "required": True}},
            "action": {"executor": "ssh", "command": "echo \"note: {{ pattern }}\"; echo '{{ pattern }}'"},
        }
    )
    rules = load_rules([], defaults=False)
    rules.by_intent["x.note"] = [rule]
    eng = Engine(rules, Config(inventory=Inventory(**SAMPLE_INVENTORY)))
    cmd = eng.plan(Task(intent="x.note", params={"pattern": f"$(touch {marker})"})).action.fields["command"]
    sh(cmd)
    assert not marker.exists()


def test_the_shipped_commands_keep_their_meaning():
    eng = Engine(load_rules(), Config(inventory=Inventory(**SAMPLE_INVENTORY)))
    restart = eng.plan(Task(intent="service.restart", params={"service": "nginx", "host": "web-1"}))
    argv = shlex.split(restart.action.fields["command"])
    assert argv[:2] == ["sh", "-c"] and argv[3:] == ["opsbot", "nginx"]
    assert argv[2] == (
        'sudo -n systemctl restart "$1" && systemctl is-active "$1" && systemctl show -p MainPID --value "$1"'
    )
    top = eng.plan(Task(intent="process.top", params={"host": "web-1"}))
    assert top.action.fields["command"].startswith("ps -eo ")  # no value: the command as written
