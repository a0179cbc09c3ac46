"""Helpers for the incident specs: `opsbot serve` (Socket Mode, in this process) with its HTTP port
taking Alertmanager's webhooks, the fake Slack Web API, and replicas sharing the bot's database."""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from slack_helpers import SocketBot, start_socket_bot, stop_socket_bot
from waiting import wait_until

from opsbot.app import build_app
from opsbot.config import load_config
from opsbot.frontends.slack import SlackService
from opsbot.testing.alert_payloads import send
from opsbot.testing.serve import free_port

TOKEN = "am-secret-token"
ALERTS = "C0ALERTS"


@dataclass
class IncidentBot:
    bot: SocketBot
    port: int
    replicas: list[tuple[object, SlackService, int]] = field(default_factory=list)

    @property
    def api(self):
        return self.bot.api

    @property
    def store(self):
        return self.bot.store

    def url(self, port: int | None = None) -> str:
        return f"http://127.0.0.1:{port or self.port}/alertmanager"

    def send(self, payload, token: str | None = TOKEN, port: int | None = None) -> tuple[int, str]:
        return send(self.url(port), payload, token)

    def alert_posts(self, channel: str = ALERTS) -> list:
        """Top-level messages in the alert channel (not the answers in their threads)."""
        return [
            c
            for c in self.api.calls("chat.postMessage")
            if c.params.get("channel") == channel and not c.params.get("thread_ts")
        ]

    def settle(self) -> None:
        self.bot.settle()
        for _app, service, _port in self.replicas:
            assert service.frontend.work.wait_idle(60)
        self.bot.service.incidents.flush_storms()

    def replica(self) -> int:
        """Another `opsbot serve` on the same database and Slack workspace; returns its HTTP port."""
        app = build_app(load_config(self.bot.app.config.source))
        service = SlackService(app, workers=4)
        port = free_port()
        service.start_side_http("127.0.0.1", port)
        wait_health(port)
        self.replicas.append((app, service, port))
        return port


def wait_health(port: int) -> None:
    def up() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as resp:
                return bool(json.loads(resp.read()).get("ok"))
        except OSError:
            return False

    wait_until(up, what="the bot's HTTP port")


def start_incident_bot(
    directory: Path, *, alertmanager: dict | None = None, bind_port: int | None = None, **kw
) -> IncidentBot:
    extra = {"alertmanager": {"token": TOKEN, "channel": ALERTS, **(alertmanager or {})}, **kw.pop("extra", {})}
    bot = start_socket_bot(directory, extra=extra, **kw)
    port = bind_port or free_port()
    bot.service.start_side_http("127.0.0.1", port)
    wait_health(port)
    return IncidentBot(bot, port)


def stop_incident_bot(ib: IncidentBot) -> None:
    for app, service, _port in ib.replicas:
        service.close()
        app.close()
    stop_socket_bot(ib.bot)
