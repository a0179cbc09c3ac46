"""`opsbot serve` in HTTP mode, as a real subprocess: uvicorn, Bolt's Starlette adapter, Bolt's signature
check; requests signed with Slack's v0 scheme by the test; the Web API is the local fake."""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from slack_helpers import CHANNEL, write_config
from waiting import wait_until

from opsbot.testing import fake_slack as fs
from opsbot.testing.serve import ServeProcess, clean_env, free_port, opsbot_command

pytestmark = pytest.mark.servers  # opsbot serve and the fake Web API


class HttpBot:
    def __init__(self, server: ServeProcess, api: fs.FakeSlackWebAPI, db: str):
        self.server = server
        self.api = api
        self.db = db
        self.slack = fs.SignedPoster(server.url(), fs.SIGNING_SECRET)

    def requests(self, text: str) -> int:
        with sqlite3.connect(self.db) as conn:
            return conn.execute("SELECT count(*) FROM requests WHERE text = ?", (text,)).fetchone()[0]

    def executions(self, intent: str) -> int:
        with sqlite3.connect(self.db) as conn:
            return conn.execute("SELECT count(*) FROM executions WHERE intent = ?", (intent,)).fetchone()[0]

    def posted(self, count: int = 1, **match) -> list[fs.Call]:
        return self.api.wait_for(
            "chat.postMessage", count, where=lambda c: all(c.params.get(k) == v for k, v in match.items())
        )

    def settle(self) -> None:
        """Wait until the work queue is empty. Bolt runs the listeners before it answers, so everything
        answered so far has handed its work over: once the queue is empty, that work has finished."""
        wait_until(lambda: self.server.health()["pending"] == 0, what="an idle work queue")


@pytest.fixture(scope="module")
def http_bot(tmp_path_factory):
    directory = tmp_path_factory.mktemp("http-mode")
    api = fs.FakeSlackWebAPI().start()
    config = write_config(directory)
    db = directory / "served.db"
    env = clean_env(
        SLACK_BOT_TOKEN=fs.BOT_TOKEN,
        SLACK_SIGNING_SECRET=fs.SIGNING_SECRET,
        SLACK_API_URL=api.base_url,
        OPSBOT_DATABASE_URL=f"sqlite:///{db}",
    )
    server = ServeProcess.start(config, env, directory / "serve.log", workers=4)
    yield HttpBot(server, api, str(db))
    server.stop()
    api.stop()


@pytest.fixture
def bot(http_bot):
    http_bot.api.reset()
    assert http_bot.server.proc.poll() is None, http_bot.server.log_text()
    return http_bot


def test_health_answers(bot):
    health = bot.server.health()
    assert health["ok"] is True and health["mode"] == "http" and health["workers"] == 4


def test_a_signed_slash_command_is_acked_and_answered(bot):
    response = bot.slack.command(fs.slash_command("help", user="UALICE", channel=CHANNEL))
    assert response.status == 200
    assert response.json()["response_type"] == "ephemeral" and "Working on it" in response.json()["text"]
    [call] = bot.posted(channel=CHANNEL)
    assert "Here is what I can do" in call.params["text"] and call.token == fs.BOT_TOKEN


def test_a_slash_command_that_says_payload_still_works(bot):
    text = "search logs for payload errors"
    response = bot.slack.command(fs.slash_command(text, user="UALICE", channel=CHANNEL))
    assert response.status == 200 and "Working on it" in response.body
    bot.posted(channel=CHANNEL)
    assert bot.requests(text) == 1


def test_a_bad_signature_is_rejected_and_nothing_runs(bot):
    text = "restart nginx on web-1 (forged)"
    response = bot.slack.command(fs.slash_command(text, user="UALICE", channel=CHANNEL), secret="not-the-secret")
    assert response.status == 401
    body = fs.command_body(fs.slash_command(text, user="UALICE", channel=CHANNEL))
    tampered = bot.slack.post(body, headers={"X-Slack-Signature": "v0=" + "0" * 64})
    assert tampered.status == 401
    bot.settle()
    assert bot.api.calls("chat.postMessage") == [] and bot.requests(text) == 0


def test_a_request_older_than_five_minutes_is_rejected_even_when_signed(bot):
    text = "help (replayed)"
    response = bot.slack.command(
        fs.slash_command(text, user="UALICE", channel=CHANNEL), timestamp=int(time.time()) - 6 * 60
    )
    assert response.status == 401
    bot.settle()
    assert bot.api.calls("chat.postMessage") == [] and bot.requests(text) == 0


def test_the_same_event_delivered_three_times_runs_once(bot):
    ev = fs.app_mention("restart api on web-2", user="UALICE", channel=CHANNEL)
    body = fs.event_callback(ev)
    statuses = [
        bot.slack.event(
            body, headers={"X-Slack-Retry-Num": str(n), "X-Slack-Retry-Reason": "http_timeout"} if n else None
        ).status
        for n in range(3)
    ]
    assert statuses == [200, 200, 200]
    bot.posted(thread_ts=ev["ts"])
    bot.settle()
    assert len(bot.api.calls("chat.postMessage")) == 1
    assert bot.requests("restart api on web-2") == 1


def test_url_verification_is_answered(bot):
    response = bot.slack.event({"token": "x", "challenge": "c-123", "type": "url_verification"})
    assert response.status == 200 and "c-123" in response.body


def test_an_approval_click_over_http_runs_once(bot):
    ev = fs.app_mention("restart nginx on web-2", user="UALICE", channel=CHANNEL)
    assert bot.slack.event(fs.event_callback(ev)).status == 200
    [request] = bot.posted(thread_ts=ev["ts"])
    message = dict(bot.api.messages[(CHANNEL, request.response["ts"])])
    button = fs.find_button(message["blocks"], "approve")
    click = fs.block_action(
        "approve", button["value"], user="UBOB", channel=CHANNEL, message=message, block_id=button["block_id"]
    )
    assert bot.slack.interactive(click).status == 200
    assert bot.slack.interactive(click).status == 200  # delivered twice
    bot.api.wait_for("chat.update", where=lambda c: "Approved by bob" in c.params["text"])
    bot.settle()
    assert bot.executions("service.restart") == 1


# ---- set-up mistakes are named before anything starts ---------------------------------------------


def run_serve(tmp_path, **env) -> subprocess.CompletedProcess:
    config = write_config(tmp_path)
    return subprocess.run(
        [*opsbot_command(), "serve", "--config", str(config), "--host", "127.0.0.1", "--port", str(free_port())],
        env=clean_env(OPSBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}", **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_without_a_bot_token_says_what_to_set(tmp_path):
    done = run_serve(tmp_path)
    assert done.returncode == 2 and "SLACK_BOT_TOKEN" in done.stderr


def test_http_mode_without_a_signing_secret_says_what_to_set(tmp_path):
    done = run_serve(tmp_path, SLACK_BOT_TOKEN=fs.BOT_TOKEN, SLACK_API_URL="http://127.0.0.1:9/api/")
    assert done.returncode == 2 and "SLACK_SIGNING_SECRET" in done.stderr


def test_a_refused_bot_token_is_reported(tmp_path):
    with fs.FakeSlackWebAPI() as api:
        api.fail_next("auth.test", "invalid_auth")
        done = run_serve(
            tmp_path, SLACK_BOT_TOKEN=fs.BOT_TOKEN, SLACK_SIGNING_SECRET=fs.SIGNING_SECRET, SLACK_API_URL=api.base_url
        )
    assert done.returncode == 2 and "Slack refused the bot token" in done.stderr and "invalid_auth" in done.stderr


# ---- attack 6: hostile bodies. The signature is checked first, on the raw bytes: unsigned or forged
# bodies get 401, signed but malformed ones 400, and neither writes a traceback to the log.

FORM = "application/x-www-form-urlencoded"
HOSTILE = [
    (b"payload=%7Bnot-json", FORM),
    (b"{bad json", "application/json"),
    (b"[1,2,3]", "application/json"),
    (b"\xff\xfe\x00payload=\x80\x81", FORM),
    (b"payload=%5B1%2C2%5D", FORM),
]


def post(bot, body: bytes, content_type: str, signed: bool) -> tuple[int, str]:
    headers = {"Content-Type": content_type}
    if signed:
        ts = str(int(time.time()))
        base = b"v0:" + ts.encode() + b":" + body
        headers["X-Slack-Request-Timestamp"] = ts
        headers["X-Slack-Signature"] = "v0=" + hmac.new(fs.SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
    req = urllib.request.Request(bot.server.url(), data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


@pytest.mark.parametrize(("body", "content_type"), HOSTILE)
def test_an_unsigned_malformed_body_is_401_without_a_traceback(bot, body, content_type):
    before = len(bot.server.log_text())
    status, _ = post(bot, body, content_type, signed=False)
    assert status == 401
    assert "Traceback" not in bot.server.log_text()[before:]


@pytest.mark.parametrize(("body", "content_type"), HOSTILE)
def test_a_signed_malformed_body_is_400_without_a_traceback(bot, body, content_type):
    before = len(bot.server.log_text())
    status, _ = post(bot, body, content_type, signed=True)
    assert status == 400
    assert "Traceback" not in bot.server.log_text()[before:]


def test_signed_payloads_of_the_wrong_shape_are_400_and_nothing_runs(bot):
    before = len(bot.server.log_text())
    event = fs.event_callback(fs.app_mention("restart nginx on web-1", user="UALICE", channel=CHANNEL))
    event["event"] = "restart nginx on web-1"
    assert bot.slack.event(event).status == 400
    click = fs.block_action("approve", "x", user="UBOB", channel=CHANNEL, message={"ts": "1.2"})
    click["actions"] = []
    assert bot.slack.post(fs.interactive_body(click)).status == 400
    bot.settle()
    assert bot.api.calls("chat.postMessage") == []
    assert "Traceback" not in bot.server.log_text()[before:]
