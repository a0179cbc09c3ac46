"""Conversations people can trust, through the whole pipeline: choices instead of guesses, cancels, a
question never becoming a change, approvals by short id, corrections checked before they are stored, and
the reply language."""

from __future__ import annotations

from pipeline_helpers import ask, executions

from opsbot.core.request import Request


def choose(reply) -> list[str]:
    return [b.label for b in reply.buttons if b.action == "choose"]


def test_a_bare_host_gets_choices_and_the_answer_runs_one(app):
    question = ask(app, "check web-1")
    assert question.kind == "question" and "web-1" in question.text
    assert choose(question)[:4] == ["status", "CPU", "memory", "disk"]
    assert executions(app) == []
    answer = ask(app, "memory")
    assert answer.kind in ("result", "error", "info") and answer.kind != "question"
    assert [e["data"]["intent"] for e in executions(app)] == ["metrics.memory"]


def test_a_choice_can_be_picked_by_its_number(app):
    ask(app, "the site feels slow, web-2?")
    ask(app, "2")
    assert [e["data"]["intent"] for e in executions(app)] == ["metrics.cpu"]


def test_see_it_or_free_it_up_is_asked_and_freeing_it_asks_for_approval(app):
    question = ask(app, "free disk space on web-1")
    assert question.kind == "question" and len(question.buttons) == 2
    assert "approval" in question.text  # the changing reading says so
    assert ask(app, "free it up").kind == "approval"
    assert executions(app) == []


def test_never_mind_drops_a_question(app):
    ask(app, "check web-1")
    assert "dropped" in ask(app, "never mind").text
    assert ask(app, "2").kind == "info"  # no question left: a number alone is not understood
    assert executions(app) == []


def test_the_asker_cancels_their_own_pending_approval_and_nobody_else_can(app):
    asked = ask(app, "restart nginx on web-1")
    assert asked.kind == "approval"
    assert "nothing to cancel" in ask(app, "never mind", user="bob").text.lower()
    cancelled = ask(app, "算了")
    assert cancelled.text.startswith("已取消") and "web-1" in cancelled.text
    assert app.store.get_approval(asked.approval_id).status == "denied"
    late = app.pipeline.decide(asked.approval_id, "bob", True)
    assert "already denied" in late.text.lower()
    assert executions(app) == []


def test_a_question_after_a_restart_is_a_status_check_not_another_restart(app):
    ask(app, "restart api on web-1")
    follow = ask(app, "is it ok on web-2")
    assert follow.kind != "approval"
    assert [e["data"]["intent"] for e in executions(app)] == ["service.status"]
    ask(app, "restart api on web-1", thread="t2")
    again = ask(app, "and on web-2?", thread="t2")
    assert again.kind == "question" and len(again.buttons) == 2


def test_several_hosts_fan_out_and_the_approval_names_them(app):
    asked = ask(app, "restart nginx on web-1 and web-2")
    assert asked.kind == "approval" and "web-1, web-2" in asked.text
    assert app.store.get_approval(asked.approval_id).targets == ["web-1", "web-2"]


def test_approvals_by_a_short_prefix_or_last(app):
    asked = ask(app, "restart nginx on web-1")
    pipeline = app.pipeline
    assert pipeline.find_approval(asked.approval_id[:6]) == (asked.approval_id, None)
    assert pipeline.find_approval("last") == (asked.approval_id, None)
    assert pipeline.find_approval(asked.approval_id[:3])[1].startswith("Give at least 4")
    assert "no approval request" in pipeline.find_approval("ffff0000")[1].lower()


def test_self_approval_is_refused_before_anyone_is_asked_and_a_deny_says_what(app):
    asked = ask(app, "restart nginx on web-2")
    assert "yourself" in app.pipeline.approver_refusal(asked.approval_id, "alice")
    assert app.pipeline.approver_refusal(asked.approval_id, "bob") is None
    denied = app.pipeline.decide(asked.approval_id, "bob", False)
    assert denied.text == "bob denied: Restart nginx on web-2 (asked by alice); nothing was run."


def test_a_correction_is_checked_against_rules_and_inventory_and_nothing_invalid_is_stored(app):
    reply = ask(app, "cpu on web-1")
    bad = app.pipeline.correct(reply.request_id, "alice", "metrics.cpu", {"host": "web-9", "window": "banana"})
    assert bad.kind == "error" and "web-9" in bad.text
    assert "banana" in app.pipeline.correct(reply.request_id, "alice", "metrics.cpu", {"window": "banana"}).text
    assert "needs host" in app.pipeline.correct(reply.request_id, "alice", "process.top", {}).text
    assert (
        "no parameter colour" in app.pipeline.correct(reply.request_id, "alice", "metrics.cpu", {"colour": "red"}).text
    )
    assert "no intent" in app.pipeline.correct(reply.request_id, "alice", "metrics.gpu", {}).text
    assert list(app.store.export_feedback()) == [] or all(
        not row.get("correction") for row in app.store.export_feedback()
    )
    good = app.pipeline.correct(reply.request_id, "alice", "metrics.memory", {"host": "web-1", "window": "6h"})
    assert good.kind == "info"
    assert [row["correction"] for row in app.store.export_feedback() if row.get("correction")] == [
        {"intent": "metrics.memory", "params": {"host": "web-1", "window": "6h"}}
    ]


def test_replies_follow_the_askers_language_and_lang_overrides_it(app):
    assert "什么都没有执行" in ask(app, "讲个笑话").text
    assert "nothing was run" in ask(app, "tell me a joke").text
    assert app.pipeline.set_language("alice", "zh").text.startswith("从现在起")
    assert "什么都没有执行" in ask(app, "tell me a joke").text
    assert "nothing was run" in ask(app, "tell me a joke", user="bob").text  # per person
    app.pipeline.set_language("alice", "auto")
    assert "nothing was run" in ask(app, "tell me a joke").text
    assert app.pipeline.set_language("alice", "fr").kind == "error"


def test_an_answer_of_names_only_continues_the_conversations_language(app):
    question = ask(app, "重启 nginx")
    assert question.kind == "question" and "哪台主机" in question.text
    approval = ask(app, "web-1")
    assert approval.kind == "approval" and "批准" in approval.text


def test_each_thread_and_each_person_keep_their_own_question(app):
    ask(app, "restart nginx")  # alice is asked which host
    bob = app.pipeline.handle(Request(text="web-2", user="bob", channel="c", thread="t1", frontend="test"))
    assert bob.kind != "approval"
    assert ask(app, "web-1").kind == "approval"  # alice's question was still hers to answer
