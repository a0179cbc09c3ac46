"""The app manifest asks for what the front end uses, and the front end listens to what it subscribes."""

from __future__ import annotations

from pathlib import Path

import yaml
from slack_bolt import BoltRequest

from opsbot.testing import fake_slack as fs

MANIFEST = Path(__file__).resolve().parents[2] / "slack-manifest.yaml"


def test_the_manifest_has_the_scopes_events_and_command():
    m = yaml.safe_load(MANIFEST.read_text())
    assert set(m["oauth_config"]["scopes"]["bot"]) == {
        "app_mentions:read",
        "chat:write",
        "commands",
        "files:write",
        "im:history",
        "im:read",
        "channels:history",
        "groups:history",
        "users:read",
    }
    assert set(m["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_mention",
        "message.im",
        "message.channels",
        "message.groups",
    }
    assert [c["command"] for c in m["features"]["slash_commands"]] == ["/ops"]
    assert m["settings"]["interactivity"]["is_enabled"] is True
    assert m["settings"]["socket_mode_enabled"] is True
    urls = [
        m["settings"]["event_subscriptions"]["request_url"],
        m["settings"]["interactivity"]["request_url"],
        m["features"]["slash_commands"][0]["url"],
    ]
    assert all(u.endswith("/slack/events") for u in urls)


def test_every_subscribed_event_and_the_command_have_a_listener(bot):
    """Without a listener Bolt answers 404 ("unhandled request"), and Slack keeps retrying the event."""
    m = yaml.safe_load(MANIFEST.read_text())
    samples = {
        "app_mention": fs.app_mention("help", user="UALICE", channel="C0OPS"),
        "message.im": fs.message("help", user="UALICE", channel="D0ALICE", channel_type="im"),
        "message.channels": fs.message("just talk", user="UALICE", channel="C0OPS"),
        "message.groups": fs.message("just talk", user="UALICE", channel="G0PRIV", channel_type="group"),
    }
    bodies = [fs.event_callback(samples[e]) for e in m["settings"]["event_subscriptions"]["bot_events"]]
    bodies.append(fs.slash_command("help", user="UALICE", channel="C0OPS"))
    unknown = fs.event_callback({"type": "reaction_added", "user": "UALICE", "reaction": "eyes"})
    for body in bodies:
        assert bot.service.bolt.dispatch(BoltRequest(body=body, mode="socket_mode")).status == 200, body
    assert bot.service.bolt.dispatch(BoltRequest(body=unknown, mode="socket_mode")).status == 404, (
        "the check above can fail"
    )
