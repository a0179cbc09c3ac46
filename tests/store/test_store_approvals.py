"""Approvals live in the database with an expiry; decisions and claims are single-winner, so two
people (or two replicas) clicking at once cannot both win and an approval runs at most once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def approval(store, new_request):
    """A pending approval for a restart requested by Alice, expiring ten minutes after NOW."""
    req = new_request("restart nginx on web-1", user="U_ALICE")
    return store.create_approval(
        req.id,
        "service-restart",
        "service.restart",
        {"service": "nginx", "host": "web-1"},
        "U_ALICE",
        expires_at=NOW + timedelta(minutes=10),
        channel="C_OPS",
        thread="17.1",
    )


def test_a_new_approval_is_pending_and_can_be_read_back(store, approval):
    kept = store.get_approval(approval.id)
    assert kept == approval
    assert kept.status == "pending" and kept.approver is None and kept.decided_at is None
    assert (kept.rule_id, kept.intent, kept.requester) == ("service-restart", "service.restart", "U_ALICE")
    assert kept.params == {"service": "nginx", "host": "web-1"}
    assert (kept.channel, kept.thread) == ("C_OPS", "17.1")
    assert kept.expires_at == NOW + timedelta(minutes=10) and kept.expires_at.tzinfo == UTC


def test_an_unknown_approval_is_none(store):
    assert store.get_approval("nope") is None


def test_the_first_decision_wins_and_later_ones_change_nothing(store, approval):
    assert store.decide_approval(approval.id, "U_BOB", approve=True, now=NOW) is True
    assert store.decide_approval(approval.id, "U_CAROL", approve=False, now=NOW) is False
    assert store.decide_approval(approval.id, "U_BOB", approve=True, now=NOW) is False
    kept = store.get_approval(approval.id)
    assert (kept.status, kept.approver, kept.decided_at) == ("approved", "U_BOB", NOW)


def test_a_denied_approval_cannot_be_claimed(store, approval):
    assert store.decide_approval(approval.id, "U_BOB", approve=False, now=NOW) is True
    assert store.get_approval(approval.id).status == "denied"
    assert store.claim_approved(approval.id) is False


def test_an_expired_approval_cannot_be_decided(store, approval):
    at_expiry = approval.expires_at
    assert store.decide_approval(approval.id, "U_BOB", approve=True, now=at_expiry) is False
    assert store.get_approval(approval.id).status == "pending"
    assert store.get_approval(approval.id).is_expired(at_expiry)

    assert store.expire_approvals(now=at_expiry) == 1
    assert store.expire_approvals(now=at_expiry) == 0
    assert store.get_approval(approval.id).status == "expired"
    assert store.decide_approval(approval.id, "U_BOB", approve=True, now=NOW) is False


def test_expiry_sweeps_leave_unexpired_and_decided_approvals_alone(store, approval, new_request):
    other = store.create_approval(
        new_request().id,
        "disk-cleanup",
        "disk.cleanup",
        {"host": "web-2"},
        "U_ALICE",
        expires_at=NOW + timedelta(minutes=1),
    )
    store.decide_approval(other.id, "U_BOB", approve=True, now=NOW)
    assert store.expire_approvals(now=NOW + timedelta(minutes=5)) == 0
    assert store.get_approval(approval.id).status == "pending"
    assert store.get_approval(other.id).status == "approved"


def test_an_approved_approval_is_claimed_exactly_once(store, approval):
    assert store.claim_approved(approval.id) is False  # not approved yet
    store.decide_approval(approval.id, "U_BOB", approve=True, now=NOW)
    assert store.claim_approved(approval.id) is True
    assert store.claim_approved(approval.id) is False
    kept = store.get_approval(approval.id)
    assert kept.status == "executed" and kept.executed_at is not None


def test_two_replicas_deciding_at_once_have_a_single_winner(store, open_store, new_request, race):
    replica = open_store()
    for _ in range(10):
        pending = store.create_approval(
            new_request().id,
            "service-restart",
            "service.restart",
            {},
            "U_ALICE",
            expires_at=NOW + timedelta(minutes=10),
        )
        bob, carol = race(
            lambda: store.decide_approval(pending.id, "U_BOB", True, NOW),
            lambda: replica.decide_approval(pending.id, "U_CAROL", False, NOW),
        )
        assert [bob, carol].count(True) == 1
        kept = replica.get_approval(pending.id)
        assert (kept.status, kept.approver) == (("approved", "U_BOB") if bob else ("denied", "U_CAROL"))
        if bob:
            claims = race(lambda: store.claim_approved(pending.id), lambda: replica.claim_approved(pending.id))
            assert claims.count(True) == 1


def test_claims_and_expiries_are_audited_by_the_store(store, approval, new_request):
    # Requests and decisions are audited by the pipeline, which knows the rule and the requester.
    store.decide_approval(approval.id, "U_BOB", approve=True, now=NOW)
    store.claim_approved(approval.id)
    late = store.create_approval(new_request().id, "r", "disk.cleanup", {}, "U_ALICE", expires_at=NOW)
    store.expire_approvals(now=NOW)
    assert [(r["kind"], r["actor"], r["data"]) for r in store.audit_rows()] == [
        ("approval.claimed", "opsbot", {"approval_id": approval.id}),
        ("approval.expired", "opsbot", {"approval_ids": [late.id]}),
    ]


def test_naive_datetimes_are_refused(store, new_request, approval):
    with pytest.raises(ValueError, match="expires_at"):
        store.create_approval(new_request().id, "r", "service.restart", {}, "U1", expires_at=datetime(2030, 1, 1))
    with pytest.raises(ValueError, match="now"):
        store.decide_approval(approval.id, "U_BOB", True, now=datetime(2030, 1, 1))
