"""POST /alertmanager on `opsbot serve`'s HTTP port (Socket Mode here): token, bad bodies, and one Slack
message per alert group whatever Alertmanager re-sends, and to however many replicas."""

from __future__ import annotations

import threading

import pytest
from incident_helpers import ALERTS, TOKEN
from waiting import wait_until

from opsbot.testing.alert_payloads import alert, notification

pytestmark = pytest.mark.servers


def disk_group(*hosts: str, status: str = "firing") -> dict:
    return notification(
        [
            alert(
                {"alertname": "DiskAlmostFull", "severity": "warning", "host": h},
                status=status,
                annotations={"summary": f"/ on {h} is 95% full"},
            )
            for h in hosts
        ]
    )


def groups_in_store(ib) -> int:
    return len(ib.store.recent_alert_groups(limit=1000))


def test_a_wrong_or_missing_token_is_401_and_nothing_is_kept(ib, caplog):
    assert ib.send(disk_group("web-1"), token="not-it")[0] == 401
    status, body = ib.send(disk_group("web-1"), token=None)
    assert status == 401 and "token" in body
    ib.settle()
    assert groups_in_store(ib) == 0 and ib.alert_posts() == []
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'{"version": "3", "alerts": []}', b'{"version": "4", "groupKey": "x", "alerts": []}'],
)
def test_a_malformed_body_is_400_with_one_sentence(ib, body, caplog):
    status, text = ib.send(body)
    assert status == 400
    assert text.count(". ") == 0 and text.endswith(".") and len(text) < 200
    ib.settle()
    assert groups_in_store(ib) == 0 and ib.alert_posts() == []
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_a_group_resent_three_times_is_posted_once(ib):
    for _ in range(3):
        assert ib.send(disk_group("web-1")) == (200, '{"ok":true}')
    ib.settle()
    posts = ib.alert_posts()
    assert len(posts) == 1
    assert "DiskAlmostFull" in posts[0].params["text"]
    assert ib.api.calls("chat.update") == []


def test_the_same_notification_sent_to_two_replicas_at_once_is_posted_once(ib):
    other = ib.replica()
    payload = disk_group("web-1", "web-2")
    answers: list = []
    threads = [threading.Thread(target=lambda p=p: answers.append(ib.send(payload, port=p))) for p in (ib.port, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a[0] for a in answers] == [200, 200]
    ib.settle()
    assert len(ib.alert_posts()) == 1
    assert groups_in_store(ib) == 1


def test_an_alert_joining_updates_the_message_and_resolving_marks_it_resolved(ib):
    ib.send(disk_group("web-1"))
    ib.settle()
    [post] = ib.alert_posts()
    ts = post.response["ts"]
    ib.send(disk_group("web-1", "web-2"))
    ib.settle()
    updates = wait_until(lambda: ib.api.calls("chat.update"), what="the message updated")
    assert updates[-1].params["ts"] == ts and "web-2" in str(updates[-1].params["blocks"])
    ib.send(disk_group("web-1", "web-2", status="resolved"))
    ib.settle()
    last = ib.api.calls("chat.update")[-1]
    assert last.params["ts"] == ts and "resolved" in last.params["text"]
    assert "alert_silence" not in str(last.params["blocks"])  # no buttons on a resolved group
    assert len(ib.alert_posts()) == 1
    group = ib.store.recent_alert_groups()[0]
    assert group.status == "resolved" and group.resolved_at is not None


def test_the_message_has_silence_and_ack_buttons(ib):
    ib.send(disk_group("web-1"))
    ib.settle()
    [post] = ib.alert_posts()
    actions = [e["action_id"] for b in post.params["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert any(a.startswith("alert_silence") for a in actions) and any(a.startswith("alert_ack") for a in actions)
    assert post.params["channel"] == ALERTS and TOKEN not in str(post.params)
