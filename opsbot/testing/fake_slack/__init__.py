"""Local stand-ins for Slack, one per module, so the real slack_bolt / slack_sdk code runs against something that speaks
Slack's protocols on 127.0.0.1 (Bolt's own tests do the same).

- web_api.py, `FakeSlackWebAPI`: an HTTP server for the Web API methods opsbot uses (auth.test, chat.postMessage,
  chat.update, chat.postEphemeral, views.open, the files_upload_v2 sequence files.getUploadURLExternal →
  upload to a URL it serves → files.completeUploadExternal, apps.connections.open, and response_url
  posts). It records every call with its parameters and can be told to answer the next call of a
  method with HTTP 429 + Retry-After, or with an API error.
- socket_mode.py, `FakeSocketMode`: a WebSocket server speaking the Socket Mode envelope protocol (hello; events_api,
  slash_commands and interactive envelopes with an envelope_id; it records acks by envelope id).
- payloads.py: payload builders shaped like what Slack sends (event callbacks, slash commands, block actions,
  view submissions); signed_http.py: `signed_headers`, the v0 request signature, and `SignedPoster`,
  for HTTP mode; workspace.py: the fake team's ids and tokens.

Nothing here talks to anything but the loopback interface.
"""

from opsbot.testing.fake_slack.payloads import (
    app_mention,
    block_action,
    event_callback,
    find_button,
    message,
    slash_command,
    view_submission,
)
from opsbot.testing.fake_slack.signed_http import (
    Posted,
    SignedPoster,
    command_body,
    interactive_body,
    signature,
    signed_headers,
)
from opsbot.testing.fake_slack.socket_mode import Ack, FakeSocketMode
from opsbot.testing.fake_slack.web_api import Call, FakeSlackWebAPI
from opsbot.testing.fake_slack.workspace import (
    APP_ID,
    APP_TOKEN,
    BOT_ID,
    BOT_TOKEN,
    BOT_USER_ID,
    SIGNING_SECRET,
    TEAM_ID,
    new_id,
    new_ts,
)

__all__ = [
    "APP_ID",
    "APP_TOKEN",
    "BOT_ID",
    "BOT_TOKEN",
    "BOT_USER_ID",
    "SIGNING_SECRET",
    "TEAM_ID",
    "Ack",
    "Call",
    "FakeSlackWebAPI",
    "FakeSocketMode",
    "Posted",
    "SignedPoster",
    "app_mention",
    "block_action",
    "command_body",
    "event_callback",
    "find_button",
    "interactive_body",
    "message",
    "new_id",
    "new_ts",
    "signature",
    "signed_headers",
    "slash_command",
    "view_submission",
]
