"""The one WebClient the front end uses: Slack's Web API (or the base URL a test points at), with
polite retries: rate limits (HTTP 429, waiting Retry-After), dropped connections and 500/503 answers."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from opsbot.config.models import SlackConfig


def web_client(config: SlackConfig, timeout: int = 30) -> WebClient:
    base = config.base_url or WebClient.BASE_URL
    if not base.endswith("/"):
        base += "/"
    return WebClient(
        token=config.bot_token,
        base_url=base,
        timeout=timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )
