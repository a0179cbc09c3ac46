"""The history llm.history reads (Store.past_runs, SQLite, no server): newest first, each run with the
approver of its request, an unfinished one left `running`, summaries readable with a keyed store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet

from opsbot.core.request import Request
from opsbot.store.store import Store


def test_past_runs_carry_the_approver_and_an_unfinished_run_stays_running(tmp_path):
    with Store.open(f"sqlite:///{tmp_path / 'o.db'}", keys=[Fernet.generate_key()]) as store:
        now = datetime.now(UTC)
        for i, version in enumerate(["2", "3"]):
            req = Request(text=f"deploy tiny-chat {version}", user="alice", channel="c", thread=str(i), frontend="t")
            store.record_request(req)
            params = {"deployment": "tiny-chat", "version": version}
            approval = store.create_approval(
                req.id, "llm.deploy.ray", "llm.deploy", params, "alice", now + timedelta(minutes=5)
            )
            store.decide_approval(approval.id, "bob", True, now)
            run = store.start_execution(req.id, "llm.deploy.ray", "llm.deploy", "llmserve", params, "alice")
            if version == "2":
                store.finish_execution(run, "ok", "Version 2 is live and healthy.")
        store.start_execution(None, "llm.status.ray", "llm.status", "llmserve", {"deployment": "tiny-chat"}, "carol")
        runs = store.past_runs(("llm.deploy", "llm.scale"), 10)
    assert [(r.params["version"], r.status, r.user, r.approver) for r in runs] == [
        ("3", "running", "alice", "bob"),
        ("2", "ok", "alice", "bob"),
    ]
    assert runs[1].summary == "Version 2 is live and healthy."
