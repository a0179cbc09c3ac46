"""Feedback (votes and corrections) is exported with each parse and turns into confirmed examples."""

from __future__ import annotations

from datetime import datetime

import pytest

from opsbot.core.reply import Reply
from opsbot.core.task import Task


@pytest.fixture
def parsed(store, new_request):
    """Record a request with a parse (and optionally a reply); returns the request id."""

    def make(text: str, intent: str | None, params: dict | None = None, reply: Reply | None = None) -> str:
        req = new_request(text)
        store.record_task(req.id, Task(intent=intent, params=params or {}, confidence=0.8), latency_ms=5.0)
        if reply is not None:
            store.record_reply(req.id, reply)
        return req.id

    return make


def test_the_export_has_one_entry_per_parsed_request_with_its_outcome_votes_and_correction(store, new_request, parsed):
    new_request("never parsed")  # not in the export
    cpu = parsed("cpu on web-1", "metrics.cpu", {"host": "web-1"})
    store.record_reply(cpu, Reply(text="working on it", kind="progress"))
    store.record_reply(cpu, Reply(text="web-1 CPU 12%", kind="result"))
    store.add_feedback(cpu, "U1", vote=1)
    store.add_feedback(cpu, "U2", vote=1)
    store.add_feedback(cpu, "U3", vote=-1)
    store.add_feedback(cpu, "U3", vote=1)  # changed their mind: latest vote counts
    restart = parsed("bounce nginx", "service.status", {"service": "nginx"})
    store.record_task(
        restart,
        Task(intent="service.restart", params={"service": "nginx"}, confidence=0.6, parser="llm"),
        latency_ms=900.0,
    )  # re-parsed after a clarification
    store.add_feedback(
        restart,
        "U1",
        vote=-1,
        correction={"intent": "service.restart", "params": {"service": "nginx", "host": "web-1"}},
    )

    exported = list(store.export_feedback())
    assert [e["request_id"] for e in exported] == [cpu, restart]
    first, second = exported
    assert first["text"] == "cpu on web-1"
    assert first["task"] == {
        "intent": "metrics.cpu",
        "params": {"host": "web-1"},
        "confidence": 0.8,
        "parser": "offline",
    }
    assert first["outcome"] == {"kind": "result", "text": "web-1 CPU 12%"}
    assert first["votes"] == {"up": 3, "down": 0}
    assert first["correction"] is None
    assert datetime.fromisoformat(first["at"]).utcoffset().total_seconds() == 0

    assert second["task"] == {
        "intent": "service.restart",
        "params": {"service": "nginx"},
        "confidence": 0.6,
        "parser": "llm",
    }
    assert second["outcome"] is None
    assert second["votes"] == {"up": 0, "down": 1}
    assert second["correction"] == {"intent": "service.restart", "params": {"service": "nginx", "host": "web-1"}}


def test_confirmed_examples_are_corrections_and_net_upvoted_parses(store, parsed):
    liked = parsed("disk on web-2", "metrics.disk", {"host": "web-2"})
    store.add_feedback(liked, "U1", vote=1)
    tied = parsed("memory on web-1", "metrics.memory", {"host": "web-1"})
    store.add_feedback(tied, "U1", vote=1)
    store.add_feedback(tied, "U2", vote=-1)
    corrected = parsed("restart the api", "service.status", {"service": "api"})
    store.add_feedback(corrected, "U1", vote=1)
    store.add_feedback(corrected, "U2", correction={"intent": "service.restart", "params": {"service": "api"}})
    nothing = parsed("hello there", None)
    store.add_feedback(nothing, "U1", vote=1)  # a liked "no intent" teaches nothing
    parsed("cpu please", "metrics.cpu")  # no feedback at all

    assert store.confirmed_examples() == [
        {
            "text": "disk on web-2",
            "intent": "metrics.disk",
            "params": {"host": "web-2"},
            "source": "upvote",
            "request_id": liked,
            "weight": 1,  # a correction weighs 3, an up-vote 1 (2 with a check that said fixed)
            "outcome": None,  # no check ran
        },
        {
            "text": "restart the api",
            "intent": "service.restart",
            "params": {"service": "api"},
            "source": "correction",
            "request_id": corrected,
            "weight": 3,
            "outcome": None,
        },
    ]


def test_feedback_must_be_a_vote_or_a_correction(store, parsed):
    request_id = parsed("cpu", "metrics.cpu")
    with pytest.raises(ValueError, match="vote"):
        store.add_feedback(request_id, "U1", vote=5)
    with pytest.raises(ValueError, match="vote or a correction"):
        store.add_feedback(request_id, "U1")
    with pytest.raises(ValueError, match="intent"):
        store.add_feedback(request_id, "U1", correction={"params": {}})
    assert next(store.export_feedback())["votes"] == {"up": 0, "down": 0}
