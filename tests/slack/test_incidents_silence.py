"""Acting on alerts from chat against a real Alertmanager: a silence typed in the alert's thread (or the
Silence 1h button) appears in Alertmanager's own API and stops its re-notifications; longer silences
wait for a second person; silences are listed and ended; Ack is recorded and shown on the message."""

from __future__ import annotations

import collections

import pytest
from incident_helpers import ALERTS, TOKEN, start_incident_bot, stop_incident_bot
from waiting import wait_until

from opsbot.testing import component_missing

pytestmark = pytest.mark.servers

LABELS = {"alertname": "TargetDown", "severity": "critical", "job": "nginx", "host": "web-1", "service": "nginx"}
OTHER = {"alertname": "TargetDown", "severity": "critical", "job": "api", "host": "web-2", "service": "api"}


@pytest.fixture
def am_bot(tmp_path):
    from opsbot.lab.alertmanager import alertmanager_config, alertmanager_missing, start_alertmanager
    from opsbot.testing.serve import free_port

    if alertmanager_missing():
        component_missing("needs prometheus-alertmanager (Debian package; make test installs it)")
    port = free_port()
    config = alertmanager_config(
        f"http://127.0.0.1:{port}/alertmanager", TOKEN, alertnames=None, repeat_interval="3s", group_interval="1s"
    )
    am = start_alertmanager(tmp_path / "am", config)
    ib = start_incident_bot(tmp_path, alertmanager={"url": am.url}, bind_port=port)
    received: collections.Counter = collections.Counter()  # notifications per group, as they arrive
    desk = ib.bot.service.incidents
    receive = desk.receive

    def counting(notification) -> None:
        received[notification.common_labels.get("host")] += 1
        receive(notification)

    desk.receive = counting
    ib.received = received
    yield ib, am
    stop_incident_bot(ib)
    am.stop()


def fire(am, *label_sets: dict) -> None:
    am.post_alerts([{"labels": labels, "annotations": {"summary": "down"}} for labels in label_sets])


def alert_message(ib, host: str) -> dict:
    posts = wait_until(lambda: [c for c in ib.alert_posts() if host in str(c.params["blocks"])], what=f"{host}'s alert")
    return ib.bot.message(posts[0])


def thread_texts(ib, ts: str) -> str:
    return " ".join(
        str(c.params.get("text")) for c in ib.api.calls("chat.postMessage") if c.params.get("thread_ts") == ts
    )


def active_silences(am) -> list[dict]:
    return [s for s in am.api("/api/v2/silences") if s["status"]["state"] == "active"]


def test_a_silence_typed_in_the_thread_is_in_alertmanager_and_stops_renotification(am_bot):
    ib, am = am_bot
    fire(am, LABELS, OTHER)
    message = alert_message(ib, "web-1")
    alert_message(ib, "web-2")
    wait_until(lambda: ib.received["web-1"] >= 2, what="Alertmanager re-sending the group")
    ib.bot.mention("silence this for 2h", channel=ALERTS, thread_ts=message["ts"])
    [silence] = wait_until(lambda: active_silences(am), what="a silence in Alertmanager")
    assert {(m["name"], m["value"]) for m in silence["matchers"]} >= {("host", "web-1"), ("alertname", "TargetDown")}
    assert silence["createdBy"] == "alice" and "alice" in silence["comment"]
    wait_until(
        lambda: any(
            a["status"]["state"] == "suppressed" for a in am.api("/api/v2/alerts") if a["labels"]["host"] == "web-1"
        ),
        what="the alert suppressed",
    )
    seen = ib.received["web-1"]
    other = ib.received["web-2"]
    wait_until(lambda: ib.received["web-2"] >= other + 2, what="two more repeats of the unsilenced group")
    assert ib.received["web-1"] <= seen + 1  # at most one already on its way when the silence landed
    assert "Silenced" in wait_until(lambda: thread_texts(ib, message["ts"]), what="the answer")


def test_the_silence_button_silences_for_an_hour(am_bot):
    ib, am = am_bot
    fire(am, LABELS)
    message = alert_message(ib, "web-1")
    ib.bot.click(message, "alert_silence", user="UALICE", channel=ALERTS)
    [silence] = wait_until(lambda: active_silences(am), what="a silence")
    assert silence["createdBy"] == "alice"
    assert "until" in thread_texts(ib, message["ts"]) or wait_until(
        lambda: "Silenced" in thread_texts(ib, message["ts"])
    )


def test_a_silence_longer_than_4h_waits_for_a_second_person(am_bot):
    ib, am = am_bot
    fire(am, LABELS)
    message = alert_message(ib, "web-1")
    ib.bot.mention("silence this for 8h", channel=ALERTS, thread_ts=message["ts"])
    asked = wait_until(
        lambda: [
            c
            for c in ib.api.calls("chat.postMessage")
            if c.params.get("thread_ts") == message["ts"] and "approve" in str(c.params.get("blocks"))
        ],
        what="an approval request",
    )
    ib.bot.settle()
    assert active_silences(am) == []
    ib.bot.click(ib.bot.message(asked[0]), "approve", user="UBOB", channel=ALERTS)
    wait_until(lambda: active_silences(am), what="the approved silence")


def test_silences_are_listed_and_ended_from_chat(am_bot):
    ib, am = am_bot
    fire(am, LABELS)
    message = alert_message(ib, "web-1")
    ib.bot.mention("silence this for 1h", channel=ALERTS, thread_ts=message["ts"])
    [silence] = wait_until(lambda: active_silences(am), what="a silence")
    ib.bot.mention("list silences", channel=ALERTS)
    wait_until(lambda: silence["id"][:8] in str(ib.api.calls("chat.postMessage")), what="the list")
    ib.bot.mention("unsilence this", channel=ALERTS, thread_ts=message["ts"])
    wait_until(lambda: active_silences(am) == [], what="the silence ended")


def test_ack_is_recorded_and_shown_on_the_message(am_bot):
    ib, am = am_bot
    fire(am, LABELS)
    message = alert_message(ib, "web-1")
    ib.bot.click(message, "alert_ack", user="UALICE", channel=ALERTS)
    wait_until(
        lambda: [
            c
            for c in ib.api.calls("chat.update")
            if c.params["ts"] == message["ts"] and "alice is on it" in str(c.params)
        ],
        what="the message showing the ack",
    )
    [group] = ib.store.recent_alert_groups()
    assert group.acked_by == "alice"
    # carol is a viewer: ack is allowed to anyone (it only records), silence is not
    ib.bot.mention("silence this for 1h", user="UCAROL", channel=ALERTS, thread_ts=message["ts"])
    ib.bot.settle()
    assert active_silences(am) == []


def test_an_ack_typed_in_the_thread_shows_on_the_message(am_bot):
    ib, am = am_bot
    fire(am, LABELS)
    message = alert_message(ib, "web-1")
    ib.bot.mention("I'm on it", user="UBOB", channel=ALERTS, thread_ts=message["ts"])
    wait_until(
        lambda: [c for c in ib.api.calls("chat.update") if c.params["ts"] == message["ts"] and "bob is on" in str(c)],
        what="the message showing bob's ack",
    )
