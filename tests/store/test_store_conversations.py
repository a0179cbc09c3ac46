"""Conversation state (the last task, a pending clarifying question) survives restarts and is shared
by replicas."""
from __future__ import annotations


def test_an_unknown_conversation_has_no_state(store):
    assert store.load_conversation("slack:C1:17.1") == (None, None)


def test_saving_again_replaces_the_state(store):
    key = "slack:C_OPS:1700000000.1"
    store.save_conversation(key, {"intent": "metrics.cpu", "params": {"host": "web-1"}}, None)
    store.save_conversation(key, {"intent": "service.restart", "params": {"service": "nginx"}},
                            {"question": "which host?", "missing": ["host"]})
    assert store.load_conversation(key) == (
        {"intent": "service.restart", "params": {"service": "nginx"}},
        {"question": "which host?", "missing": ["host"]})
    store.save_conversation(key, {"intent": "service.restart", "params": {"service": "nginx", "host": "web-1"}}, None)
    assert store.load_conversation(key) == ({"intent": "service.restart",
                                             "params": {"service": "nginx", "host": "web-1"}}, None)


def test_state_survives_a_restart_and_is_seen_by_another_replica(store, open_store):
    store.save_conversation("console:console:U1", None, {"question": "which service?"})
    store.close()
    assert open_store().load_conversation("console:console:U1") == (None, {"question": "which service?"})


def test_conversations_are_kept_apart(store):
    store.save_conversation("slack:C1:U1", {"intent": "help"}, None)
    store.save_conversation("slack:C1:U2", {"intent": "alerts.list"}, None)
    assert store.load_conversation("slack:C1:U1") == ({"intent": "help"}, None)
