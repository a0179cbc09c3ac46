"""The Slack front end in Socket Mode: the real Bolt app and slack_sdk clients, connected to a local
Socket Mode server, posting to a local Web API; the real opsbot App behind them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from slack_helpers import CHANNEL, DM, start_socket_bot, stop_socket_bot
from sqlalchemy import func, select
from waiting import wait_until

from opsbot.store.tables import executions, requests
from opsbot.testing import fake_slack as fs
from opsbot.testing.tarpit import Tarpit

pytestmark = pytest.mark.servers  # the fake Socket Mode and Web API servers


def count_requests(bot, text: str) -> int:
    with bot.store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(requests).where(requests.c.text == text)).scalar_one()


def count_executions(bot, intent: str = "service.restart") -> int:
    """Every execution row, whatever its status (a refused or failed run still ran once)."""
    with bot.store.engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(executions).where(executions.c.intent == intent)
        ).scalar_one()


def in_thread(bot, thread_ts: str, channel: str = CHANNEL) -> list[fs.Call]:
    return [
        c
        for c in bot.api.calls("chat.postMessage")
        if c.params.get("channel") == channel and c.params.get("thread_ts") == thread_ts
    ]


# ---- entry points ---------------------------------------------------------------------------------


def test_a_slash_command_is_acked_at_once_and_answered_in_the_channel(bot):
    envelope = bot.command("help")
    ack = bot.socket.wait_ack(envelope)
    assert ack.payload["response_type"] == "ephemeral" and "Working on it" in ack.payload["text"]
    [call] = bot.posted()
    assert not call.params.get("thread_ts"), "a slash command's answer goes to the channel itself"
    assert "Here is what I can do" in call.params["text"]
    assert any(
        "```" in b.get("text", {}).get("text", "") and "service.restart" in b["text"]["text"]
        for b in call.params["blocks"]
    ), "the help table is a code block"
    assert call.token == fs.BOT_TOKEN


def test_a_mention_is_answered_in_the_thread_of_the_message(bot):
    ev = bot.mention("restart nginx on web-1")
    [call] = bot.posted(thread_ts=ev["ts"])
    assert "Restart nginx on web-1" in call.params["text"]
    assert fs.find_button(call.params["blocks"], "approve")["value"]


def test_a_direct_message_is_answered_in_the_dm(bot):
    bot.dm("help")
    [call] = bot.posted(channel=DM)
    assert not call.params.get("thread_ts")
    assert "Here is what I can do" in call.params["text"]


def test_a_follow_up_in_the_thread_continues_the_conversation(bot):
    first = bot.mention("restart nginx on web-1")
    bot.posted(thread_ts=first["ts"])
    bot.event(fs.message("and on web-2?", user="UALICE", channel=CHANNEL, thread_ts=first["ts"]))
    calls = bot.posted(count=2, thread_ts=first["ts"])
    assert "Restart nginx on web-2" in calls[1].params["text"]


def test_people_talking_in_my_thread_get_no_answer_unless_they_ask_for_something(bot):
    first = bot.mention("restart nginx on web-1")
    bot.posted(thread_ts=first["ts"])
    bot.event(fs.message("ok I'll check with the db team first", user="UBOB", channel=CHANNEL, thread_ts=first["ts"]))
    bot.event(fs.message("top processes on web-2", user="UBOB", channel=CHANNEL, thread_ts=first["ts"]))
    calls = bot.posted(count=2, thread_ts=first["ts"])
    bot.settle()
    assert len(in_thread(bot, first["ts"])) == 2
    assert "web-2" in calls[1].params["text"]


def test_channel_talk_that_is_not_for_the_bot_is_left_alone(bot):
    bot.event(fs.message("restart nginx on web-1", user="UALICE", channel=CHANNEL))  # no mention
    bot.event(fs.message("help", user="UALICE", channel=CHANNEL, thread_ts=fs.new_ts()))  # someone else's thread
    bot.event(fs.message("help", user=None, channel=DM, channel_type="im", bot_id="B0OTHER", subtype="bot_message"))
    bot.event(fs.message("help", user="UBOB", channel=DM, channel_type="im", bot_id="B0OTHER"))
    marker = bot.mention("help")
    bot.posted(thread_ts=marker["ts"])
    bot.settle()
    assert len(bot.api.calls("chat.postMessage")) == 1
    assert count_requests(bot, "restart nginx on web-1") == 0


def test_a_slash_command_question_is_answered_by_clicking_a_choice(bot):
    bot.command("restart nginx")
    [question] = bot.posted()
    assert "Which host" in question.params["text"]
    message = bot.message(question)
    bot.click(message, "choose:1", user="UALICE")  # web-2
    [answer] = bot.posted(thread_ts=message["ts"])
    assert "Restart nginx on web-2" in answer.params["text"]
    [marked] = bot.api.wait_for("chat.update", where=lambda c: c.params["ts"] == message["ts"])
    assert not [b for b in marked.params["blocks"] if b["type"] == "actions"], "the question cannot be answered twice"
    assert "alice chose web-2" in str(marked.params["blocks"])


PRIVATE_PACK = """\
pack: private
rules:
  - intent: help.private
    summary: List what I can do, shown only to you
    examples:
      en: [private help, whisper the help to me, show me the commands privately]
    ephemeral: true
    action: {executor: bot, kind: help}
"""


def test_an_ephemeral_answer_is_shown_only_to_the_asker(tmp_path):
    pack = tmp_path / "packs"
    pack.mkdir()
    (pack / "private.yaml").write_text(PRIVATE_PACK)
    bot = start_socket_bot(tmp_path, extra_rules=pack)
    try:
        bot.socket.wait_ack(bot.command("private help"))
        [note] = bot.api.wait_for("chat.postEphemeral")
        assert note.params["channel"] == CHANNEL and note.params["user"] == "UALICE"
        assert "Here is what I can do" in note.params["text"]
        bot.dm("private help")  # a DM is private already: a plain message there
        bot.posted(channel=DM)
        assert [c.params["channel"] for c in bot.api.calls("chat.postMessage")] == [DM]
    finally:
        stop_socket_bot(bot)


# ---- approvals ------------------------------------------------------------------------------------


def test_the_requester_cannot_approve_and_an_approver_runs_it_exactly_once(bot):
    ev = bot.mention("restart nginx on web-1", user="UALICE")
    [request] = bot.posted(thread_ts=ev["ts"])
    message = bot.message(request)
    approval_id = fs.find_button(message["blocks"], "approve")["value"]

    bot.click(message, "approve", user="UALICE")
    [refusal] = bot.api.wait_for("chat.postEphemeral", where=lambda c: c.params["user"] == "UALICE")
    assert "you asked for this yourself" in refusal.params["text"]
    assert refusal.params["thread_ts"] == ev["ts"]
    assert bot.store.get_approval(approval_id).status == "pending"
    assert count_executions(bot) == 0

    click = bot.click(message, "approve", user="UBOB")
    bot.socket.send_interactive(click)  # Slack delivers the same click again
    bot.click(message, "approve", user="UBOB")  # and bob clicks a second time
    [outcome] = bot.api.wait_for(
        "chat.update", where=lambda c: c.params["ts"] == message["ts"] and "Approved by bob" in c.params["text"]
    )
    assert "Approved by bob" in str(outcome.params["blocks"])
    assert fs.find_button(outcome.params["blocks"], "vote_down") is not None
    [already] = bot.api.wait_for("chat.postEphemeral", where=lambda c: c.params["user"] == "UBOB")
    assert "Already approved by bob" in already.params["text"]
    bot.settle()
    assert count_executions(bot) == 1
    assert bot.store.get_approval(approval_id).status == "executed"
    assert len([c for c in bot.api.calls("chat.update") if "Approved by bob" in c.params["text"]]) == 1


def test_a_denial_updates_the_request_and_runs_nothing(bot):
    ev = bot.mention("restart nginx on web-2", user="UALICE")
    message = bot.message(bot.posted(thread_ts=ev["ts"])[0])
    bot.click(message, "deny", user="UBOB")
    [outcome] = bot.api.wait_for("chat.update", where=lambda c: c.params["ts"] == message["ts"])
    assert "bob denied" in outcome.params["text"] and "nothing was run" in outcome.params["text"]
    assert count_executions(bot) == 0


# ---- feedback -------------------------------------------------------------------------------------


def selection(intent: str, params: str | None) -> dict:
    return {
        "intent": {
            "intent": {
                "type": "static_select",
                "selected_option": {"text": {"type": "plain_text", "text": intent}, "value": intent},
            }
        },
        "params": {"params": {"type": "plain_text_input", "value": params}},
    }


def test_thumbs_down_opens_a_modal_and_the_correction_is_stored(bot):
    bot.dm("what can you do")
    answer = bot.message(bot.posted(channel=DM)[0])
    click = bot.click(answer, "vote_down", user="UALICE", channel=DM)
    [opened] = bot.api.wait_for("views.open")
    assert opened.params["trigger_id"] == click["trigger_id"]
    view = opened.response["view"]
    options = next(b for b in view["blocks"] if b.get("block_id") == "intent")["element"]["options"]
    assert {"help", "metrics.cpu", "service.restart"} <= {o["value"] for o in options}

    bad = bot.socket.send_interactive(fs.view_submission(view, selection("metrics.cpu", "host web-1"), user="UALICE"))
    refused = bot.socket.wait_ack(bad)
    assert refused.payload["response_action"] == "errors" and "key=value" in refused.payload["errors"]["params"]
    unknown = bot.socket.send_interactive(
        fs.view_submission(view, selection("metrics.cpu", "colour=red"), user="UALICE")
    )
    assert "no parameter colour" in bot.socket.wait_ack(unknown).payload["errors"]["params"]

    invalid = bot.socket.send_interactive(
        fs.view_submission(view, selection("metrics.cpu", "host=web-9, window=banana"), user="UALICE")
    )
    assert "web-9" in bot.socket.wait_ack(invalid).payload["errors"]["params"]  # checked against the inventory

    good = bot.socket.send_interactive(
        fs.view_submission(view, selection("metrics.cpu", "host=web-1, window=6h"), user="UALICE")
    )
    assert not bot.socket.wait_ack(good).payload, "a valid correction closes the modal"
    row = wait_until(lambda: next((r for r in bot.store.export_feedback() if r["correction"]), None))
    assert row["text"] == "what can you do"
    assert row["correction"] == {"intent": "metrics.cpu", "params": {"host": "web-1", "window": "6h"}}
    assert row["votes"] == {"up": 0, "down": 1}
    bot.api.wait_for("chat.postMessage", where=lambda c: "correction is stored" in c.params.get("text", ""))


def test_thumbs_up_is_counted(bot):
    bot.dm("help")
    answer = bot.message(bot.posted(channel=DM)[0])
    bot.click(answer, "vote_up", user="UBOB", channel=DM)
    row = wait_until(lambda: next((r for r in bot.store.export_feedback() if r["votes"]["up"]), None))
    assert row["text"] == "help" and row["votes"] == {"up": 1, "down": 0}


# ---- delivery guarantees --------------------------------------------------------------------------


def test_an_event_delivered_three_times_is_answered_once(bot):
    ev = fs.app_mention("restart api on web-1", user="UALICE", channel=CHANNEL)
    body = fs.event_callback(ev)
    envelopes = [bot.socket.send_event(body, retry_attempt=n, retry_reason="timeout" if n else "") for n in range(3)]
    for envelope in envelopes:
        bot.socket.wait_ack(envelope)
    bot.posted(thread_ts=ev["ts"])
    bot.settle()
    assert len(in_thread(bot, ev["ts"])) == 1
    assert count_requests(bot, "restart api on web-1") == 1


def test_a_mention_in_my_thread_arrives_as_two_events_and_is_answered_once(bot):
    first = bot.mention("restart nginx on web-1")
    bot.posted(thread_ts=first["ts"])
    ts = fs.new_ts()
    mention = fs.app_mention("and on web-2?", user="UALICE", channel=CHANNEL, ts=ts, thread_ts=first["ts"])
    message = fs.message(mention["text"], user="UALICE", channel=CHANNEL, ts=ts, thread_ts=first["ts"])
    bot.event(message)
    bot.event(mention)
    bot.posted(count=2, thread_ts=first["ts"])
    bot.settle()
    assert len(in_thread(bot, first["ts"])) == 2
    assert count_requests(bot, "and on web-2?") == 1


def test_a_mention_in_my_thread_is_answered_even_when_its_message_event_comes_first(bot):
    first = bot.mention("restart nginx on web-1")
    bot.posted(thread_ts=first["ts"])
    ts = fs.new_ts()
    mention = fs.app_mention("thanks, what now?", user="UBOB", channel=CHANNEL, ts=ts, thread_ts=first["ts"])
    bot.event(fs.message(mention["text"], user="UBOB", channel=CHANNEL, ts=ts, thread_ts=first["ts"]))
    bot.event(mention)
    calls = bot.posted(count=2, thread_ts=first["ts"])
    assert "not sure what you want" in calls[1].params["text"], "addressed to the bot, so it answers"


def test_old_de_duplication_keys_are_forgotten(bot):
    assert bot.store.mark_event_processed("slack:event:T0FAKE:Ev-old")
    assert not bot.store.mark_event_processed("slack:event:T0FAKE:Ev-old")
    assert bot.service.frontend.sweep(keep=timedelta(0)) >= 1
    assert bot.store.mark_event_processed("slack:event:T0FAKE:Ev-old")


def held_by_a_tarpit(tmp_path, tarpit, **kw):
    """A bot whose Prometheus never answers and whose patience outlasts the test: a query keeps its
    worker busy until the tarpit lets go (its request then fails and the worker finishes)."""
    return start_socket_bot(tmp_path, prometheus_url=f"http://127.0.0.1:{tarpit.port}", prometheus_timeout=300, **kw)


def test_the_ack_does_not_wait_for_the_work(tmp_path):
    with Tarpit() as tarpit:
        bot = held_by_a_tarpit(tmp_path, tarpit)
        try:
            ack = bot.socket.wait_ack(bot.command("cpu on web-1 last 1h"))
            assert "Working on it" in ack.payload["text"]
            assert bot.service.frontend.work.pending == 1, "acked while the work cannot have finished"
            wait_until(lambda: tarpit.held, what="the query reaching Prometheus")
            tarpit.stop()
            [answer] = bot.posted()  # only once the tarpit let go of the query
            assert answer.params["text"] == (
                f"Prometheus at http://127.0.0.1:{tarpit.port} is not answering; is it running?"
            )
        finally:
            tarpit.stop()
            stop_socket_bot(bot)


def test_when_the_queue_is_full_the_ack_says_so_and_nothing_runs(tmp_path):
    with Tarpit() as tarpit:
        bot = held_by_a_tarpit(tmp_path, tarpit, workers=1, max_pending=1)
        try:
            first = bot.socket.wait_ack(bot.command("cpu on web-1 last 1h"))
            assert "Working on it" in first.payload["text"]
            wait_until(lambda: tarpit.held, what="the query reaching Prometheus")
            second = bot.socket.wait_ack(bot.command("help", user="UBOB"))  # answered while the worker is held
            assert "busy" in second.payload["text"] and "nothing was run" in second.payload["text"]
            tarpit.stop()
            bot.settle()
            assert count_requests(bot, "cpu on web-1 last 1h") == 1
            assert count_requests(bot, "help") == 0
        finally:
            tarpit.stop()
            stop_socket_bot(bot)


def test_a_rate_limited_call_is_retried_after_retry_after(bot):
    bot.api.rate_limit_next("chat.postMessage", retry_after=1)
    bot.dm("help")
    bot.posted(channel=DM)
    attempts = bot.api.calls("chat.postMessage", ok_only=False)
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 1.0


def test_a_failure_while_answering_still_ends_in_a_reply(bot):
    bot.api.fail_next("chat.postMessage", "fatal_error")
    ev = bot.mention("help")
    [note] = bot.api.wait_for("chat.postEphemeral")
    assert note.params["user"] == "UALICE" and note.params["thread_ts"] == ev["ts"]
    assert "went wrong on my side" in note.params["text"]


# ---- rich replies (a real Prometheus) -------------------------------------------------------------


def test_a_chart_is_uploaded_into_the_thread(chart_bot):
    ev = chart_bot.mention("cpu on web-1 last 5m")
    [done] = chart_bot.api.wait_for("files.completeUploadExternal")
    assert done.params["channel_id"] == CHANNEL and done.params["thread_ts"] == ev["ts"]
    [file] = done.params["files"]
    methods = [c.method for c in chart_bot.api.calls() if c.method.startswith(("files.", "upload"))]
    assert methods == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]
    png = chart_bot.api.uploads[file["id"]]
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
    [answer] = chart_bot.posted(thread_ts=ev["ts"])
    assert "chart in the thread" in str(answer.params["blocks"])


def test_progress_edits_one_message_that_becomes_the_answer(chart_bot):
    ev = chart_bot.mention("send the digest")
    [progress] = chart_bot.posted(thread_ts=ev["ts"])
    assert progress.params["text"].startswith(":hourglass_flowing_sand:")
    ts = progress.response["ts"]
    final = chart_bot.api.wait_for("chat.update", where=lambda c: c.params["ts"] == ts and "Digest" in c.params["text"])
    chart_bot.settle()
    assert len(in_thread(chart_bot, ev["ts"])) == 1, "progress lines edit one message, they are not posted"
    assert "alerts.list" in final[-1].params["text"]
