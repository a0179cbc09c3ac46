"""Deployments name their engine (no servers): the config checks each engine's fields, the rules send a
Ray deployment's changes to the llmserve executor and an SSH one's to llmctl, and an engine that does not
answer is one sentence, quickly."""

from __future__ import annotations

import time

import pytest

from opsbot.config import Config
from opsbot.core.action import Action, ExecutionContext
from opsbot.core.task import Task
from opsbot.executors.llmserve.executor import LLMServeExecutor
from opsbot.rules.engine import Engine
from opsbot.rules.loader import load_rules
from opsbot.serving.checks import has_path

CLOSED = "http://127.0.0.1:9"
RAY = {"engine": "ray", "ray": {"dashboard": CLOSED, "app": "chat", "deployment": "Chat"}, "model": "tiny-chat"}


def config() -> Config:
    return Config(
        inventory={
            "hosts": {"gpu-1": {"address": "10.0.0.31", "services": ["vllm"]}},
            "deployments": {"llama-chat": {"host": "gpu-1", "service": "vllm"}, "tiny-chat": RAY},
        },
        mlflow={"url": CLOSED, "timeout": 2},
    )


def test_each_engine_needs_its_own_fields():
    with pytest.raises(ValueError, match="a ray deployment needs `ray`"):
        Config(inventory={"deployments": {"x": {"engine": "ray", "model": "m"}}})
    with pytest.raises(ValueError, match="an ssh deployment needs `host` and `service`"):
        Config(inventory={"deployments": {"x": {"engine": "ssh"}}})
    assert config().inventory.deployments["llama-chat"].engine == "ssh"  # the default keeps old configs working


@pytest.fixture(scope="module")
def rules():
    return load_rules()


@pytest.mark.parametrize(
    ("intent", "params"),
    [
        ("llm.scale", {"replicas": 2}),
        ("llm.deploy", {"version": "v2"}),
        ("llm.rollback", {}),
        ("llm.status", {}),
    ],
)
def test_the_rules_send_each_deployment_to_its_engine(rules, intent, params):
    engine = Engine(rules, config())
    ray = engine.plan(Task(intent=intent, params={"deployment": "tiny-chat", **params}))
    ssh = engine.plan(Task(intent=intent, params={"deployment": "llama-chat", **params}))
    assert ray.action.executor == "llmserve" and ray.action.targets == []
    assert ssh.action.executor in ("ssh", "prometheus")
    assert ray.needs_approval == ssh.needs_approval


def test_the_registry_intents_refuse_an_ssh_deployment_in_one_sentence():
    action = Action("llmserve", "llm.versions", "llm.versions", {"kind": "versions"}, {"deployment": "llama-chat"})
    reply = LLMServeExecutor(config()).run(action, ExecutionContext(config=config()))
    assert reply.kind == "error" and "served by llmctl over SSH" in reply.text


@pytest.mark.parametrize(
    ("kind", "intent", "engine"),
    [("status", "llm.status", "Ray Serve"), ("versions", "llm.versions", "MLflow"), ("models", "llm.models", "MLflow")],
)
def test_an_engine_that_does_not_answer_is_one_sentence(kind, intent, engine):
    action = Action("llmserve", intent, intent, {"kind": kind}, {"deployment": "tiny-chat"})
    started = time.monotonic()
    reply = LLMServeExecutor(config()).run(action, ExecutionContext(config=config()))
    assert time.monotonic() - started < 15
    assert reply.kind == "error" and f"{engine} is unreachable" in reply.text
    assert reply.text.count("\n") == 0


def test_release_check_json_paths():
    doc = {"choices": [{"message": {"content": "hi"}}], "empty": ""}
    assert has_path(doc, "choices.0.message.content")
    assert not has_path(doc, "choices.1.message")
    assert not has_path(doc, "empty")


def test_status_of_all_deployments_points_at_the_ray_ones_by_name(rules):
    from opsbot.executors.prometheus.executor import PrometheusExecutor

    only_ray = Config(inventory={"deployments": {"tiny-chat": RAY}}, prometheus={"url": CLOSED, "timeout": 2})
    plan = Engine(rules, only_ray).plan(Task(intent="llm.status", params={}))
    assert plan.action.executor == "prometheus"  # no deployment named: the vLLM overview
    reply = PrometheusExecutor(only_ray).run(plan.action, ExecutionContext(config=only_ray))
    assert reply.kind == "info" and "On Ray Serve: tiny-chat; ask for one by name" in reply.text


def test_capacity_without_prometheus_is_one_sentence():
    cfg = Config(inventory={"deployments": {"tiny-chat": {**RAY, "prometheus": CLOSED}}}, mlflow={"url": CLOSED})
    action = Action("llmserve", "llm.capacity", "llm.capacity", {"kind": "capacity"}, {"deployment": "tiny-chat"})
    reply = LLMServeExecutor(cfg).run(action, ExecutionContext(config=cfg))
    assert reply.kind == "error" and reply.text.startswith("I can't forecast tiny-chat: Prometheus at")
