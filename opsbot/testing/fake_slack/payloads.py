"""Payloads shaped as Slack sends them: event callbacks, mentions, messages, slash commands, block
actions, view submissions."""

from __future__ import annotations

import json
import time
import uuid

from opsbot.testing.fake_slack.workspace import APP_ID, BOT_USER_ID, TEAM_ID, new_id, new_ts


def event_callback(event: dict, *, team_id: str = TEAM_ID, event_id: str | None = None) -> dict:
    """The Events API body around one event."""
    return {
        "token": "legacy-verification-token",
        "team_id": team_id,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or new_id("Ev"),
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }


def app_mention(text: str, *, user: str, channel: str, ts: str | None = None, thread_ts: str | None = None) -> dict:
    ts = ts or new_ts()
    ev = {
        "type": "app_mention",
        "user": user,
        "text": f"<@{BOT_USER_ID}> {text}",
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "team": TEAM_ID,
    }
    if thread_ts:
        ev["thread_ts"] = thread_ts
    return ev


def message(
    text: str,
    *,
    user: str | None,
    channel: str,
    channel_type: str = "channel",
    ts: str | None = None,
    thread_ts: str | None = None,
    **extra,
) -> dict:
    """A `message` event (message.channels / message.im); extra keys (bot_id, subtype) as given."""
    ts = ts or new_ts()
    ev = {
        "type": "message",
        "text": text,
        "ts": ts,
        "channel": channel,
        "channel_type": channel_type,
        "event_ts": ts,
        "team": TEAM_ID,
        **extra,
    }
    if user:
        ev["user"] = user
    if thread_ts:
        ev["thread_ts"] = thread_ts
    return ev


def slash_command(
    text: str,
    *,
    user: str,
    channel: str,
    command: str = "/ops",
    team_id: str = TEAM_ID,
    response_url: str = "http://127.0.0.1:9/response/none",
    trigger_id: str | None = None,
) -> dict:
    """A slash command's fields (form-encoded in HTTP mode, a JSON object in Socket Mode)."""
    return {
        "token": "legacy-verification-token",
        "team_id": team_id,
        "team_domain": "fake",
        "channel_id": channel,
        "channel_name": "ops",
        "user_id": user,
        "user_name": user.lower(),
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or f"{time.time_ns()}.{uuid.uuid4().hex[:8]}",
    }


def block_action(
    action_id: str,
    value: str,
    *,
    user: str,
    channel: str,
    message: dict,
    block_id: str = "b",
    team_id: str = TEAM_ID,
    trigger_id: str | None = None,
    response_url: str = "http://127.0.0.1:9/response/none",
) -> dict:
    """A click on a button in `message` (a dict with at least ts, and thread_ts when in a thread)."""
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team_id},
        "api_app_id": APP_ID,
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel,
            "is_ephemeral": False,
            **({"thread_ts": message["thread_ts"]} if message.get("thread_ts") else {}),
        },
        "trigger_id": trigger_id or f"{time.time_ns()}.{uuid.uuid4().hex[:8]}",
        "team": {"id": team_id, "domain": "fake"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": "ops"},
        "message": message,
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "type": "button",
                "text": {"type": "plain_text", "text": value[:20]},
                "action_ts": str(time.time()),
            }
        ],
    }


def view_submission(view: dict, values: dict[str, dict[str, dict]], *, user: str, team_id: str = TEAM_ID) -> dict:
    """The submission of a modal as opened with views.open (`view` as the fake returned it)."""
    submitted = {**view, "state": {"values": values}}
    return {
        "type": "view_submission",
        "team": {"id": team_id, "domain": "fake"},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team_id},
        "api_app_id": APP_ID,
        "token": "legacy-verification-token",
        "trigger_id": f"{time.time_ns()}.{uuid.uuid4().hex[:8]}",
        "view": submitted,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def find_button(blocks: list[dict], action_prefix: str) -> dict:
    """The first button in `blocks` whose action_id starts with `action_prefix` (with its block_id)."""
    for block in blocks:
        for el in block.get("elements", []) if block.get("type") == "actions" else []:
            if el.get("type") == "button" and el.get("action_id", "").startswith(action_prefix):
                return {**el, "block_id": block.get("block_id", "b")}
    raise AssertionError(f"no button {action_prefix!r} in {json.dumps(blocks)[:500]}")
