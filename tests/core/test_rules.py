"""Rule packs: validation with file:line, ambiguity, binding, injection, sandboxed rendering."""

import shlex
import textwrap

import pytest
from jinja2.exceptions import SecurityError

from opsbot.config import Config, Inventory
from opsbot.core.task import Task
from opsbot.rules.binding import BindError, MissingParams
from opsbot.rules.engine import Engine
from opsbot.rules.loader import load_rules
from opsbot.rules.render import render
from opsbot.rules.tester import SAMPLE_INVENTORY
from opsbot.yamlsource import SourceError

INVENTORY = SAMPLE_INVENTORY  # web-1, web-2 (web), db-1 (db), gpu-1 (llm); deployment llama-chat
DEFAULT_INTENTS = [
    "help",
    "metrics.cpu",
    "metrics.memory",
    "metrics.disk",
    "metrics.query",
    "metrics.forecast",
    "alerts.list",
    "targets.status",
    "service.status",
    "service.restart",
    "process.top",
    "disk.cleanup",
    "logs.search",
    "logs.errors",
    "llm.status",
    "llm.scale",
    "llm.deploy",
    "llm.rollback",
    "llm.models",
    "llm.versions",
    "llm.compare",
    "llm.history",
    "llm.capacity",
    "llm.retire",
    "digest.send",
]


@pytest.fixture(scope="module")
def engine():
    return Engine(load_rules(), Config(inventory=Inventory(**INVENTORY)))


def pack(tmp_path, text, name="pack.yaml"):
    (tmp_path / name).write_text(textwrap.dedent(text))
    return tmp_path


def test_the_default_packs_cover_every_design_intent_with_examples():
    rules = load_rules()
    assert set(DEFAULT_INTENTS) <= set(rules.intents())
    for intent in DEFAULT_INTENTS:
        examples = [e for r in rules.by_intent[intent] for e in (r.examples.en, r.examples.zh)]
        assert len(examples[0]) >= 5 and len(examples[1]) >= 3, intent


def test_state_changing_defaults_need_approval():
    rules = load_rules()
    for intent in ("service.restart", "disk.cleanup", "llm.scale", "llm.deploy", "llm.rollback"):
        assert all(r.needs_approval for r in rules.by_intent[intent]), intent
    assert not any(r.needs_approval for r in rules.by_intent["metrics.cpu"])


def test_every_error_in_a_pack_is_reported_with_file_and_line(tmp_path):
    d = pack(
        tmp_path,
        """
        rules:
          - intent: x.one
            summary: one
            action: {executor: teleport}
          - intent: x.two
            summary: two
            params:
              n: {type: integer}
            when:
              m: {equals: a}
            action: {executor: ssh, command: "echo {{ n }"}
    """,
    )
    with pytest.raises(SourceError) as e:
        load_rules([d], defaults=False)
    msg = str(e.value)
    assert "pack.yaml:5" in msg and "unknown executor 'teleport'" in msg
    assert "pack.yaml:6" in msg and "`when` tests param 'm'" in msg


def test_a_template_syntax_error_is_located(tmp_path):
    d = pack(
        tmp_path,
        """
        rules:
          - intent: x.one
            summary: one
            params: {n: {type: integer}}
            action:
              executor: ssh
              command: "echo {{ n }"
    """,
    )
    with pytest.raises(SourceError) as e:
        load_rules([d], defaults=False)
    assert "pack.yaml:8: rules.0.action.command: template syntax error" in str(e.value)


def test_two_rules_that_could_match_the_same_task_are_rejected_at_load(tmp_path):
    d = pack(
        tmp_path,
        """
        rules:
          - intent: x.restart
            summary: a
            params: {host: {type: host}}
            when: {host: {group: db}}
            action: {executor: ssh, command: "true"}
          - intent: x.restart
            summary: b
            params: {host: {type: host}}
            when: {host: {group: web}}
            action: {executor: ssh, command: "true"}
    """,
    )
    with pytest.raises(SourceError) as e:
        load_rules([d], defaults=False)
    assert "pack.yaml:8" in str(e.value) and "ambiguous" in str(e.value) and "pack.yaml:3" in str(e.value)


def test_two_fallback_rules_for_one_intent_are_ambiguous(tmp_path):
    d = pack(
        tmp_path,
        """
        rules:
          - {intent: x.a, summary: a, action: {executor: bot, kind: help}}
          - {intent: x.a, summary: b, action: {executor: bot, kind: help}}
    """,
    )
    with pytest.raises(SourceError, match="ambiguous"):
        load_rules([d], defaults=False)


def test_rules_excluding_each_other_load(tmp_path):
    d = pack(
        tmp_path,
        """
        rules:
          - intent: x.a
            summary: a
            params: {service: {type: service}}
            when: {service: {in: [nginx, api]}}
            action: {executor: bot, kind: help}
          - intent: x.a
            summary: b
            params: {service: {type: service}}
            when: {service: {equals: postgresql}}
            action: {executor: bot, kind: help}
    """,
    )
    assert len(load_rules([d], defaults=False).rules) == 2


def test_when_chooses_the_stricter_rule_for_database_hosts(engine):
    web = engine.plan(Task(intent="service.restart", params={"service": "nginx", "host": "web-1"}))
    db = engine.plan(Task(intent="service.restart", params={"service": "postgresql", "host": "db-1"}))
    assert web.rule.id == "service.restart" and db.rule.id == "service.restart.db"
    assert db.rule.policy.approval.roles == ["dba"]


def test_a_group_fans_out_to_its_hosts(engine):
    plan = engine.plan(Task(intent="service.restart", params={"service": "nginx", "host": "web"}))
    assert [t.name for t in plan.action.targets] == ["web-1", "web-2"]


@pytest.mark.parametrize(
    "value",
    [
        "nginx; rm -rf /",
        "nginx && reboot",
        "$(reboot)",
        "`id`",
        "{{ 7*7 }}",
        "{% for x in ().__class__.__base__.__subclasses__() %}{% endfor %}",
    ],
)
def test_injection_in_an_inventory_param_is_rejected_by_validation(engine, value):
    with pytest.raises(BindError):
        engine.plan(Task(intent="service.restart", params={"service": value, "host": "web-1"}))
    with pytest.raises(BindError):
        engine.plan(Task(intent="process.top", params={"host": value}))


def test_free_text_reaches_a_shell_command_only_quoted_and_templates_in_values_stay_inert(tmp_path):
    d = pack(
        tmp_path,
        """
        rules:
          - intent: x.echo
            summary: echo
            params: {text: {type: text, required: true}}
            action: {executor: ssh, command: "echo {{ text }}; echo again {{ text | q }}"}
    """,
    )
    eng = Engine(load_rules([d], defaults=False), Config(inventory=Inventory(**INVENTORY)))
    cmd = eng.plan(Task(intent="x.echo", params={"text": "a'; rm -rf / #{{ 7*7 }}"})).action.fields["command"]
    assert shlex.split(cmd) == ["sh", "-c", 'echo "$1"; echo again "$1"', "opsbot", "a'; rm -rf / #{{ 7*7 }}"]


def test_the_sandbox_refuses_unsafe_template_code(tmp_path):
    d = pack(
        tmp_path,
        """
        rules:
          - intent: x.evil
            summary: evil
            action: {executor: ssh, command: "{{ ''.__class__.__mro__[1].__subclasses__() }}"}
    """,
    )
    with pytest.raises(SourceError) as e:  # refused when the pack loads, not at first use
        load_rules([d], defaults=False)
    assert "pack.yaml:5: rules.0.action.command: the template reaches for '__" in str(e.value)
    with pytest.raises(SecurityError):  # and the sandbox still refuses it if it got past the loader
        render("{{ ''.__class__.__mro__[1].__subclasses__() }}", {}, shell=True)


def test_an_undefined_template_variable_is_a_load_error_not_an_empty_string(tmp_path):
    d = pack(
        tmp_path,
        """
        rules:
          - intent: x.typo
            summary: typo
            params: {service: {type: service}}
            action: {executor: ssh, command: "systemctl restart {{ servcie }}"}
    """,
    )
    with pytest.raises(SourceError) as e:
        load_rules([d], defaults=False)
    assert "pack.yaml:6" in str(e.value) and "uses servcie, which this rule does not define" in str(e.value)


def test_missing_required_params_are_reported(engine):
    with pytest.raises(MissingParams) as e:
        engine.plan(Task(intent="service.restart", params={"service": "nginx"}))
    assert e.value.names == ["host"]


def test_unknown_host_gets_a_clear_sentence_with_a_suggestion(engine):
    with pytest.raises(BindError) as e:
        engine.plan(Task(intent="metrics.cpu", params={"host": "wbe-1"}))
    assert "wbe-1" in str(e.value) and "Did you mean web-1?" in str(e.value)


def test_a_service_not_on_the_host_is_refused(engine):
    with pytest.raises(BindError, match="postgresql does not run on web-1"):
        engine.plan(Task(intent="service.restart", params={"service": "postgresql", "host": "web-1"}))


def test_values_are_normalised(engine):
    plan = engine.plan(Task(intent="metrics.cpu", params={"host": "WEB-1", "window": "90m"}))
    assert plan.bound.values == {"host": "web-1", "window": "90m"}
    assert plan.action.params["window_seconds"] == 5400
    plan = engine.plan(Task(intent="alerts.list", params={"severity": "严重"}))
    assert plan.bound.values["severity"] == "critical"
    plan = engine.plan(Task(intent="llm.scale", params={"deployment": "llama-chat", "replicas": "3"}))
    assert plan.bound.values["replicas"] == 3 and [t.name for t in plan.action.targets] == ["gpu-1"]


@pytest.mark.parametrize(
    "params,fragment",
    [
        ({"deployment": "llama-chat", "replicas": 99}, "between 0 and 32"),
        ({"deployment": "llama-chat", "replicas": "lots"}, "whole number"),
    ],
)
def test_integer_ranges_are_enforced(engine, params, fragment):
    with pytest.raises(BindError, match=fragment):
        engine.plan(Task(intent="llm.scale", params=params))


def test_label_values_are_escaped_in_promql(engine):
    plan = engine.plan(Task(intent="metrics.cpu", params={"host": "web-1"}))
    assert 'host=~"web-1"' in plan.action.fields["query"]


def test_rules_check_cli_reports_problems_with_exit_code(tmp_path, capsys):
    from opsbot.cli import main

    d = pack(tmp_path, "rules:\n  - intent: Bad Intent\n    summary: x\n    action: {executor: bot}\n")
    assert main(["rules", "check", str(d)]) == 2
    assert "pack.yaml:2" in capsys.readouterr().err
    assert main(["rules", "check"]) == 0


def test_action_fields_are_checked_against_their_executor_when_the_pack_loads(tmp_path):
    d = pack(
        tmp_path,
        """
        rules:
          - intent: x.one
            summary: one
            action:
              executor: ssh
              comand: uptime
          - intent: x.two
            summary: two
            action:
              executor: prometheus
              kind: graph
          - intent: x.three
            summary: three
            action: {executor: ssh, command: "true", timeout: soon}
    """,
    )
    with pytest.raises(SourceError) as e:
        load_rules([d], defaults=False)
    msg = str(e.value)
    assert "pack.yaml:7: rules.0.action.comand: the ssh executor has no such field; it takes command" in msg
    assert "pack.yaml:5: rules.0.action.command: required field is missing" in msg
    assert "pack.yaml:12: rules.1.action.kind:" in msg and "'range'" in msg
    assert "pack.yaml:15: rules.2.action.timeout:" in msg and "'soon' is not a duration" in msg


STRICT_AND_FALLBACK = """
    rules:
      - intent: x.restart
        id: x.restart.db
        summary: restart on a database host, needs a dba
        params:
          host: {type: host, required: true}
          service: {type: enum, values: [postgresql], required: true}
        when: {host: {group: db}}
        policy: {roles: [dba]}
        action: {executor: ssh, command: "true"}
      - intent: x.restart
        summary: restart anywhere else
        params:
          host: {type: host, required: true}
          service: {type: text, required: true}
        when: {host: {not_group: db}}
        action: {executor: ssh, command: "true"}
      - intent: x.restart
        id: x.restart.any
        summary: the fallback
        params:
          host: {type: host, required: true}
          service: {type: text, required: true}
        action: {executor: ssh, command: "true"}
"""


def test_a_conditional_rule_that_cannot_bind_the_task_leaves_it_to_the_fallback(tmp_path):
    engine = Engine(
        load_rules([pack(tmp_path, STRICT_AND_FALLBACK)], defaults=False), Config(inventory=Inventory(**INVENTORY))
    )
    plan = engine.plan(Task(intent="x.restart", params={"host": "db-1", "service": "redis"}))
    assert plan.rule.id == "x.restart.any"  # redis is not an allowed value of the stricter rule
    plan = engine.plan(Task(intent="x.restart", params={"host": "db-1", "service": "postgresql"}))
    assert plan.rule.id == "x.restart.db"


def test_a_bug_while_binding_a_stricter_rule_never_falls_through_to_a_more_permissive_one(tmp_path, monkeypatch):
    from opsbot.rules import engine as engine_module

    engine = Engine(
        load_rules([pack(tmp_path, STRICT_AND_FALLBACK)], defaults=False), Config(inventory=Inventory(**INVENTORY))
    )
    real_bind = engine_module.bind

    def buggy_bind(rule, params, config):
        if rule.id == "x.restart.db":
            raise KeyError("a bug in binding")
        return real_bind(rule, params, config)

    monkeypatch.setattr(engine_module, "bind", buggy_bind)
    with pytest.raises(KeyError):
        engine.plan(Task(intent="x.restart", params={"host": "db-1", "service": "postgresql"}))
