"""Helpers for the pipeline specs: ask the pipeline as a person would, count executions, a settable clock."""

from datetime import UTC, datetime

from opsbot.core.request import Request


class Clock:
    def __init__(self):
        self.t = datetime.now(UTC)

    def __call__(self):
        return self.t


def ask(app, text, user="alice", thread="t1"):
    return app.pipeline.handle(Request(text=text, user=user, channel="c", thread=thread, frontend="test"))


def executions(app):
    return [r for r in app.store.audit_rows(limit=1000) if r["kind"] == "execution.started"]
