"""HTTP mode: Slack's Events API, interactivity and slash commands, served by uvicorn through Bolt's
Starlette adapter (not Bolt's development server), plus GET /health.

Slack's request URLs: POST /slack/events for all three (as Bolt documents it); /slack/commands and
/slack/interactive are accepted too, for apps set up with separate URLs.
"""

from __future__ import annotations

import logging
import threading
from urllib.parse import parse_qsl

import uvicorn
from slack_bolt import App, BoltContext, BoltRequest
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_bolt.request.internals import build_context
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from opsbot.frontends.slack.inbound_body import check_shape, check_signature

log = logging.getLogger(__name__)

SLACK_PATHS = ("/slack/events", "/slack/commands", "/slack/interactive")
MAX_BODY = 1_000_000  # Slack's payloads are a few KB; anything this big is not from Slack


def repair_form_body(req: BoltRequest) -> BoltRequest:
    """Bolt takes any form body in which the letters "payload" occur for an interactivity payload
    (`payload=<json>`); a slash command like `/ops search logs for payload errors` then parses to
    nothing and is dropped as unhandled. Such bodies are parsed here as the plain forms they are.
    The signature check still runs on the untouched raw body."""
    if req.body or not req.raw_body or req.raw_body.startswith("{") or req.content_type == "application/json":
        return req
    params = dict(parse_qsl(req.raw_body, keep_blank_values=True))
    if not params or "payload" in params:
        return req
    req.body = params
    req.context = build_context(BoltContext(dict(req.context)), params)
    return req


def asgi_app(
    bolt: App | None,
    health: dict | None = None,
    status=None,
    extra: list[Route] | None = None,
    signing_secret: str | None = None,
) -> Starlette:
    """The ASGI app uvicorn serves. `status()` adds live figures (queue length) to /health; `extra` routes
    (POST /alertmanager) come along. Without `bolt` (Socket Mode) there are no Slack routes. With
    `signing_secret`, Slack bodies are checked before Bolt parses them (Bolt checks again)."""

    async def slack(request: Request):
        if int(request.headers.get("content-length") or 0) > MAX_BODY:
            return PlainTextResponse("request too large", status_code=413)
        body = await request.body()
        # Signature first, on the raw bytes; then the shape. Neither builds anything from the body
        # before it is known to be Slack's, and neither logs a traceback.
        refusal = check_signature(signing_secret, body, request.headers) if signing_secret else None
        refusal = refusal or check_shape(body, request.headers.get("content-type", ""))
        if refusal is not None:
            log.info("refused a Slack request on %s: %s (HTTP %d)", request.url.path, refusal.reason, refusal.status)
            return PlainTextResponse(refusal.reason, status_code=refusal.status)
        bolt_request = repair_form_body(to_bolt_request(request, body))
        # Bolt is synchronous, yet dispatching right here on the event loop is safe and fastest: the
        # signature check is a HMAC, auth.test was answered at start-up, and every opsbot listener only
        # looks at the payload and hands the work to a queue (no I/O on this path; keep it that way).
        # A thread hop per request doubled the ack latency under load (see bench.py).
        assert bolt is not None
        response = bolt.dispatch(bolt_request)
        return to_starlette_response(response)

    async def healthz(request: Request):
        return JSONResponse({"ok": True, **(health or {}), **(status() if status else {})})

    routes = [Route(path, slack, methods=["POST"]) for path in SLACK_PATHS] if bolt is not None else []
    routes.append(Route("/health", healthz, methods=["GET"]))
    routes += extra or []
    return Starlette(routes=routes)


def server(app: Starlette, host: str, port: int) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=10,
        log_config=None,  # uvicorn's loggers go through opsbot's handler (JSON lines with --log-format json)
    )
    return uvicorn.Server(config)


def run_in_thread(app: Starlette, host: str, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    """Serve in a background thread (Socket Mode's HTTP port); stop with `server.should_exit = True`."""
    srv = server(app, host, port)
    thread = threading.Thread(target=srv.run, name="opsbot-http", daemon=True)
    thread.start()
    return srv, thread


def run(app: Starlette, host: str, port: int) -> None:
    """Serve until SIGINT/SIGTERM (uvicorn handles both and finishes open requests)."""
    log.info("opsbot Slack HTTP mode: POST http://%s:%d/slack/events, GET /health", host, port)
    server(app, host, port).run()
