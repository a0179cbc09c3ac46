"""An alert's diagnosis: the read-only intents its rule names run at once, each answer in the alert
message's thread with 👍/👎, stored like any request; labels that are hostile or name nothing in the
inventory never reach a command."""

from __future__ import annotations

import pytest
from incident_helpers import ALERTS
from waiting import wait_until

from opsbot.testing.alert_payloads import alert, notification

pytestmark = pytest.mark.servers


def thread_replies(ib, ts: str) -> list:
    return [c for c in ib.api.calls("chat.postMessage") if c.params.get("thread_ts") == ts]


def target_down(**labels) -> dict:
    base = {"alertname": "TargetDown", "severity": "critical", "job": "nginx", "host": "web-1", "service": "nginx"}
    return notification([alert({**base, **labels})])


def test_a_target_down_alert_is_diagnosed_in_its_thread(ib):
    ib.send(target_down())
    ib.settle()
    [post] = ib.alert_posts()
    ts = post.response["ts"]
    replies = wait_until(lambda: len(thread_replies(ib, ts)) >= 3 and thread_replies(ib, ts), what="3 answers")
    texts = " ".join(str(r.params.get("text")) for r in replies)
    assert "nginx" in texts and "web-1" in texts
    assert all("vote_up" in str(r.params.get("blocks")) for r in replies)
    export = list(ib.store.export_feedback())
    runs = {e["task"]["intent"]: e for e in export if "alert" in e}
    assert set(runs) == {"service.status", "logs.errors", "metrics.cpu"}
    assert runs["service.status"]["task"]["params"] == {"service": "nginx", "host": "web-1"}
    assert runs["service.status"]["alert"]["alertname"] == "TargetDown"
    # the suggested restart is a button, not a run
    assert "service.restart nginx web-1" in str(post.params["blocks"])
    assert ib.bot.executions("alertmanager", "service.restart") == 0


@pytest.mark.parametrize(
    "labels",
    [
        {"host": "web-1; rm -rf /tmp/x", "service": "nginx"},
        {"host": "web-1", "service": "nginx$(touch /tmp/pwned)"},
        {"host": "evil-9", "service": "nginx"},
        {"host": "web-1", "service": "n" * 10_000},
        {"host": "web-1", "service": "`reboot`", "instance": "web-2:9100"},
    ],
)
def test_hostile_or_unknown_labels_reach_no_command(ib, labels):
    ib.send(target_down(**labels))
    ib.settle()
    [post] = ib.alert_posts()
    ts = post.response["ts"]
    wait_until(lambda: thread_replies(ib, ts), what="a word in the thread")
    for rule in ("service.status", "logs.errors"):
        assert ib.bot.executions("alertmanager", rule) == 0
    said = " ".join(str(r.params.get("text")) for r in thread_replies(ib, ts))
    assert "Nothing was run" in said or "Not run for this alert" in said
    assert len(str(post.params["blocks"])) < 6000  # a 10 KB label is not pasted into Slack whole


def test_an_alert_no_rule_knows_is_posted_without_a_diagnosis(ib):
    ib.send(notification([alert({"alertname": "SomethingElse", "host": "web-1"})]))
    ib.settle()
    [post] = ib.alert_posts()
    assert post.params["channel"] == ALERTS
    assert thread_replies(ib, post.response["ts"]) == []


def test_a_suggestion_button_asks_for_approval_like_a_typed_restart(ib):
    ib.send(target_down())
    ib.settle()
    [post] = ib.alert_posts()
    ts = post.response["ts"]
    ib.bot.click(ib.bot.message(post), "alert_suggest", user="UALICE", channel=ALERTS)
    ib.settle()
    asks = wait_until(
        lambda: [r for r in thread_replies(ib, ts) if "approve" in str(r.params.get("blocks"))], what="approval"
    )
    assert "alice asks" in asks[0].params["text"] and "nginx" in asks[0].params["text"]
    assert ib.bot.executions("alice", "service.restart") == 0
    # carol is a viewer: the same button is refused by the policy, nothing asked or run
    ib.bot.click(ib.bot.message(post), "alert_suggest", user="UCAROL", channel=ALERTS)
    ib.settle()
    assert ib.bot.executions("carol", "service.restart") == 0
