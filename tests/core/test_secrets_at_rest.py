"""Attack 3 through the pipeline: a password typed into a request is redacted in the reply (as before)
and now in the database too: requests, tasks, replies, conversations, executions, audit."""

from __future__ import annotations

import sqlite3

from pipeline_helpers import ask


def test_a_typed_password_never_reaches_the_database(app):
    reply = ask(app, "search logs for password=Hunter3secret on web-1")
    assert "Hunter3secret" not in reply.text
    ask(app, "restart nginx on web-1 --password Hunter3flag", thread="t2")
    db = sqlite3.connect(app.store.engine.url.database)
    everything = "\n".join(db.iterdump())
    assert "Hunter3secret" not in everything and "Hunter3flag" not in everything
    assert "[REDACTED]" in everything
    assert app.store.verify_audit() == []
