"""Alert groups in the store: a group is claimed once across replicas, updated, acknowledged, counted
for storms; the runs an alert started are exported with its labels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

NOW = datetime(2030, 1, 1, 12, tzinfo=UTC)
ALERTS = {"fp1": {"status": "firing", "labels": {"alertname": "TargetDown", "host": "web-1"}}}


def claim(store, key: str = "k1", when: datetime = NOW) -> bool:
    return store.claim_alert_group(
        key,
        group_key='{}:{alertname="TargetDown"}',
        name="TargetDown",
        status="firing",
        labels={"alertname": "TargetDown"},
        alerts=ALERTS,
        channel="C0ALERTS",
        now=when,
    )


def test_a_group_is_claimed_once(store):
    assert claim(store) is True
    assert claim(store) is False
    group = store.alert_group("k1")
    assert group.status == "firing" and group.alerts == ALERTS and group.ts is None


def test_two_replicas_claiming_at_once_get_one_claim(open_store, race):
    first, second = open_store(), open_store()
    results = race(lambda: claim(first), lambda: claim(second))
    assert sorted(results) == [False, True]


def test_updates_acks_and_the_message_are_kept(store):
    claim(store)
    store.set_alert_message("k1", "C0ALERTS", "123.456")
    resolved = {"fp1": {**ALERTS["fp1"], "status": "resolved"}}
    group = store.update_alert_group("k1", status="resolved", alerts=resolved, now=NOW + timedelta(minutes=5))
    assert group.status == "resolved" and group.resolved_at - group.first_at == timedelta(minutes=5)
    assert store.ack_alert_group("k1", "alice", NOW) and not store.ack_alert_group("nope", "alice", NOW)
    assert store.alert_group_at("C0ALERTS", "123.456").acked_by == "alice"


def test_new_groups_are_counted_and_storms_claimed_once(store):
    for i in range(3):
        claim(store, f"k{i}", NOW + timedelta(seconds=i))
    assert store.count_alert_groups_since(NOW + timedelta(seconds=1)) == 2
    assert store.claim_alert_storm("storm:a", "C0ALERTS", NOW) and not store.claim_alert_storm("storm:a", "C", NOW)
    store.set_alert_storm("k1", "storm:a")
    store.set_alert_storm("k2", "storm:a")
    assert store.alert_storm_counts("storm:a") == {"TargetDown": {"firing": 2, "resolved": 0}}
    assert store.open_alert_storm(NOW - timedelta(minutes=1)) == "storm:a"
    assert store.open_alert_storm(NOW + timedelta(minutes=1)) is None


def test_feedback_export_carries_the_alert_labels_and_teaches_no_examples(store, new_request):
    from opsbot.core.task import Task

    req = new_request("[TargetDown] service.status service=nginx host=web-1", user="alertmanager")
    store.record_task(req.id, Task(intent="service.status", params={"host": "web-1"}, parser="alert"), 0.0)
    store.record_alert_run(req.id, "k1", {"alertname": "TargetDown", "host": "web-1"})
    store.add_feedback(req.id, "alice", vote=1)
    [item] = [i for i in store.export_feedback() if i["request_id"] == req.id]
    assert item["alert"] == {"alertname": "TargetDown", "host": "web-1"} and item["votes"]["up"] == 1
    assert all(e["request_id"] != req.id for e in store.confirmed_examples())
