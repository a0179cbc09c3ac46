"""Helpers for the Slack front end specs: the real opsbot App (rules, store, parser, pipeline), the real
slack_bolt / slack_sdk code, and Slack replaced by the local servers in opsbot.testing.fake_slack.

Inventory hosts live at 127.0.0.1 on a port where nothing listens, so anything that does get executed
over SSH fails fast with a clear sentence, and still leaves its execution row in the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml
from waiting import DEADLINE

from opsbot.app import build_app
from opsbot.config import load_config
from opsbot.frontends.slack import SlackService
from opsbot.lab.process import free_port as closed_port  # nothing listens there: a connection fails at once
from opsbot.testing import fake_slack as fs

USERS = {"UALICE": "alice", "UBOB": "bob", "UCAROL": "carol"}
CHANNEL = "C0OPS"
DM = "D0ALICE"
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def write_config(
    directory: Path,
    *,
    prometheus_url: str | None = None,
    prometheus_timeout: float = 5,
    slack: dict | None = None,
    extra_rules: Path | None = None,
    digests: dict | None = None,
    extra: dict | None = None,
) -> Path:
    nobody = closed_port()
    known_hosts = directory / "known_hosts"
    known_hosts.write_text("")
    hosts = {
        name: {"address": "127.0.0.1", "port": nobody, "services": ["nginx", "api"], "groups": ["web"]}
        for name in ("web-1", "web-2")
    }
    data = {
        "inventory": {"hosts": hosts},
        "access": {
            "default_roles": ["viewer"],
            "users": {"alice": ["operator"], "bob": ["operator", "approver"], "carol": ["viewer"]},
        },
        "slack": {"users": USERS, **(slack or {})},
        "ssh": {"connect_timeout": 2, "command_timeout": 5, "known_hosts": str(known_hosts)},
        "prometheus": {"url": prometheus_url or f"http://127.0.0.1:{nobody}", "timeout": prometheus_timeout},
        "database_url": f"sqlite:///{directory / 'opsbot.db'}",
        "parser": {"default": "offline"},
    }
    if extra_rules:
        data["rules"] = {"dirs": [str(extra_rules)]}
    if digests:
        data["digests"] = digests
    data.update(extra or {})  # more config sections (alertmanager, ...)
    path = directory / "opsbot.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@dataclass
class SocketBot:
    """`opsbot serve` in Socket Mode, in this process, against the fakes."""

    app: object
    service: SlackService
    api: fs.FakeSlackWebAPI
    socket: fs.FakeSocketMode

    @property
    def store(self):
        return self.app.store

    # ---- what Slack would deliver
    def command(self, text: str, user: str = "UALICE", channel: str = CHANNEL, **kw) -> str:
        return self.socket.send_command(
            fs.slash_command(text, user=user, channel=channel, response_url=self.api.response_url(), **kw)
        )

    def event(self, event: dict, **kw) -> str:
        event_id = kw.pop("event_id", None)
        return self.socket.send_event(fs.event_callback(event, event_id=event_id), **kw)

    def mention(self, text: str, user: str = "UALICE", channel: str = CHANNEL, **kw) -> dict:
        ev = fs.app_mention(text, user=user, channel=channel, **kw)
        self.event(ev)
        return ev

    def dm(self, text: str, user: str = "UALICE", channel: str = DM, **kw) -> dict:
        ev = fs.message(text, user=user, channel=channel, channel_type="im", **kw)
        self.event(ev)
        return ev

    def click(self, message: dict, action_prefix: str, user: str, channel: str = CHANNEL, **kw) -> dict:
        """Click the first button whose action_id starts with `action_prefix` in a posted message."""
        button = fs.find_button(message["blocks"], action_prefix)
        payload = fs.block_action(
            button["action_id"],
            button["value"],
            user=user,
            channel=channel,
            message=message,
            block_id=button["block_id"],
            response_url=self.api.response_url(),
            **kw,
        )
        self.socket.send_interactive(payload)
        return payload

    # ---- what the bot did
    def posted(self, channel: str = CHANNEL, count: int = 1, timeout: float = DEADLINE, **match) -> list[fs.Call]:
        def fits(c: fs.Call) -> bool:
            return c.params.get("channel") == channel and all(c.params.get(k) == v for k, v in match.items())

        return self.api.wait_for("chat.postMessage", count, timeout, where=fits)

    def message(self, call: fs.Call) -> dict:
        """A posted message as Slack would hand it back in a click (with ts and blocks)."""
        ts = call.response["ts"]
        return dict(self.api.messages[(call.params["channel"], ts)])

    def settle(self, timeout: float = DEADLINE) -> None:
        """Wait until everything delivered so far is dealt with: every envelope acknowledged (so its
        listener has run and handed its work over) and that work finished. What has not happened by
        then will not happen."""
        self.socket.wait_all_acked(timeout)
        frontend = self.service.frontend
        assert frontend.work.wait_idle(timeout) and frontend.quick.wait_idle(timeout), (
            f"the bot's work queues were still busy after {timeout:.0f}s"
        )

    def executions(self, requester: str = "alice", rule: str = "service.restart") -> int:
        return self.store.count_executions(requester, rule, EPOCH)


def start_socket_bot(directory: Path, *, workers: int = 4, max_pending: int | None = None, **config_kw) -> SocketBot:
    sock = fs.FakeSocketMode().start()
    api = fs.FakeSlackWebAPI(socket_mode=sock).start()
    path = write_config(
        directory, slack={"bot_token": fs.BOT_TOKEN, "app_token": fs.APP_TOKEN, "base_url": api.base_url}, **config_kw
    )
    app = build_app(load_config(path))
    service = SlackService(app, workers=workers, max_pending=max_pending, progress_interval=0.1)
    service.connect_socket_mode()
    sock.wait_connected()
    return SocketBot(app=app, service=service, api=api, socket=sock)


def stop_socket_bot(bot: SocketBot) -> None:
    bot.socket.stop()  # first: the client's reader then returns at once instead of timing out
    bot.service.close()
    bot.app.close()
    bot.api.stop()
