"""The audit trail is append-only and hash-chained: verify_audit names every edit and deletion."""

from __future__ import annotations

import threading
from datetime import datetime
from itertools import pairwise

import pytest

from opsbot.store.audit import GENESIS, content_hash


@pytest.fixture
def five_rows(store):
    for i in range(1, 6):
        store.audit("U_ALICE", "test.event", {"n": i, "note": "日志 ✓", "nested": {"b": [1, 2], "a": None}})
    return store


def test_an_untouched_trail_verifies(five_rows):
    assert five_rows.verify_audit() == []
    rows = five_rows.audit_rows()
    assert [r["seq"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0]["prev_hash"] == GENESIS
    assert all(later["prev_hash"] == earlier["hash"] for earlier, later in pairwise(rows))
    assert rows[2]["data"] == {"n": 3, "note": "日志 ✓", "nested": {"b": [1, 2], "a": None}}
    assert (rows[2]["actor"], rows[2]["kind"]) == ("U_ALICE", "test.event")


def test_an_empty_trail_verifies(store):
    assert store.verify_audit() == []
    assert store.audit_rows() == []


def test_audit_rows_shows_the_latest_rows_oldest_first(five_rows):
    assert [r["seq"] for r in five_rows.audit_rows(limit=2)] == [4, 5]


def test_an_edited_row_is_detected(five_rows, run_sql):
    run_sql("UPDATE audit_log SET data = :data WHERE seq = 3", data='{"n":3,"note":"nothing to see"}')
    assert five_rows.verify_audit() == ["audit row 3 was edited: its hash does not match its content"]


def test_an_edited_row_with_a_recomputed_hash_is_detected_by_the_next_row(five_rows, run_sql):
    third = five_rows.audit_rows()[2]
    forged = content_hash(
        third["prev_hash"], 3, datetime.fromisoformat(third["ts"]), "U_MALLORY", third["kind"], '{"n":3}'
    )
    run_sql("UPDATE audit_log SET actor = 'U_MALLORY', data = :data, hash = :h WHERE seq = 3", data='{"n":3}', h=forged)
    assert five_rows.verify_audit() == [
        "audit row 4 does not follow row 3: its prev_hash is not the hash of row 3, so row 3 was replaced"
    ]


def test_a_deleted_middle_row_is_detected(five_rows, run_sql):
    run_sql("DELETE FROM audit_log WHERE seq = 3")
    assert five_rows.verify_audit() == ["audit row 3 is missing: row 4 does not follow row 2"]


def test_several_deleted_rows_are_reported_together(five_rows, run_sql):
    run_sql("DELETE FROM audit_log WHERE seq IN (2, 3)")
    assert five_rows.verify_audit() == ["audit rows 2-3 are missing: row 4 does not follow row 1"]


def test_a_deleted_first_row_is_detected(five_rows, run_sql):
    run_sql("DELETE FROM audit_log WHERE seq = 1")
    assert five_rows.verify_audit() == ["audit row 1 is missing: the trail starts at row 2"]


def test_a_deleted_tail_is_detected(five_rows, run_sql):
    run_sql("DELETE FROM audit_log WHERE seq >= 4")
    assert five_rows.verify_audit() == ["the last 2 audit rows were deleted"]
    run_sql("DELETE FROM audit_log WHERE seq = 3")
    assert five_rows.verify_audit() == ["the last 3 audit rows were deleted"]


def test_a_single_deleted_last_row_is_detected(five_rows, run_sql):
    run_sql("DELETE FROM audit_log WHERE seq = 5")
    assert five_rows.verify_audit() == ["the last audit row was deleted"]


def test_appending_continues_the_chain_across_restarts(five_rows, open_store):
    five_rows.close()
    reopened = open_store()
    reopened.audit("U_BOB", "test.event", {"n": 6})
    assert [r["seq"] for r in reopened.audit_rows()] == [1, 2, 3, 4, 5, 6]
    assert reopened.verify_audit() == []


def test_replicas_appending_at_once_keep_one_unbroken_chain(store, open_store, race):
    replicas = [store, open_store(), open_store()]

    def append_many(replica, who):
        return lambda: [replica.audit(who, "test.race", {"i": i}) for i in range(20)]

    race(*(append_many(r, f"U{n}") for n, r in enumerate(replicas)))
    rows = store.audit_rows(limit=1000)
    assert [r["seq"] for r in rows] == list(range(1, 61))
    assert store.verify_audit() == []


def test_verifying_while_another_replica_appends_finds_nothing_wrong(store, open_store):
    writer = open_store()
    appending, done = threading.Event(), threading.Event()

    def keep_appending():
        while not done.is_set():
            writer.audit("U_BOB", "test.busy", {})
            appending.set()

    thread = threading.Thread(target=keep_appending)
    thread.start()
    try:
        assert appending.wait(60), "the other replica never appended"
        reports = [store.verify_audit() for _ in range(30)]
    finally:
        done.set()
        thread.join()
    assert all(report == [] for report in reports)
    assert len(store.audit_rows(limit=10_000)) > 0
