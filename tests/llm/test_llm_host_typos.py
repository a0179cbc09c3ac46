"""Attack 2 through the LLM: the model reads `restart nginx on web-l` as the group `web` (two hosts) or
corrects it to web-1. Either way the message named neither, so the change is asked back first and no
approval exists until the asker says yes; a host the message names, or a follow-up's carried host,
goes straight on."""

from __future__ import annotations

from opsbot.app import build_app
from opsbot.core.request import Request
from opsbot.testing.fake_openai import answer


def ask(app, text, thread="t1"):
    return app.pipeline.handle(Request(text=text, user="alice", channel="c", thread=thread, frontend="test"))


def approvals(app):
    return [r for r in app.store.audit_rows(limit=1000) if r["kind"] == "approval.requested"]


def test_an_llm_widening_a_typo_to_a_group_is_asked_back_not_approved(config, server):
    config.access.default_roles = ["operator"]
    with build_app(config, "llm") as app:
        server.push(answer("service.restart", {"service": "nginx", "host": "web"}))
        reply = ask(app, "restart nginx on web-l")
        assert reply.kind == "question" and "Did you mean" in reply.text
        assert approvals(app) == []

        server.push(answer("service.restart", {"service": "nginx", "host": "web-1"}))
        reply = ask(app, "restart nginx on wbe-1", thread="t2")
        assert reply.kind == "question" and approvals(app) == []

        server.push(answer("service.restart", {"service": "nginx", "host": "web-1"}))
        reply = ask(app, "please restart nginx on web-1", thread="t3")
        assert reply.kind == "approval"
