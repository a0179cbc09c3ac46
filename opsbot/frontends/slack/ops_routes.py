"""The operator's endpoints on `opsbot serve`'s HTTP port, next to /health:

- `GET /metrics`: the bot's own metrics in the Prometheus text format (opsbot/metrics.py).
- `GET /ready`: 200 when this replica may take traffic (the database answers and its schema is at the
  migrations' head), else 503 with the reason; Kubernetes' readiness probe. /health stays the liveness
  check: it answers while the process serves, whatever the database does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from opsbot.metrics import CONTENT_TYPE, Metrics


def ops_routes(metrics: Metrics, ready_problem: Callable[[], str | None]) -> list[Route]:
    async def metrics_page(request: Request) -> Response:
        # Reading the live figures may query the store: off the event loop, so Slack's acks never wait.
        body = await asyncio.to_thread(metrics.exposition)
        return Response(body, media_type=CONTENT_TYPE)

    async def ready(request: Request) -> Response:
        problem = await asyncio.to_thread(ready_problem)
        if problem:
            return JSONResponse({"ready": False, "problem": problem}, status_code=503)
        return JSONResponse({"ready": True})

    return [Route("/metrics", metrics_page, methods=["GET"]), Route("/ready", ready, methods=["GET"])]
