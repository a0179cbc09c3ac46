"""The Slack front end (`opsbot serve`): Socket Mode or HTTP (Events API), Block Kit replies, approvals,
clarifying choices, votes and corrections. The core never imports this package."""

from opsbot.frontends.slack.service import SlackService, SlackSetupError, serve

__all__ = ["SlackService", "SlackSetupError", "serve"]
