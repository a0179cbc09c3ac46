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
    assert five_rows.verify_audit() == ["the last 2 audit rows (rows 4-5) were deleted"]
    run_sql("DELETE FROM audit_log WHERE seq = 3")
    assert five_rows.verify_audit() == ["the last 3 audit rows (rows 3-5) were deleted"]


def test_a_single_deleted_last_row_is_detected(five_rows, run_sql):
    run_sql("DELETE FROM audit_log WHERE seq = 5")
    assert five_rows.verify_audit() == ["the last audit row (row 5) was deleted"]


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


# ---- attack 4: a chain anyone with database write access can recompute. Keyed with HMAC (the key is
# not in the database) and anchored outside it (the head is logged), a rewrite is found.

KEY = b"audit-key-outside-the-database"


def recompute(store, run_sql, from_seq: int, key: bytes | None = None, data: str | None = None) -> None:
    """What an attacker with write access does: change a row, then rehash it and every later row and the
    head, as the code would (but without the real key)."""
    from sqlalchemy import select

    from opsbot.store.tables import audit_log

    with store.engine.connect() as conn:
        rows = conn.execute(select(audit_log).order_by(audit_log.c.seq)).all()
    prev = GENESIS if from_seq == 1 else rows[from_seq - 2].hash
    for row in rows[from_seq - 1 :]:
        text = data if (data is not None and row.seq == from_seq) else row.data
        digest = content_hash(prev, row.seq, row.ts, row.actor, row.kind, text, key)
        run_sql(
            "UPDATE audit_log SET data = :d, prev_hash = :p, hash = :h WHERE seq = :s",
            d=text,
            p=prev,
            h=digest,
            s=row.seq,
        )
        prev = digest
    run_sql("UPDATE audit_head SET hash = :h", h=prev)


@pytest.fixture
def keyed(db_url):
    from opsbot.store import Store

    store = Store.open(db_url, audit_key=KEY)
    for i in range(1, 6):
        store.audit("U_ALICE", "test.event", {"n": i})
    yield store
    store.close()


def test_a_keyed_chain_verifies_only_with_its_key(keyed, db_url):
    from opsbot.store import Store

    assert keyed.verify_audit() == []
    assert all(r["hash"].startswith("k:") for r in keyed.audit_rows())
    with Store(db_url) as keyless:
        assert keyless.verify_audit() == [
            "5 keyed audit rows cannot be checked without the audit key (OPSBOT_AUDIT__KEY or audit.key_file)"
        ]
    with Store(db_url, audit_key=b"another key") as wrong:
        assert "audit row 1 was edited: its hash does not match its content" in wrong.verify_audit()


def test_a_row_rewritten_and_rehashed_without_the_key_is_detected(keyed, run_sql):
    recompute(keyed, run_sql, 3, key=None, data='{"n":"rewritten"}')  # plain SHA-256, as before #9
    assert keyed.verify_audit()[0] == (
        "audit row 3 is not keyed though row 1 before it is: the chain was rewritten by someone without the audit key"
    )
    recompute(keyed, run_sql, 3, key=b"guessed", data='{"n":"rewritten"}')  # keyed, with a guessed key
    assert "audit row 3 was edited: its hash does not match its content" in keyed.verify_audit()


def test_a_whole_chain_rewritten_is_caught_by_the_anchor_in_the_log(keyed, run_sql, caplog):
    from opsbot.store.audit import parse_anchor

    with caplog.at_level("INFO", logger="opsbot.audit"):
        keyed.audit("U_ALICE", "test.event", {"n": 6})
    anchor = parse_anchor(caplog.text)  # "audit anchor 6:k:…" as the log has it
    assert anchor is not None and anchor[0] == 6
    assert keyed.verify_audit(anchor) == []

    recompute(keyed, run_sql, 1, key=None, data='{"n":"rewritten"}')  # every row plain and consistent
    problems = keyed.verify_audit(anchor)
    assert (
        "audit row 6 does not match the anchor: the chain up to it was rewritten after the anchor was taken" in problems
    )


def test_a_deleted_last_row_with_a_forged_head_is_caught_by_the_anchor(keyed, run_sql):
    from opsbot.store.audit import parse_anchor

    last = keyed.audit_rows()[-1]
    anchor = parse_anchor(f"audit anchor {last['seq']}:{last['hash']}")
    run_sql("DELETE FROM audit_log WHERE seq = 5")
    assert keyed.verify_audit() == ["the last audit row (row 5) was deleted"]
    four = keyed.audit_rows()[-1]
    run_sql("UPDATE audit_head SET seq = 4, hash = :h", h=four["hash"])  # the head made to agree
    assert keyed.verify_audit() == []  # the database alone cannot tell
    assert keyed.verify_audit(anchor) == ["the anchor names row 5, but the trail ends at row 4: rows were deleted"]
