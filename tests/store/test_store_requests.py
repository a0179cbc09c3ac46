"""Requests, their parses and replies are kept as the record of what was asked and answered."""

from __future__ import annotations

from datetime import UTC

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from opsbot.core.reply import Image, Reply
from opsbot.core.request import Request
from opsbot.core.task import Task
from opsbot.store.tables import replies, requests, tasks


def test_a_request_its_parse_and_reply_round_trip(store):
    req = Request(
        text="重启 web-1 上的 nginx", user="U_ALICE", channel="C_OPS", thread="1700000000.1", frontend="slack"
    )
    task = Task(
        intent="service.restart",
        params={"service": "nginx", "host": "web-1"},
        confidence=0.93,
        parser="llm",
        note="LLM answered in 2 tries",
        missing=[],
        usage={"prompt_tokens": 420, "completion_tokens": 31, "cost": 0.0012},
    )
    store.record_request(req)
    store.record_task(req.id, task, latency_ms=812.5)
    store.record_reply(
        req.id, Reply(text="nginx restarted on web-1", kind="result", images=[Image(title="cpu", png=b"\x89PNG...")])
    )

    assert store.request_text(req.id) == "重启 web-1 上的 nginx"
    with store.engine.connect() as conn:
        kept = conn.execute(select(requests).where(requests.c.id == req.id)).one()
        parse = conn.execute(select(tasks).where(tasks.c.request_id == req.id)).one()
        reply = conn.execute(select(replies).where(replies.c.request_id == req.id)).one()
    assert (kept.user_id, kept.channel, kept.thread, kept.frontend) == ("U_ALICE", "C_OPS", "1700000000.1", "slack")
    assert kept.conversation == req.conversation
    assert kept.created_at.tzinfo == UTC
    assert (parse.intent, parse.params, parse.confidence, parse.parser) == (
        "service.restart",
        {"service": "nginx", "host": "web-1"},
        0.93,
        "llm",
    )
    assert parse.note == "LLM answered in 2 tries"
    assert parse.usage == {"prompt_tokens": 420, "completion_tokens": 31, "cost": 0.0012}
    assert parse.latency_ms == 812.5
    assert (reply.kind, reply.text) == ("result", "nginx restarted on web-1")  # no image bytes kept


def test_an_unknown_request_has_no_text(store):
    assert store.request_text("no-such-request") is None


def test_recording_the_same_request_twice_keeps_one(store):
    req = Request(text="disk on web-2", user="U1")
    store.record_request(req)
    store.record_request(req)
    with store.engine.connect() as conn:
        assert conn.execute(select(requests.c.id)).scalars().all() == [req.id]


def test_a_parse_must_belong_to_a_recorded_request(store):
    with pytest.raises(IntegrityError):
        store.record_task("never-recorded", Task(intent="help"), latency_ms=1.0)


def test_a_parse_that_found_no_intent_is_kept_too(store, new_request):
    req = new_request("sing me a song")
    store.record_task(req.id, Task(intent=None, confidence=0.1), latency_ms=3.0)
    with store.engine.connect() as conn:
        assert conn.execute(select(tasks.c.intent, tasks.c.params)).one() == (None, {})
