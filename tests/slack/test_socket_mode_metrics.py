"""In Socket Mode the HTTP port still serves the operator's endpoints: /metrics counts what the
WebSocket delivered, /ready reports the store."""

from __future__ import annotations

import json
import urllib.request

from opsbot.testing.serve import free_port


def get(port: int, path: str) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as resp:
        return resp.read().decode()


def test_socket_mode_serves_metrics_and_readiness_on_its_http_port(bot):
    port = free_port()
    bot.service.start_side_http("127.0.0.1", port)
    ev = bot.mention("help")
    bot.posted(thread_ts=ev["ts"])
    bot.settle()
    metrics = get(port, "/metrics")
    assert 'opsbot_requests_total{frontend="slack",intent="help",outcome="info"} 1.0' in metrics
    assert "opsbot_work_queue_depth 0.0" in metrics
    assert json.loads(get(port, "/ready")) == {"ready": True}
