"""POST /alertmanager: Alertmanager's webhook receiver, on `opsbot serve`'s HTTP port in both modes.

Authenticated by a bearer token (`alertmanager.token`; Alertmanager's `http_config.authorization` sends
it). A wrong or missing token is 401 and a malformed body 400, each with one sentence and nothing run;
neither is an error of ours, so neither is logged at ERROR. An accepted notification is acknowledged at
once and handled on the work queue; when the queue is full the answer is 503 and Alertmanager retries.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from opsbot.i18n import _
from opsbot.incidents.payload import MAX_BODY, Notification, PayloadError, parse_notification

log = logging.getLogger(__name__)

PATH = "/alertmanager"


def token_ok(header: str | None, token: str | None) -> bool:
    """Whether the Authorization header carries the configured bearer token (compared in constant time)."""
    if not token or not header:
        return False
    scheme, _sep, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def alertmanager_route(token: str | None, accept: Callable[[Notification], bool]) -> Route:
    """The route; `accept(notification)` queues the work and says whether there was room."""

    async def receive(request: Request) -> Response:
        if not token_ok(request.headers.get("authorization"), token):
            log.info("refused an Alertmanager webhook from %s: wrong or missing token", request.client)
            why = (
                _("Wrong or missing bearer token; set the one in alertmanager.token.")
                if token
                else _("No alertmanager.token is configured, so alert webhooks are refused.")
            )
            return PlainTextResponse(why, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        if int(request.headers.get("content-length") or 0) > MAX_BODY:
            return PlainTextResponse(
                _("The body is larger than {limit} bytes; nothing was done.").format(limit=MAX_BODY), status_code=413
            )
        body = await request.body()
        try:
            notification = parse_notification(body)
        except PayloadError as e:
            log.info("refused an Alertmanager webhook: %s", e)
            return PlainTextResponse(str(e), status_code=400)
        if not accept(notification):
            return PlainTextResponse(_("Busy; nothing was lost, send it again later."), status_code=503)
        return JSONResponse({"ok": True})

    return Route(PATH, receive, methods=["POST"])


def serve_alerts(token: str | None, accept: Callable[[Notification], bool], host: str, port: int) -> Callable[[], None]:
    """POST /alertmanager (and GET /health) on a background thread, for front ends that have no HTTP
    server of their own (the console); returns the function that stops it."""
    from opsbot.frontends.slack import http_server

    app = http_server.asgi_app(None, extra=[alertmanager_route(token, accept)])
    server, thread = http_server.run_in_thread(app, host, port)

    def stop() -> None:
        server.should_exit = True
        thread.join(10)

    return stop
