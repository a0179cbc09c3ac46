"""The one WebClient the front end uses: Slack's Web API (or the base URL a test points at), with
polite retries: rate limits (HTTP 429, waiting Retry-After), dropped connections and 500/503 answers.
With a Metrics, every failed call and every retry is counted (opsbot_slack_api_errors / _retries)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.web.slack_response import SlackResponse

from opsbot.config.models import SlackConfig

if TYPE_CHECKING:
    from opsbot.metrics import Metrics


class MeteredWebClient(WebClient):
    """A WebClient that counts its failed calls (by method and Slack's error code) in `metrics`."""

    metrics: Metrics | None = None

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        try:
            return super().api_call(api_method, **kwargs)
        except SlackApiError as e:
            if self.metrics is not None:
                self.metrics.slack_error(api_method, str(e.response.get("error") or e.response.status_code))
            raise
        except Exception as e:
            if self.metrics is not None:
                self.metrics.slack_error(api_method, type(e).__name__)
            raise


def _counted(handler: Any, reason: str, metrics: Metrics | None) -> Any:
    """`handler` with its retries counted under `reason`."""
    if metrics is None:
        return handler
    prepare = handler.prepare_for_next_attempt

    def prepare_and_count(*args: Any, **kwargs: Any) -> None:
        metrics.slack_retry(reason)
        prepare(*args, **kwargs)

    handler.prepare_for_next_attempt = prepare_and_count
    return handler


def web_client(config: SlackConfig, timeout: int = 30, metrics: Metrics | None = None) -> WebClient:
    base = config.base_url or WebClient.BASE_URL
    if not base.endswith("/"):
        base += "/"
    client = MeteredWebClient(
        token=config.bot_token,
        base_url=base,
        timeout=timeout,
        retry_handlers=[
            _counted(ConnectionErrorRetryHandler(max_retry_count=2), "connection", metrics),
            _counted(RateLimitErrorRetryHandler(max_retry_count=3), "rate_limited", metrics),
            _counted(ServerErrorRetryHandler(max_retry_count=2), "server_error", metrics),
        ],
    )
    client.metrics = metrics
    return client
