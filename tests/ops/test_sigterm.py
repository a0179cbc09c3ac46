"""SIGTERM (docker stop, a Kubernetes rollout) on a real `opsbot serve`: it stops taking requests, lets
running ones finish within --drain-timeout, records those still running past it as interrupted, and
exits 0 either way."""

from __future__ import annotations

import json
import signal
import sqlite3
import time

import pytest
from waiting import wait_until

from opsbot.testing import fake_slack as fs
from opsbot.testing.serve import ServeProcess, clean_env
from opsbot.testing.tarpit import Tarpit

pytestmark = pytest.mark.servers  # opsbot serve, the fake Web API, a tarpit


def start(tmp_path, api, tarpit, prometheus_timeout: float, drain: float) -> ServeProcess:
    """Prometheus is a tarpit: `cpu on web-1` runs until the client's timeout."""
    config = tmp_path / "opsbot.yaml"
    config.write_text(
        json.dumps(
            {
                "inventory": {"hosts": {"web-1": {"address": "127.0.0.1", "port": tarpit.port}}},
                "access": {"default_roles": ["operator"]},
                "prometheus": {"url": f"http://127.0.0.1:{tarpit.port}", "timeout": prometheus_timeout},
                "parser": {"default": "offline"},
            }
        )
    )
    env = clean_env(
        SLACK_BOT_TOKEN=fs.BOT_TOKEN,
        SLACK_SIGNING_SECRET=fs.SIGNING_SECRET,
        SLACK_API_URL=api.base_url,
        OPSBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'opsbot.db'}",
    )
    return ServeProcess.start(
        config, env, tmp_path / "serve.log", extra_args=["--drain-timeout", str(drain), "--log-format", "json"]
    )


def executions(tmp_path) -> list[str]:
    with sqlite3.connect(tmp_path / "opsbot.db") as conn:
        return [row[0] for row in conn.execute("SELECT status FROM executions")]


def ask_and_stop(server: ServeProcess, tarpit: Tarpit, tmp_path) -> float:
    poster = fs.SignedPoster(server.url(), fs.SIGNING_SECRET)
    assert poster.command(fs.slash_command("cpu on web-1 last 1h", user="U1", channel="C1")).status == 200
    wait_until(lambda: executions(tmp_path) == ["running"] and tarpit.held, what="the execution to start")
    started = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    server.proc.wait(60)
    return time.monotonic() - started


def test_running_work_finishes_within_the_bound_and_the_exit_is_clean(tmp_path):
    with fs.FakeSlackWebAPI() as api, Tarpit() as tarpit:
        server = start(tmp_path, api, tarpit, prometheus_timeout=3, drain=60)
        ask_and_stop(server, tarpit, tmp_path)
        assert server.proc.returncode == 0, server.log_text()
        assert executions(tmp_path) == ["failed"]  # it ran to its end (Prometheus timed out), not cut off
        [answer] = api.wait_for("chat.postMessage")
        assert "Prometheus" in answer.params["text"], answer.params  # the answer reached Slack before the exit


def test_work_still_running_past_the_bound_is_recorded_as_interrupted(tmp_path):
    with fs.FakeSlackWebAPI() as api, Tarpit() as tarpit:
        server = start(tmp_path, api, tarpit, prometheus_timeout=120, drain=1)
        took = ask_and_stop(server, tarpit, tmp_path)
        assert server.proc.returncode == 0, server.log_text()
        assert took < 30  # did not wait for the two-minute Prometheus timeout
        assert executions(tmp_path) == ["interrupted"]
        lines = [json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")]
        assert any("recorded as interrupted" in x["message"] for x in lines)
