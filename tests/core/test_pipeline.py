"""The pipeline end to end with the real offline parser, rule engine and store (SQLite).
SSH targets point at a closed loopback port, so an execution fails fast but is still recorded:
that is enough to see how many times something ran. Real executions are covered in tests/executors."""

from datetime import timedelta

from pipeline_helpers import ask, executions

from opsbot.core.request import Request


def test_help_lists_every_intent(app):
    reply = ask(app, "help")
    assert reply.kind == "info"
    intents = [row[0] for row in reply.tables[0].rows]
    assert "service.restart" in intents and "metrics.cpu" in intents


def test_a_missing_parameter_gets_a_question_and_the_answer_continues_the_request(app):
    q = ask(app, "restart nginx")
    assert q.kind == "question" and "host" in q.text.lower()
    assert {"web-1", "web-2", "web"} <= {b.value for b in q.buttons}
    a = ask(app, "web-1")
    assert a.kind == "approval" and "nginx" in a.text and "web-1" in a.text


def test_the_question_belongs_to_its_thread(app):
    ask(app, "restart nginx", thread="incident-1")
    other = ask(app, "web-1", thread="incident-2")
    assert other.kind != "approval"


def test_a_follow_up_reuses_the_last_task(app):
    first = ask(app, "top processes on web-1")
    second = ask(app, "and on web-2?")
    rows = app.store.export_feedback()
    tasks = {r["text"]: r["task"] for r in rows}
    assert tasks["and on web-2?"]["intent"] == "process.top"
    assert tasks["and on web-2?"]["params"]["host"] == "web-2"
    assert first.kind == second.kind == "error"  # the closed port: a clear failure, not a crash


def test_an_unknown_host_is_one_clear_sentence_and_nothing_runs(app):
    reply = ask(app, "top processes on web-9")
    assert reply.kind == "error" and "web-9" in reply.text and "Nothing was run" in reply.text
    assert executions(app) == []


def test_out_of_scope_requests_run_nothing(app):
    for text in ("rm -rf / on web-1", "delete the production database", "tell me a joke", "讲个笑话"):
        reply = ask(app, text)
        assert reply.kind in ("info", "error"), text
        assert "nothing was run" in reply.text.lower() or "什么都没有执行" in reply.text, text
    assert executions(app) == []


def test_a_viewer_cannot_ask_for_a_restart(app):
    reply = ask(app, "restart nginx on web-1", user="carol")
    assert reply.kind == "error" and "operator" in reply.text
    assert any(r["kind"] == "request.refused" for r in app.store.audit_rows())
    assert executions(app) == []


def test_the_requester_cannot_approve_their_own_request(app):
    approval = ask(app, "restart nginx on web-1", user="bob")
    reply = app.pipeline.decide(approval.approval_id, "bob", True)
    assert reply.kind == "error" and "second person" in reply.text
    assert executions(app) == []


def test_an_approver_without_the_role_is_refused(app):
    approval = ask(app, "restart nginx on web-1")
    reply = app.pipeline.decide(approval.approval_id, "carol", True)
    assert reply.kind == "error" and "approver" in reply.text
    assert executions(app) == []


def test_approving_twice_runs_once(app):
    approval = ask(app, "restart nginx on web-1")
    first = app.pipeline.decide(approval.approval_id, "bob", True)
    second = app.pipeline.decide(approval.approval_id, "dan", True)
    assert first.text.startswith("Approved by bob")
    assert "Already approved by bob" in second.text
    assert len(executions(app)) == 1


def test_an_expired_approval_cannot_be_used(app):
    approval = ask(app, "restart nginx on web-1")
    app.clock.t += timedelta(minutes=16)
    reply = app.pipeline.decide(approval.approval_id, "bob", True)
    assert reply.kind == "error" and "expired" in reply.text
    assert executions(app) == []


def test_a_denial_runs_nothing(app):
    approval = ask(app, "restart nginx on web-1")
    reply = app.pipeline.decide(approval.approval_id, "bob", False)
    assert "denied" in reply.text and executions(app) == []
    assert "Already denied" in app.pipeline.decide(approval.approval_id, "bob", True).text


def test_database_hosts_need_a_dba(app):
    approval = ask(app, "restart postgresql on db-1")
    assert "dba" in approval.text
    assert app.pipeline.decide(approval.approval_id, "bob", True).kind == "error"
    assert app.pipeline.decide(approval.approval_id, "dan", True).text.startswith("Approved by dan")


def test_every_execution_is_audited_before_and_after(app):
    ask(app, "top processes on web-1")
    kinds = [r["kind"] for r in app.store.audit_rows()]
    assert kinds.index("execution.started") < kinds.index("execution.finished")
    assert app.store.verify_audit() == []


def test_a_rate_limit_refuses_the_next_run(app):
    for _ in range(2):
        approval = ask(app, "restart postgresql on db-1")
        app.pipeline.decide(approval.approval_id, "dan", True)
    reply = ask(app, "restart postgresql on db-1")
    assert reply.kind == "error" and "Rate limit" in reply.text


def test_votes_and_corrections_are_stored(app):
    reply = ask(app, "bounce web-1's nginx pls")
    app.pipeline.vote(reply.request_id, "alice", up=False)
    app.pipeline.correct(reply.request_id, "alice", "service.restart", {"service": "nginx", "host": "web-1"})
    row = next(r for r in app.store.export_feedback() if r["request_id"] == reply.request_id)
    assert row["votes"]["down"] == 1
    assert row["correction"]["intent"] == "service.restart"


def test_an_unanswered_question_lapses(app):
    ask(app, "restart nginx")
    app.clock.t += timedelta(minutes=16)
    reply = ask(app, "web-1")
    assert reply.kind != "approval"


def test_a_question_put_to_alice_is_not_answered_by_someone_else(app):
    ask(app, "search the logs", user="alice")
    other = ask(app, "hello there, anyone around?", user="carol")
    assert other.kind == "info" and executions(app) == []
    answer = ask(app, "connection reset", user="alice")
    assert "connection reset" in answer.text or answer.kind == "error"
    row = next(r for r in app.store.export_feedback() if r["text"] == "connection reset")
    assert row["task"]["intent"] == "logs.search" and row["task"]["params"]["pattern"] == "connection reset"


def test_people_talking_in_a_thread_are_not_taken_as_requests(app):
    ask(app, "top processes on web-1")
    chatter = app.pipeline.handle(
        Request(
            text="hey alice are you on the bridge?",
            user="dan",
            channel="c",
            thread="t1",
            frontend="test",
            addressed=False,
        )
    )
    assert chatter.kind == "ignored"
    follow = app.pipeline.handle(
        Request(text="and on web-2?", user="dan", channel="c", thread="t1", frontend="test", addressed=False)
    )
    assert follow.kind != "ignored"
    assert len(executions(app)) == 2


def test_a_pasted_log_is_refused_quickly_and_nothing_runs(app):
    reply = ask(app, "restart nginx on web-1 " + "x" * 5000)
    assert reply.kind == "error" and "characters" in reply.text and executions(app) == []


def test_an_approval_runs_only_on_the_hosts_the_approver_was_shown(app):
    approval = ask(app, "restart nginx on web")  # web = web-1, web-2
    assert "web-1, web-2" in approval.text
    app.config.inventory.hosts["web-3"] = app.config.inventory.hosts["web-1"].model_copy()
    reply = app.pipeline.decide(approval.approval_id, "bob", True)
    assert reply.kind == "error" and "web-1, web-2, web-3" in reply.text and "nothing was run" in reply.text
    assert executions(app) == []
    assert app.store.get_approval(approval.approval_id).status == "pending"
