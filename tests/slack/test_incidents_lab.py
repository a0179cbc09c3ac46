"""End to end against the lab's real Prometheus and Alertmanager: a demo service stopped on purpose makes
TargetDown fire; Alertmanager's webhook reaches `opsbot serve` (Socket Mode, its HTTP port), the fake
Slack Web API gets one message with the diagnosis in its thread, and starting the service again marks
the message resolved."""

from __future__ import annotations

import pytest
import yaml
from slack_helpers import USERS
from waiting import wait_until

from opsbot.app import build_app
from opsbot.config import load_config
from opsbot.frontends.slack import SlackService
from opsbot.testing import component_missing
from opsbot.testing import fake_slack as fs

CHANNEL = "C0LABALERTS"
_NO = type("NoGroup", (), {"acked_by": None})()
HOST, SERVICE = "web-2", "api"


@pytest.fixture
def lab_bot(lab, tmp_path):
    if lab.alertmanager is None:
        component_missing("the lab has no Alertmanager: apt-get install prometheus-alertmanager (make test does)")
    data = lab.config_data()
    data["slack"] = {
        "bot_token": fs.BOT_TOKEN,
        "app_token": fs.APP_TOKEN,
        "port": lab.bot_port,
        "users": USERS,
    }
    data["alertmanager"]["channel"] = CHANNEL
    data["database_url"] = f"sqlite:///{tmp_path / 'bot.db'}"
    data["parser"] = {"default": "offline"}
    path = tmp_path / "opsbot.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    sock = fs.FakeSocketMode().start()
    api = fs.FakeSlackWebAPI(socket_mode=sock).start()
    data["slack"]["base_url"] = api.base_url
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    app = build_app(load_config(path))
    service = SlackService(app, workers=4)
    service.connect_socket_mode()
    sock.wait_connected()
    service.start_side_http("127.0.0.1", lab.bot_port)
    yield app, service, api, sock
    sock.stop()
    service.close()
    app.close()
    api.stop()


def about(call: fs.Call, *words: str) -> bool:
    return all(w in str(call.params.get("blocks")) + str(call.params.get("text")) for w in words)


def test_a_lab_alert_is_posted_once_diagnosed_and_resolved(lab, lab_bot):
    app, _service, api, sock = lab_bot
    try:
        lab.stop_service(HOST, SERVICE)
        posts = wait_until(
            lambda: [
                c
                for c in api.calls("chat.postMessage")
                if c.params.get("channel") == CHANNEL and not c.params.get("thread_ts") and about(c, "TargetDown", HOST)
            ],
            timeout=120,
            what="the TargetDown message",
        )
        ts = posts[0].response["ts"]
        thread = wait_until(
            lambda: (
                (r := [c for c in api.calls("chat.postMessage") if c.params.get("thread_ts") == ts])
                and len(r) >= 3
                and r
            ),
            timeout=120,
            what="the diagnosis in the thread",
        )
        said = " ".join(str(c.params.get("text")) for c in thread)
        assert SERVICE in said and HOST in said
        assert wait_until(lambda: api.calls("files.completeUploadExternal"), what="a chart in the thread")
        # "I'm on it" in the thread: recorded, and alerts.list says who took it
        sock.send_event(fs.event_callback(fs.app_mention("I'm on it", user="UALICE", channel=CHANNEL, thread_ts=ts)))
        wait_until(lambda: (app.store.alert_group_at(CHANNEL, ts) or _NO).acked_by == "alice", what="the ack")
        sock.send_event(fs.event_callback(fs.app_mention("what alerts are firing?", user="UBOB", channel=CHANNEL)))
        wait_until(
            lambda: [c for c in api.calls("chat.postMessage") if "alice is on it" in str(c.params.get("blocks"))],
            what="alerts.list naming who is on it",
        )
    finally:
        lab.start_service(HOST, SERVICE)
    wait_until(
        lambda: [c for c in api.calls("chat.update") if c.params.get("ts") == ts and "resolved" in c.params["text"]],
        timeout=120,
        what="the message marked resolved",
    )
    tops = [
        c
        for c in api.calls("chat.postMessage")
        if c.params.get("channel") == CHANNEL and not c.params.get("thread_ts") and about(c, "TargetDown", HOST)
    ]
    assert len(tops) == 1  # Alertmanager's updates and repeats did not post it again
