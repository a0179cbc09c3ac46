"""`opsbot serve` says what is wrong in one line: the libraries' notes (Alembic migrating, Bolt and
slack_sdk talking) stay out of the way unless `--verbose` asks for them."""

from __future__ import annotations

import subprocess

import pytest

from opsbot.testing import fake_slack as fs
from opsbot.testing.serve import clean_env, free_port, opsbot_command

pytestmark = pytest.mark.servers  # the fake Slack Web API


def serve_with_a_refused_token(tmp_path, *flags: str) -> subprocess.CompletedProcess:
    config = tmp_path / "opsbot.yaml"
    config.write_text("parser: {default: offline}\n")
    with fs.FakeSlackWebAPI() as api:
        return subprocess.run(
            [*opsbot_command(), "serve", "--config", str(config), "--port", str(free_port()), *flags],
            env=clean_env(
                SLACK_BOT_TOKEN="not-a-bot-token",  # the fake answers invalid_auth, as Slack does
                SLACK_SIGNING_SECRET=fs.SIGNING_SECRET,
                SLACK_API_URL=api.base_url,
                OPSBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'opsbot.db'}",
            ),
            capture_output=True,
            text=True,
            timeout=120,
        )


def test_a_refused_token_is_one_line(tmp_path):
    done = serve_with_a_refused_token(tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith("opsbot serve: Slack refused the bot token") and "invalid_auth" in done.stderr


def test_verbose_shows_the_libraries_too(tmp_path):
    done = serve_with_a_refused_token(tmp_path, "--verbose")
    assert done.returncode == 2
    assert "alembic" in done.stderr  # the migrations it ran on the fresh database
    assert done.stderr.strip().splitlines()[-1].startswith("opsbot serve: Slack refused the bot token")
