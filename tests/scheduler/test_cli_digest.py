"""`opsbot digest run NAME [--post]`: one digest now, printed; with --post also in its Slack channel."""

import subprocess
import sys

import pytest
from digest_helpers import write_config

from opsbot.testing import fake_slack as fs

pytestmark = pytest.mark.slow  # each spec starts the opsbot script

DAILY = {"daily": {"channel": "C0DIGEST", "schedule": "09:00", "intents": ["help"]}}


def opsbot(*args, env=None):
    import os

    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPSBOT_", "OPENAI_"))}
    return subprocess.run(
        [sys.executable, "-m", "opsbot", *args],
        capture_output=True,
        text=True,
        env={**clean, **(env or {})},
        timeout=120,
    )


def test_digest_run_prints_the_digest_and_audits_it(tmp_path):
    cfg = write_config(tmp_path, DAILY)
    p = opsbot("digest", "run", "daily", "--config", str(cfg))
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("Digest daily\n• help: Here is what I can do")
    assert "digest.send" in p.stdout  # the help table, rendered for a terminal
    import sqlite3

    actors = {
        r[0]
        for r in sqlite3.connect(tmp_path / "opsbot.db").execute(
            "select actor from audit_log where kind = 'execution.started'"
        )
    }
    assert actors == {"cli"}


def test_digest_run_names_the_known_digests_when_the_name_is_wrong(tmp_path):
    p = opsbot("digest", "run", "weekly", "--config", str(write_config(tmp_path, DAILY)))
    assert p.returncode == 2
    assert "no digest called 'weekly' (known: daily)" in p.stderr


def test_digest_run_post_without_slack_says_what_is_missing(tmp_path):
    p = opsbot("digest", "run", "daily", "--post", "--config", str(write_config(tmp_path, DAILY)))
    assert p.returncode == 2 and "SLACK_BOT_TOKEN" in p.stderr


@pytest.mark.servers
def test_digest_run_post_posts_it_to_the_digest_channel(tmp_path):
    with fs.FakeSlackWebAPI() as api:
        cfg = write_config(tmp_path, DAILY, slack={"bot_token": fs.BOT_TOKEN, "base_url": api.base_url})
        p = opsbot("digest", "run", "daily", "--post", "--config", str(cfg))
        assert p.returncode == 0, p.stderr
        [call] = api.calls("chat.postMessage")
    assert call.params["channel"] == "C0DIGEST" and "Digest daily" in call.params["text"]
    assert f"posted to C0DIGEST (ts {call.response['ts']})" in p.stdout


@pytest.mark.servers
def test_digest_run_post_reports_a_refusal_from_slack(tmp_path):
    with fs.FakeSlackWebAPI() as api:
        api.fail_next("chat.postMessage", "channel_not_found")
        cfg = write_config(tmp_path, DAILY, slack={"bot_token": fs.BOT_TOKEN, "base_url": api.base_url})
        p = opsbot("digest", "run", "daily", "--post", "--config", str(cfg))
    assert p.returncode == 1 and "posting to C0DIGEST failed" in p.stderr and "channel_not_found" in p.stderr
