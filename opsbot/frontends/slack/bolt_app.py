"""The Bolt app: which Slack payloads reach which SlackFrontend method. Request signature verification
stays on (Bolt's default); in Socket Mode Slack authenticates the connection instead."""

from __future__ import annotations

import logging
import re

from slack_bolt import App
from slack_sdk import WebClient

from opsbot.frontends.slack.blocks import CORRECTION_CALLBACK
from opsbot.frontends.slack.frontend import SlackFrontend

ACTIONS = re.compile(r"^(approve|deny|choose:\d+|vote_up|vote_down|alert_(ack|silence|suggest):\d+)$")


def _token_note(record: logging.LogRecord) -> bool:
    """Bolt warns that SLACK_BOT_TOKEN is unused when a client is given: by design here (the client
    carries that token), so the warning would only confuse an operator."""
    return "`token` will be unused" not in record.getMessage()


def build_bolt_app(
    frontend: SlackFrontend, client: WebClient, signing_secret: str | None, logger: logging.Logger | None = None
) -> App:
    # process_before_response: our listeners only hand work to a queue, so running them before the
    # response costs microseconds and spares Bolt's polling for the ack.
    logger = logger or logging.getLogger("slack_bolt.App")
    logger.addFilter(_token_note)
    app = App(
        client=client,
        signing_secret=signing_secret or "",
        process_before_response=True,
        request_verification_enabled=True,
        name="opsbot",
        logger=logger,
    )
    app.command(re.compile(r"^/"))(frontend.on_command)
    app.event("app_mention")(frontend.on_event)
    app.event("message")(frontend.on_event)
    app.action(ACTIONS)(frontend.on_action)
    app.view(CORRECTION_CALLBACK)(frontend.on_view)

    @app.error
    def log_error(error, body, logger):
        logger.exception("Slack listener failed: %s (payload type %s)", error, (body or {}).get("type"))

    return app
