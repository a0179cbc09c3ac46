"""`GET /metrics` and `GET /ready` of `opsbot serve`, and its JSON log lines: a real `opsbot serve`
subprocess (HTTP mode, SQLite) answers signed Slack requests from the test, the Web API is the local
fake, and the figures are read from the real endpoint afterwards (and scraped by a real Prometheus)."""

from __future__ import annotations

import json
import sqlite3
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families
from waiting import wait_until

from opsbot.testing import fake_slack as fs
from opsbot.testing.serve import ServeProcess, clean_env

pytestmark = pytest.mark.servers  # opsbot serve and the fake Web API

CHANNEL = "C0OPS"
USERS = {"UALICE": "alice", "UBOB": "bob"}


def write_config(directory):
    known_hosts = directory / "known_hosts"
    known_hosts.write_text("")
    closed = 9  # discard: nothing listens, so SSH and Prometheus fail at once
    directory.joinpath("opsbot.yaml").write_text(
        json.dumps(
            {
                "inventory": {
                    "hosts": {
                        h: {"address": "127.0.0.1", "port": closed, "services": ["nginx"], "groups": ["web"]}
                        for h in ("web-1", "web-2")
                    }
                },
                "access": {"users": {"alice": ["operator"], "bob": ["operator", "approver"]}},
                "slack": {"users": USERS},
                "ssh": {"connect_timeout": 2, "command_timeout": 5, "known_hosts": str(known_hosts)},
                "prometheus": {"url": f"http://127.0.0.1:{closed}", "timeout": 2},
                "parser": {"default": "offline"},
            }
        )
    )
    return directory / "opsbot.yaml"


class Bot:
    def __init__(self, server: ServeProcess, api: fs.FakeSlackWebAPI, db: str):
        self.server, self.api, self.db = server, api, db
        self.slack = fs.SignedPoster(server.url(), fs.SIGNING_SECRET)

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.server.url(path), timeout=10) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def metrics(self) -> dict[tuple[str, tuple], float]:
        status, text = self.get("/metrics")
        assert status == 200
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }

    def mention(self, text: str, user: str = "UALICE") -> fs.Call:
        ev = fs.app_mention(text, user=user, channel=CHANNEL)
        assert self.slack.event(fs.event_callback(ev)).status == 200
        [posted] = self.api.wait_for("chat.postMessage", where=lambda c: c.params.get("thread_ts") == ev["ts"])
        return posted

    def settle(self) -> None:
        wait_until(lambda: self.server.health()["pending"] == 0, what="an idle work queue")

    def request_id(self, text: str) -> str:
        with sqlite3.connect(self.db) as conn:
            return conn.execute("SELECT id FROM requests WHERE text = ?", (text,)).fetchone()[0]


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    directory = tmp_path_factory.mktemp("metrics")
    api = fs.FakeSlackWebAPI().start()
    db = directory / "served.db"
    env = clean_env(
        SLACK_BOT_TOKEN=fs.BOT_TOKEN,
        SLACK_SIGNING_SECRET=fs.SIGNING_SECRET,
        SLACK_API_URL=api.base_url,
        OPSBOT_DATABASE_URL=f"sqlite:///{db}",
    )
    server = ServeProcess.start(
        write_config(directory), env, directory / "serve.log", workers=2, extra_args=["--log-format", "json"]
    )
    b = Bot(server, api, str(db))
    # What a team's morning looks like: a question, a metric, a restart approved by a second person,
    # another one left waiting; Slack rate-limits one post and refuses another.
    b.mention("help")
    b.mention("cpu on web-1")
    asked = b.mention("restart nginx on web-2")
    message = dict(api.messages[(CHANNEL, asked.response["ts"])])
    button = fs.find_button(message["blocks"], "approve")
    click = fs.block_action(
        "approve", button["value"], user="UBOB", channel=CHANNEL, message=message, block_id=button["block_id"]
    )
    assert b.slack.interactive(click).status == 200
    api.wait_for("chat.update", where=lambda c: "Approved by bob" in c.params["text"])
    b.mention("restart nginx on web-1")
    api.rate_limit_next("chat.postMessage", retry_after=1)
    b.mention("memory on web-2")
    api.fail_next("chat.postMessage", "channel_not_found")
    ev = fs.app_mention("disk on web-1", user="UALICE", channel=CHANNEL)
    assert b.slack.event(fs.event_callback(ev)).status == 200
    b.settle()
    yield b
    server.stop()
    api.stop()


def test_requests_are_counted_by_front_end_intent_and_outcome(bot):
    m = bot.metrics()
    slack = ("frontend", "slack")
    assert m[("opsbot_requests_total", (slack, ("intent", "help"), ("outcome", "info")))] == 1
    assert m[("opsbot_requests_total", (slack, ("intent", "metrics.cpu"), ("outcome", "error")))] == 1
    assert m[("opsbot_requests_total", (slack, ("intent", "service.restart"), ("outcome", "approval")))] == 2


def test_parse_latency_is_a_histogram_by_parser(bot):
    m = bot.metrics()
    assert m[("opsbot_parse_seconds_count", (("parser", "offline"),))] == 6
    assert m[("opsbot_parse_seconds_sum", (("parser", "offline"),))] > 0


def test_executions_are_counted_by_executor_and_outcome_with_durations(bot):
    m = bot.metrics()
    assert m[("opsbot_executions_total", (("executor", "bot"), ("outcome", "ok")))] == 1  # help
    assert m[("opsbot_executions_total", (("executor", "prometheus"), ("outcome", "failed")))] == 3
    assert m[("opsbot_executions_total", (("executor", "ssh"), ("outcome", "failed")))] == 1
    assert m[("opsbot_execution_seconds_count", (("executor", "ssh"),))] == 1


def test_approvals_pending_and_time_to_decision(bot):
    m = bot.metrics()
    assert m[("opsbot_approvals_pending", ())] == 1
    assert m[("opsbot_approval_decisions_total", (("decision", "approved"),))] == 1
    assert m[("opsbot_approval_decision_seconds_count", ())] == 1


def test_work_queue_and_slack_api_trouble_are_counted(bot):
    m = bot.metrics()
    assert m[("opsbot_work_queue_depth", ())] == 0
    assert m[("opsbot_work_queue_rejections_total", ())] == 0
    assert m[("opsbot_slack_api_retries_total", (("reason", "rate_limited"),))] == 1
    error = (("error", "channel_not_found"), ("method", "chat.postMessage"))
    assert m[("opsbot_slack_api_errors_total", error)] == 1


def test_ready_says_the_database_answers_and_is_migrated(bot):
    status, body = bot.get("/ready")
    assert status == 200 and json.loads(body) == {"ready": True}


def test_json_log_lines_carry_the_stored_request_id(bot):
    lines = [json.loads(line) for line in bot.server.log.read_text().splitlines() if line.strip()]
    answered = [x for x in lines if x.get("intent") == "help" and x["logger"].startswith("opsbot.pipeline")]
    assert answered and answered[0]["request_id"] == bot.request_id("help")
    assert answered[0]["level"] == "INFO" and answered[0]["outcome"] == "info"
    # nothing below WARNING from the libraries (alembic's migration notes, Bolt, slack_sdk)
    assert [x for x in lines if not x["logger"].startswith("opsbot") and x["level"] in ("DEBUG", "INFO")] == []


@pytest.mark.prometheus
def test_a_real_prometheus_scrapes_the_bot(bot, tmp_path):
    from opsbot.lab.prometheus import binaries_missing, start_prometheus
    from opsbot.testing import component_missing

    if binaries_missing():
        component_missing(f"needs {', '.join(binaries_missing())} (Debian package prometheus)")
    address = f"{bot.server.host}:{bot.server.port}"
    prom = start_prometheus(tmp_path, [{"job": "opsbot", "address": address, "labels": {}}], rules_yaml="")
    try:
        [sample] = prom.wait_for('opsbot_requests_total{intent="help", outcome="info"} >= 1')
        assert sample["metric"]["job"] == "opsbot"
    finally:
        prom.stop()


def test_the_grafana_dashboard_plots_only_series_the_bot_exports(bot):
    import re
    from pathlib import Path

    _, text = bot.get("/metrics")
    exported = set()
    for family in text_string_to_metric_families(text):
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}.get(family.type, [""])
        exported |= {family.name + s for s in suffixes}
    dashboard = json.loads((Path(__file__).resolve().parents[2] / "docker/grafana/opsbot-dashboard.json").read_text())
    used = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\bopsbot_[a-z_]+", target["expr"])
    }
    assert len(used) >= 12 and used <= exported, used - exported
