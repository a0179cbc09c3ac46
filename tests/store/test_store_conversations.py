"""Conversation state (the last task, a pending clarifying question) survives restarts and is shared
by replicas."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert

from opsbot.core.conversation import Conversation, LastTask, PendingQuestion
from opsbot.store.tables import conversations

AT = datetime(2030, 1, 2, 9, 0, tzinfo=UTC)


def test_an_unknown_conversation_has_no_state(store):
    assert store.load_conversation("slack:C1:17.1") == Conversation()


def test_saving_again_replaces_the_state(store):
    key = "slack:C_OPS:1700000000.1"
    store.save_conversation(key, Conversation(last=LastTask(intent="metrics.cpu", params={"host": "web-1"}, at=AT)))
    restart = LastTask(intent="service.restart", params={"service": "nginx"}, at=AT)
    question = PendingQuestion(
        intent="service.restart", params={"service": "nginx"}, missing=["host"], asked="U1", at=AT
    )
    store.save_conversation(key, Conversation(last=restart, pending=question))
    assert store.load_conversation(key) == Conversation(last=restart, pending=question)
    done = LastTask(intent="service.restart", params={"service": "nginx", "host": "web-1"}, at=AT)
    store.save_conversation(key, Conversation(last=done))
    assert store.load_conversation(key) == Conversation(last=done)


def test_state_survives_a_restart_and_is_seen_by_another_replica(store, open_store):
    question = PendingQuestion(intent="service.status", missing=["service"], asked="U1", at=AT)
    store.save_conversation("console:console:U1", Conversation(pending=question))
    store.close()
    assert open_store().load_conversation("console:console:U1") == Conversation(pending=question)


def test_conversations_are_kept_apart(store):
    store.save_conversation("slack:C1:U1", Conversation(last=LastTask(intent="help", at=AT)))
    store.save_conversation("slack:C1:U2", Conversation(last=LastTask(intent="alerts.list", at=AT)))
    assert store.load_conversation("slack:C1:U1") == Conversation(last=LastTask(intent="help", at=AT))


def test_state_stored_by_earlier_versions_still_reads_and_unreadable_parts_count_as_absent(store):
    with store.engine.begin() as conn:
        conn.execute(
            insert(conversations).values(
                key="slack:C1:old",
                updated_at=AT,
                last_task={"intent": "metrics.cpu", "params": {"host": "web-1"}, "at": "2030-01-02T09:00:00+00:00"},
                pending={"question": "which service?"},
            )
        )
    assert store.load_conversation("slack:C1:old") == Conversation(
        last=LastTask(intent="metrics.cpu", params={"host": "web-1"}, at=AT)
    )
