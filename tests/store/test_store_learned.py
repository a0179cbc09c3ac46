"""The learned-example bank is replaced as a whole by each `opsbot tune`, and every version is kept
so a tune can be reverted."""

from __future__ import annotations

import pytest

V1 = [
    {
        "text": "cpu on web-1",
        "intent": "metrics.cpu",
        "params": {"host": "web-1"},
        "source": "correction",
        "request_id": "r1",
    },
    {
        "text": "restart nginx on web-2",
        "intent": "service.restart",
        "params": {"service": "nginx", "host": "web-2"},
        "source": "upvote",
        "request_id": "r2",
    },
]
V2 = [{"text": "show alerts", "intent": "alerts.list"}]


def test_the_bank_starts_empty(store):
    assert store.learned_examples() == []
    assert store.learned_version() == 0


def test_setting_examples_replaces_the_bank_as_a_new_version(store):
    assert store.set_learned_examples(V1) == 1
    assert store.learned_examples() == V1
    assert store.set_learned_examples(V2) == 2
    assert store.learned_examples() == [
        {"text": "show alerts", "intent": "alerts.list", "params": {}, "source": "tune", "request_id": None}
    ]
    assert store.learned_version() == 2


def test_reverting_goes_back_one_version_at_a_time(store):
    store.set_learned_examples(V1)
    store.set_learned_examples(V2)
    assert store.revert_learned_examples() == 1
    assert store.learned_examples() == V1
    assert store.revert_learned_examples() == 0
    assert store.learned_examples() == []
    with pytest.raises(LookupError):
        store.revert_learned_examples()


def test_a_tune_after_a_revert_gets_a_new_version_and_reverts_to_where_it_started(store):
    store.set_learned_examples(V1)
    store.set_learned_examples(V2)
    store.revert_learned_examples()  # back on 1
    assert store.set_learned_examples(V2[:0]) == 3  # an empty bank is a version too
    assert store.learned_examples() == []
    assert store.revert_learned_examples() == 1
    assert store.learned_examples() == V1


def test_invalid_examples_are_refused_and_nothing_changes(store):
    store.set_learned_examples(V1)
    with pytest.raises(ValueError, match="example 1"):
        store.set_learned_examples([V2[0], {"text": "no intent"}])
    assert store.learned_version() == 1 and store.learned_examples() == V1


def test_tunes_and_reverts_are_audited(store):
    store.set_learned_examples(V1)
    store.revert_learned_examples()
    assert [(r["kind"], r["data"]) for r in store.audit_rows()] == [
        ("learned.set", {"version": 1, "parent": 0, "count": 2}),
        ("learned.revert", {"from": 1, "to": 0}),
    ]
