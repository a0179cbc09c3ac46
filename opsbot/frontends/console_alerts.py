"""Alerts in the console (`opsbot chat`, `make run`): when the config has `alertmanager.token`, the
console takes Alertmanager's webhooks on its HTTP port (`slack.port`, which the lab points its
Alertmanager at) and prints each alert group, its updates and its diagnosis as they arrive, from a
background thread, so the prompt never waits for them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from opsbot.core.reply import Reply
from opsbot.frontends.alert_webhook import serve_alerts
from opsbot.frontends.console import Console, render
from opsbot.i18n import _
from opsbot.incidents import IncidentDesk, Notification


class ConsolePoster:
    def __init__(self, console: Console):
        self.console = console

    def _show(self, prefix: str, reply: Reply, indent: str = "") -> None:
        text = render(reply, self.console.charts_dir)
        self.console.say("\n" + "\n".join(indent + line for line in f"{prefix} {text}".splitlines()))

    def post(self, channel: str, reply: Reply) -> tuple[str, str]:
        self._show("[alert]", reply)
        return channel, uuid.uuid4().hex

    def update(self, channel: str, ts: str, reply: Reply) -> None:
        self._show("[alert update]", reply.model_copy(update={"buttons": []}))

    def reply_in_thread(self, channel: str, ts: str, reply: Reply) -> None:
        self._show("  [diagnosis]", reply.model_copy(update={"buttons": []}), indent="  ")


def start_console_alerts(app, console: Console, host: str = "127.0.0.1") -> Callable[[], None] | None:
    """Take alerts while the console runs; returns the function that stops it (None: not configured)."""
    settings = app.config.alertmanager
    if not settings.token:
        return None
    desk = IncidentDesk(app.config, app.rules, app.store, app.pipeline, ConsolePoster(console))
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="opsbot-console-alerts")

    def accept(notification: Notification) -> bool:
        pool.submit(_quietly, desk.receive, notification, console)
        return True

    port = app.config.slack.port
    stop_http = serve_alerts(settings.token, accept, host, port)
    console.say(_("Taking Alertmanager's alerts on http://{host}:{port}/alertmanager.").format(host=host, port=port))

    def stop() -> None:
        stop_http()
        pool.shutdown(wait=True, cancel_futures=True)
        desk.close()

    return stop


def _quietly(receive: Callable[[Notification], None], notification: Notification, console: Console) -> None:
    try:
        receive(notification)
    except Exception as e:
        console.say(_("An alert could not be handled: {error}").format(error=f"{type(e).__name__}: {e}"))
