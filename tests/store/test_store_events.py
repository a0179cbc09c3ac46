"""Slack retries are de-duplicated in the database, so a retry handled by any replica runs nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def test_an_event_key_is_new_only_the_first_time(store):
    assert store.mark_event_processed("T1:Ev1") is True
    assert store.mark_event_processed("T1:Ev1") is False
    assert store.mark_event_processed("T1:Ev2") is True
    assert store.mark_event_processed("T2:Ev1") is True


def test_two_replicas_seeing_the_same_retry_at_once_process_it_once(store, open_store, race):
    replica = open_store()
    for i in range(10):
        key = f"T1:Ev{i}"
        assert race(lambda: store.mark_event_processed(key), lambda: replica.mark_event_processed(key)).count(True) == 1


def test_old_keys_can_be_forgotten(store):
    store.mark_event_processed("T1:old")
    assert store.forget_processed_events(before=datetime.now(UTC) + timedelta(seconds=1)) == 1
    assert store.mark_event_processed("T1:old") is True
