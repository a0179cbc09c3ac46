"""What Slack sends, as the core sees it; and the form-body pitfall of Bolt's parser."""

from __future__ import annotations

from slack_bolt import BoltRequest

from opsbot.frontends.slack.http_server import repair_form_body
from opsbot.frontends.slack.inbound import clean_text, ignorable_message
from opsbot.testing import fake_slack as fs


def test_mentions_links_and_escapes_are_undone():
    assert (
        clean_text("<@U0BOT> restart nginx on <http://web-1.example.com|web-1.example.com>", "U0BOT")
        == "restart nginx on web-1.example.com"
    )
    assert (
        clean_text("grep &lt;error&gt; &amp; warn in <#C1|ops> for <@U2>", "U0BOT")
        == "grep <error> & warn in #ops for @U2"
    )
    assert clean_text("<@U0BOT>", "U0BOT") == ""


def test_bot_messages_edits_and_joins_are_ignored():
    assert ignorable_message({"type": "message", "user": "U1", "bot_id": "B1", "text": "hi"})
    assert ignorable_message({"type": "message", "subtype": "message_changed", "text": "hi"})
    assert ignorable_message({"type": "message", "subtype": "channel_join", "user": "U1"})
    assert not ignorable_message({"type": "message", "user": "U1", "text": "hi"})
    assert not ignorable_message({"type": "message", "subtype": "thread_broadcast", "user": "U1", "text": "hi"})


def test_bolt_drops_a_form_body_that_mentions_payload_and_the_repair_parses_it():
    body = fs.command_body(fs.slash_command("search logs for payload errors", user="U1", channel="C1"))
    headers = {"content-type": ["application/x-www-form-urlencoded"]}
    plain = BoltRequest(body=body, headers=headers)
    assert plain.body == {}, "Bolt's own parser: the pitfall this repair exists for (remove it once Bolt fixes it)"
    fixed = repair_form_body(BoltRequest(body=body, headers=headers))
    assert fixed.body["text"] == "search logs for payload errors" and fixed.body["command"] == "/ops"
    assert fixed.context.team_id == fs.TEAM_ID and fixed.context.user_id == "U1"
    assert fixed.raw_body == body, "the signature is checked on the raw body, untouched"


def test_a_real_interactive_payload_is_left_to_bolt():
    body = fs.interactive_body({"type": "block_actions", "user": {"id": "U1"}, "actions": []})
    req = repair_form_body(BoltRequest(body=body, headers={"content-type": ["application/x-www-form-urlencoded"]}))
    assert req.body["type"] == "block_actions"


def test_the_test_signer_computes_slacks_v0_signature():
    from slack_sdk.signature import SignatureVerifier

    body, ts = fs.command_body(fs.slash_command("help", user="U1", channel="C1")), "1700000000"
    verifier = SignatureVerifier(fs.SIGNING_SECRET, clock=type("C", (), {"now": staticmethod(lambda: 1700000010.0)})())
    assert fs.signature(fs.SIGNING_SECRET, body, ts) == verifier.generate_signature(timestamp=ts, body=body)
    assert verifier.is_valid(body, ts, fs.signature(fs.SIGNING_SECRET, body, ts))
    assert not verifier.is_valid(body, ts, fs.signature("other-secret", body, ts))
