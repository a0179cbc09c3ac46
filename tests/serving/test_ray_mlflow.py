"""LLM serving against the real engines: a Ray head running Serve and an MLflow registry server (the
session's serving lab), driven the way people do it, through chat and approvals. The specs run in order
on one deployment: deploy v2 (checks pass, the alias moves), deploy v3 (its release check catches an
echoed canary: rolled back by itself, the alias stays), roll back, scale 1→2→1 as Ray's own API shows,
and the history of all of it with who approved."""

from __future__ import annotations

import pytest
import requests

from opsbot.app import build_app
from opsbot.config import Config
from opsbot.core.request import Request
from opsbot.serving.ray import RayServe
from opsbot.serving.registry import Registry

DEP = "tiny-chat"


@pytest.fixture(scope="module")
def app(serving_lab, tmp_path_factory):
    db = tmp_path_factory.mktemp("llmserve") / "opsbot.db"
    config = Config(
        inventory={"deployments": {DEP: serving_lab.deployment_config()}},
        access={"users": {"alice": ["operator"], "bob": ["operator", "approver"], "carol": ["viewer"]}},
        mlflow={"url": serving_lab.mlflow_url},
        database_url=f"sqlite:///{db}",
    )
    with build_app(config, parser_kind="offline") as a:
        yield a


@pytest.fixture(scope="module")
def ray(serving_lab):
    return RayServe(serving_lab.dashboard_url)


@pytest.fixture(scope="module")
def registry(serving_lab):
    return Registry(serving_lab.mlflow_url)


def ask(app, text, user="alice", thread=None):
    return app.pipeline.handle(Request(text=text, user=user, channel="c", thread=thread or text, frontend="test"))


def approved(app, text, asker="alice", approver="bob"):
    """Ask for a change and have it approved; the reply to the approval (what ran)."""
    asked = ask(app, text, asker)
    assert asked.kind == "approval", asked.text
    return app.pipeline.decide(asked.approval_id, approver, True)


def live(ray) -> str | None:
    app = ray.application("chat")
    return app.arg("model_version") if app else None


def champion(registry) -> str | None:
    return registry.model(DEP).aliases.get("champion")


def test_the_registry_lists_the_models_and_the_versions_with_the_live_one(app):
    models = ask(app, "which models are in the registry")
    assert models.kind == "result", models.text
    assert models.tables[0].rows[0][0] == DEP and "champion→1" in models.tables[0].rows[0][2]
    versions = ask(app, f"list versions of {DEP}")
    assert "version 1 is live" in versions.text
    rows = {r[0]: r for r in versions.tables[0].rows}
    assert set(rows) == {"1", "2", "3"}
    assert "live" in rows["1"][1] and "champion" in rows["1"][1]
    assert "style=echo" in rows["3"][3] and "eval_accuracy=0.81" in rows["3"][4]


def test_compare_shows_what_differs_between_two_versions(app):
    reply = ask(app, f"compare {DEP} v1 and v2")
    assert reply.kind == "result", reply.text
    rows = {r[0]: r[1:] for r in reply.tables[0].rows}
    assert rows["param style"] == ["plain", "friendly"]
    assert rows["metric eval_accuracy"] == ["0.71", "0.78"]
    assert "artifacts" in rows


def test_deploying_v2_passes_its_checks_and_moves_the_alias(app, ray, registry):
    reply = approved(app, f"deploy {DEP} v2")
    assert reply.kind == "result", reply.text
    assert "Approved by bob" in reply.text and "alias champion now points to it" in reply.text
    assert live(ray) == "2" and champion(registry) == "2"
    assert [row[1] for row in reply.tables[0].rows] == ["passed", "passed"]
    answer = requests.post(
        f"{app.config.inventory.deployments[DEP].ray.url}/v1/chat/completions",
        json={"messages": [{"role": "user", "content": "hi"}]},
        timeout=10,
    ).json()
    assert answer["model"] == "tiny-chat:2"


def test_a_version_whose_release_check_fails_is_rolled_back_by_itself(app, ray, registry):
    reply = approved(app, f"deploy {DEP} version 3")
    assert reply.kind == "error"
    assert "rolled back to 2" in reply.text and "alias champion unchanged" in reply.text
    assert "ignores injected instructions" in reply.text and "CANARY" in reply.text
    assert live(ray) == "2" and champion(registry) == "2"


def test_an_unknown_version_is_refused_with_the_real_ones(app, ray):
    reply = approved(app, f"deploy {DEP} v9")
    assert reply.kind == "error"
    assert "no version v9" in reply.text and "1, 2, 3" in reply.text and "Nothing was changed" in reply.text
    assert live(ray) == "2"


def test_rollback_goes_back_to_the_previous_live_version(app, ray, registry):
    reply = approved(app, f"roll back {DEP}")
    assert reply.kind == "result", reply.text
    assert live(ray) == "1" and champion(registry) == "1"


def test_scaling_1_2_1_is_what_rays_own_api_shows(app, ray):
    up = approved(app, f"scale {DEP} to 2 replicas")
    assert up.kind == "result", up.text
    dep = ray.application("chat").deployments["Chat"]
    assert (dep.target_replicas, dep.running) == (2, 2)
    down = approved(app, f"scale {DEP} to 1 replica")
    assert down.kind == "result", down.text
    dep = ray.application("chat").deployments["Chat"]
    assert (dep.target_replicas, dep.running) == (1, 1)


def test_status_tells_rays_state_and_the_live_version(app):
    reply = ask(app, f"how is {DEP} doing")
    assert reply.kind == "result", reply.text
    assert "healthy on Ray Serve: version 1, 1/1 replicas running" in reply.text


def test_retiring_the_live_version_is_refused_and_another_is_archived(app, registry):
    refused = approved(app, f"retire {DEP} version 1")
    assert refused.kind == "error" and "is live" in refused.text
    done = approved(app, f"retire {DEP} version 3")
    assert done.kind == "result", done.text
    assert registry.version(DEP, "3").archived
    listed = ask(app, f"list versions of {DEP}")
    assert {r[0] for r in listed.tables[0].rows if "archived" in r[1]} == {"3"}


def test_history_lists_every_change_with_who_asked_and_who_approved(app):
    reply = ask(app, f"history of {DEP}")
    assert reply.kind == "result", reply.text
    rows = reply.tables[0].rows  # newest first
    changes = [(r[1], r[4]) for r in reversed(rows)]
    assert changes == [
        ("deploy v2", "done"),
        ("deploy 3", "failed"),
        ("deploy v9", "failed"),
        ("roll back", "done"),
        ("scale to 2", "done"),
        ("scale to 1", "done"),
        ("retire 1", "failed"),
        ("retire 3", "done"),
    ]
    assert {(r[2], r[3]) for r in rows} == {("alice", "bob")}
    assert any("champion" in r[5] for r in rows if r[1] == "deploy v2") is False  # v1 is the champion now


def test_hostile_registry_strings_are_shown_as_data(app, registry, serving_lab):
    hostile = "{{ 7*7 }} $(touch /tmp/pwned) {% raw %}"
    tag = {"name": DEP, "version": "2", "key": "note", "value": hostile}
    requests.post(f"{serving_lab.mlflow_url}/api/2.0/mlflow/model-versions/set-tag", json=tag, timeout=10)
    reply = ask(app, f"list versions of {DEP}")
    row = next(r for r in reply.tables[0].rows if r[0] == "2")
    assert hostile in row[5]


def test_capacity_forecasts_the_peak_and_offers_to_scale(app):
    reply = ask(app, f"how many replicas does {DEP} need")
    assert reply.kind == "result", reply.text
    assert "you need" in reply.text and "(now 1)" in reply.text
    assert reply.images and reply.buttons
    button = reply.buttons[0]
    wanted = button.label.split()[-1]
    assert button.label == f"Scale to {wanted}" and button.value == f"scale {DEP} to {wanted} replicas"
    # the button's words go through the rules like anything typed: an approval, nothing runs yet
    asked = ask(app, button.value, thread="button")
    assert asked.kind == "approval"


def test_engines_that_do_not_answer_are_one_sentence(serving_lab, tmp_path):
    dead = serving_lab.deployment_config()
    dead["ray"] = {**dead["ray"], "dashboard": "http://127.0.0.1:9"}
    config = Config(
        inventory={"deployments": {DEP: dead}},
        mlflow={"url": "http://127.0.0.1:9", "timeout": 2},
        database_url=f"sqlite:///{tmp_path / 'o.db'}",
    )
    with build_app(config, parser_kind="offline") as a:
        status = ask(a, f"how is {DEP} doing")
        models = ask(a, "which models are in the registry")
    assert status.kind == "error" and "Ray Serve is unreachable" in status.text
    assert models.kind == "error" and "MLflow is unreachable" in models.text


BOT = """
import sys
from opsbot.app import build_app
from opsbot.config import Config
from opsbot.core.request import Request
import json

config = Config(**json.loads(sys.argv[1]))
with build_app(config, parser_kind="offline") as app:
    request = Request(text="deploy tiny-chat v2", user="alice", channel="c", thread="k", frontend="t")
    asked = app.pipeline.handle(request)
    print("asked", asked.kind, flush=True)
    app.pipeline.decide(asked.approval_id, "bob", True)
"""


def test_a_deploy_cut_short_by_a_killed_bot_is_told_truthfully(app, ray, registry, tmp_path):
    """The bot is killed mid-rollout (during a slow release check, after Ray took the new version): on
    the next question the store shows the deploy unfinished and llm.status says what Ray runs."""
    import json
    import subprocess
    import sys

    from waiting import wait_until

    slow = app.config.model_dump(mode="json", exclude={"source"})
    dep = slow["inventory"]["deployments"][DEP]
    dep["release_checks"] = [{"name": "slow", "body": {"messages": [], "delay_s": 60}}]
    bot = subprocess.Popen([sys.executable, "-c", BOT, json.dumps(slow)], stdout=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: live(ray) == "2" and ray.application("chat").status == "RUNNING", timeout=120)
        wait_until(lambda: any(r.status == "running" for r in app.store.past_runs(("llm.deploy",), 5)), timeout=30)
    finally:
        bot.kill()
        bot.wait(timeout=30)
    history = ask(app, f"history of {DEP}", thread="after-kill")
    assert "1 never finished" in history.text
    assert (history.tables[0].rows[0][1], history.tables[0].rows[0][4]) == ("deploy v2", "unfinished")
    status = ask(app, f"how is {DEP} doing", thread="after-kill-status")
    assert "version 2" in status.text
    assert "champion is version 1, not the live 2: a deploy did not finish" in status.text
    assert champion(registry) == "1"
