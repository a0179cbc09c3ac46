"""kb.ask on the lab, as `make run` has it: the lab's config names its runbooks, a question is answered
from them, and the restart the runbook names, once picked and approved by a second person, really runs
on the lab host (the runbook's own text never does)."""

from opsbot.app import build_app
from opsbot.core.request import Request


def ask(app, text, user="alice", thread="kb-lab"):
    return app.pipeline.handle(Request(text=text, user=user, channel="c", thread=thread, frontend="test"))


def test_the_lab_answers_from_its_runbooks_and_an_offered_restart_runs_after_approval(lab, lab_config, tmp_path):
    config = lab_config.model_copy(deep=True)
    config.database_url = f"sqlite:///{tmp_path / 'opsbot.db'}"
    before = lab.service_pid("cache-1", "redis")
    with build_app(config, "offline") as app:
        reply = ask(app, "redis on cache-1 is down, what is the procedure")
        assert "redis on cache-1 › redis is down (redis 挂了)" in reply.text
        restart = next(
            b for b in reply.buttons if b.action == "choose" and b.label.startswith("Restart redis on cache-1")
        )
        assert lab.service_pid("cache-1", "redis") == before  # offered, not run
        approval = ask(app, restart.value)
        assert approval.kind == "approval" and approval.approval_id
        done = app.pipeline.decide(approval.approval_id, "bob", approve=True)
        assert done.kind != "error", done.text
    assert lab.service_pid("cache-1", "redis") not in (None, before)
