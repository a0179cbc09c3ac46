"""The Prometheus executor against a real Prometheus scraping a real node_exporter (and a small vLLM-like
/metrics endpoint), all on loopback ports. Actions come from the real rule packs through the real engine.

One node_exporter stands in for several inventory hosts (web-1, web-2, app.1, appx1); web-2 also has an
nginx target on a port where nothing listens, so it is partly down; db-1 has no targets at all."""

from __future__ import annotations

import re
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from waiting import wait_until

from opsbot.config import Config, Inventory
from opsbot.config.models import PrometheusConfig
from opsbot.core.action import Action, ExecutionContext
from opsbot.core.task import Task
from opsbot.executors.prometheus.executor import PrometheusExecutor
from opsbot.executors.prometheus.series import choose_step
from opsbot.lab.process import free_port
from opsbot.lab.prometheus import binaries_missing, start_node_exporter, start_prometheus
from opsbot.rules.binding import BindError
from opsbot.rules.engine import Engine
from opsbot.rules.loader import load_rules
from opsbot.testing import component_missing

INVENTORY = {
    "hosts": {
        "web-1": {"address": "127.0.0.1", "groups": ["web"], "services": ["nginx"]},
        "web-2": {"address": "127.0.0.1", "groups": ["web"], "services": ["nginx"]},
        "app.1": {"address": "127.0.0.1"},
        "appx1": {"address": "127.0.0.1"},
        "db-1": {"address": "127.0.0.1"},
        "gpu-1": {"address": "127.0.0.1", "services": ["vllm"]},
        "gpu-2": {"address": "127.0.0.1", "services": ["vllm"]},
    },
    "deployments": {
        "llama-chat": {"host": "gpu-1", "service": "vllm"},
        "qwen-7b": {"host": "gpu-2", "service": "vllm"},
    },
}


# Alerting rules whose states follow from the targets above alone (the lab's own rules also watch the
# machine's real disk, which other work on the machine fills and empties): one alert at each severity
# firing, and one that stays pending for the whole run.
ALERT_RULES = """\
groups:
  - name: spec
    rules:
      - alert: LabHeartbeat
        expr: vector(1)
        labels: {severity: info}
        annotations: {summary: Always firing.}
      - alert: HostMemoryAboveLabThreshold
        expr: 100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes) > 1
        labels: {severity: warning}
        annotations: {summary: 'Memory used on {{ $labels.host }} is above 1%.'}
      - alert: TargetDown
        expr: up == 0
        labels: {severity: critical}
        annotations: {summary: '{{ $labels.job }} on {{ $labels.host }} is down.'}
      - alert: SlowBurn
        expr: vector(1)
        for: 1d
        labels: {severity: warning}
        annotations: {summary: Pending until it has held for a day.}
"""
EXPECTED_ALERTS = {
    ("LabHeartbeat", None, "firing"),
    ("SlowBurn", None, "pending"),
    ("TargetDown", "web-2", "firing"),
    ("TargetDown", "gpu-2", "firing"),
    *{("HostMemoryAboveLabThreshold", h, "firing") for h in ("web-1", "web-2", "app.1", "appx1")},
}


def alerts_reported(prom) -> set[tuple]:
    """(name, host, state) of every alert Prometheus reports now."""
    alerts = prom.api("/api/v1/alerts")["alerts"]
    return {(a["labels"]["alertname"], a["labels"].get("host"), a["state"]) for a in alerts}


def need_lab_binaries() -> None:
    missing = binaries_missing()
    if missing:
        reason = f"needs {', '.join(missing)} (Debian packages prometheus, prometheus-node-exporter)"
        component_missing(reason)


class FakeVLLM(BaseHTTPRequestHandler):
    """vLLM's metric names for model_name="llama-chat": 10 successful and 1 aborted request per second,
    latencies 90% under 0.5s and 10% between 1s and 2s, 3 running, 1 waiting, 42% GPU cache."""

    started = time.time()

    def do_GET(self):
        t = time.time() - self.started
        ok, aborted = 10 * t, 1 * t
        n = ok + aborted
        m = 'model_name="llama-chat"'
        body = "\n".join(
            [
                "# TYPE vllm:num_requests_running gauge",
                f"vllm:num_requests_running{{{m}}} 3",
                "# TYPE vllm:num_requests_waiting gauge",
                f"vllm:num_requests_waiting{{{m}}} 1",
                "# TYPE vllm:gpu_cache_usage_perc gauge",
                f"vllm:gpu_cache_usage_perc{{{m}}} 0.42",
                "# TYPE vllm:request_success_total counter",
                f'vllm:request_success_total{{{m},finished_reason="stop"}} {ok}',
                f'vllm:request_success_total{{{m},finished_reason="abort"}} {aborted}',
                "# TYPE vllm:e2e_request_latency_seconds histogram",
                f'vllm:e2e_request_latency_seconds_bucket{{{m},le="0.5"}} {0.9 * n}',
                f'vllm:e2e_request_latency_seconds_bucket{{{m},le="1.0"}} {0.9 * n}',
                f'vllm:e2e_request_latency_seconds_bucket{{{m},le="2.0"}} {n}',
                f'vllm:e2e_request_latency_seconds_bucket{{{m},le="+Inf"}} {n}',
                f"vllm:e2e_request_latency_seconds_sum{{{m}}} {0.4 * n}",
                f"vllm:e2e_request_latency_seconds_count{{{m}}} {n}",
                "",
            ]
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    need_lab_binaries()
    work = tmp_path_factory.mktemp("prometheus-lab")
    node = start_node_exporter(work)
    vllm = ThreadingHTTPServer(("127.0.0.1", 0), FakeVLLM)
    threading.Thread(target=vllm.serve_forever, daemon=True).start()
    nothing = free_port()  # nginx on web-2 and qwen-7b on gpu-2: nobody listens
    targets = [
        {"job": "node", "address": node.address, "labels": {"host": h}} for h in ("web-1", "web-2", "app.1", "appx1")
    ]
    targets += [
        {"job": "nginx", "address": f"127.0.0.1:{nothing}", "labels": {"host": "web-2", "service": "nginx"}},
        {"job": "vllm", "address": f"127.0.0.1:{vllm.server_port}", "labels": {"host": "gpu-1", "service": "vllm"}},
        {"job": "vllm", "address": f"127.0.0.1:{nothing}", "labels": {"host": "gpu-2", "service": "vllm"}},
    ]
    prom = start_prometheus(work, targets, rules_yaml=ALERT_RULES)
    # rates need two scrapes; three samples of everything leave a little slack
    prom.wait_for('count_over_time(node_cpu_seconds_total{mode="idle", cpu="0", host="appx1"}[1m]) >= 3')
    prom.wait_for('count_over_time(vllm:request_success_total{finished_reason="stop"}[1m]) >= 3')
    # rules are evaluated on Prometheus's own clock, which a busy machine slows down
    wait_until(lambda: alerts_reported(prom) == EXPECTED_ALERTS, timeout=120, what="the spec's alerts in place")
    yield prom
    prom.stop()
    node.stop()
    vllm.shutdown()


def config_for(url: str, **prometheus) -> Config:
    return Config(inventory=Inventory(**INVENTORY), prometheus=PrometheusConfig(url=url, **prometheus))


@pytest.fixture(scope="module")
def config(prometheus):
    return config_for(prometheus.url)


@pytest.fixture(scope="module")
def engine(config):
    return Engine(load_rules(), config)


@pytest.fixture(scope="module")
def executor(config):
    ex = PrometheusExecutor(config)
    yield ex
    ex.close()


@pytest.fixture
def ask(engine, executor, config):
    """Plan a task through the real rule engine and run it on the executor."""

    def ask(intent, executor_=None, **params):
        action = engine.plan(Task(intent=intent, params=params)).action
        return (executor_ or executor).run(action, ExecutionContext(config=config))

    return ask


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])


# ---------------------------------------------------------------------------------------------- range charts


@pytest.mark.parametrize("intent", ["metrics.cpu", "metrics.memory", "metrics.disk"])
def test_host_metrics_come_back_as_a_png_chart_and_a_min_avg_max_last_summary(ask, intent):
    reply = ask(intent, host="web-1", window="15m")
    assert reply.kind == "result", reply.text
    assert len(reply.images) == 1
    png = reply.images[0].png
    assert png_size(png) == (800, 360) and len(png) > 5000
    table = reply.tables[0]
    assert table.columns == ["host", "min", "avg", "max", "last"]
    assert [row[0] for row in table.rows] == ["web-1"]
    assert all(cell.endswith("%") for cell in table.rows[0][1:])
    assert re.search(r"on web-1, last 15m: now \d+(\.\d)?% \(min .*, avg .*, max .*\)", reply.text)


def test_a_group_gives_one_line_and_one_summary_row_per_host(ask):
    reply = ask("metrics.memory", host="web")
    assert sorted(row[0] for row in reply.tables[0].rows) == ["web-1", "web-2"]
    assert "2 series" in reply.text and "last 1h" in reply.text


def test_a_host_without_series_gets_a_sentence_not_an_empty_chart(ask):
    reply = ask("metrics.cpu", host="db-1")
    assert reply.kind == "info" and not reply.images
    assert reply.text == 'No data for db-1 in the last 1h — is node_exporter scraped with host="db-1"?'


def test_range_queries_never_ask_for_more_points_than_max_points():
    for window in (60, 300, 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400):
        for max_points in (10, 100, 600, 11000):
            step = choose_step(window, max_points)
            assert window // step + 1 <= max_points


def test_a_window_longer_than_max_range_is_refused_before_prometheus_is_asked(prometheus):
    config = config_for(prometheus.url, max_range="1d")
    ex = PrometheusExecutor(config)
    try:
        action = (
            Engine(load_rules(), config)
            .plan(Task(intent="metrics.query", params={"promql": "up", "window": "2d"}))
            .action
        )
        reply = ex.run(action, ExecutionContext(config=config))
    finally:
        ex.close()
    assert reply.kind == "error"
    assert reply.text == "A 2d window is longer than the 1d Prometheus queries may cover here (prometheus.max_range)."


# ---------------------------------------------------------------------------------------------- label safety


def test_a_host_name_with_a_regex_metacharacter_matches_only_that_host(ask, engine):
    action = engine.plan(Task(intent="metrics.cpu", params={"host": "app.1"})).action
    assert 'host=~"app\\\\.1"' in action.fields["query"]  # escaped: `.` is not "any character"
    reply = ask("metrics.cpu", host="app.1")
    assert [row[0] for row in reply.tables[0].rows] == ["app.1"]  # not appx1, which `app.1` as a regex matches


@pytest.mark.parametrize("host", ['web-1"}) or vector(1) or up{host="x', "web-.*", "web-1|db-1", "app.1\n} or up"])
def test_label_values_that_are_not_inventory_names_never_reach_promql(engine, host):
    with pytest.raises(BindError):
        engine.plan(Task(intent="metrics.cpu", params={"host": host}))


# ---------------------------------------------------------------------------------------------- user PromQL


def test_an_instant_query_gives_a_compact_table_of_labels_and_values(ask):
    reply = ask("metrics.query", promql="up")
    assert reply.kind == "result", reply.text
    table = reply.tables[0]
    assert table.title == "all rows: up"
    assert table.columns == ["host", "instance", "job", "service", "value"]
    rows = {(r[0], r[2]): r[-1] for r in table.rows}
    assert rows[("web-1", "node")] == "1" and rows[("web-2", "nginx")] == "0"
    assert reply.text == "`up` returned 7 series."


def test_an_instant_scalar_query_answers_with_the_value(ask):
    reply = ask("metrics.query", promql="`1 + 1`")
    assert reply.text == "`1 + 1` = 2"


def test_a_query_with_a_window_is_a_range_query_with_a_chart(ask):
    reply = ask("metrics.query", promql='up{job="node"}', window="5m")
    assert reply.kind == "result" and len(reply.images) == 1
    png_size(reply.images[0].png)
    assert sorted(r[0] for r in reply.tables[0].rows) == ["app.1", "appx1", "web-1", "web-2"]


def test_invalid_promql_gets_prometheus_own_parse_error_in_one_sentence(ask):
    reply = ask("metrics.query", promql="rate(up[5m]")
    assert reply.kind == "error"
    assert reply.text == "Prometheus rejected the query: 1:12: parse error: unclosed left parenthesis."


def test_a_query_prometheus_cannot_execute_is_told_apart_from_a_bad_one(ask):
    reply = ask("metrics.query", promql="up + ignoring(instance, job, host, service) up")
    assert reply.kind == "error"
    assert reply.text.startswith("Prometheus could not execute the query: found duplicate series")


@pytest.mark.parametrize(
    "promql, sentence",
    [
        ("rate(up[400d])", "The query looks back 400d, more than the 30d allowed here (prometheus.max_range)."),
        (
            "max_over_time(up[1d:1s])",
            "The subquery [1d:1s] would evaluate 86400 steps; use a resolution of at least 8s.",
        ),
        (
            "up offset 90d",
            "The query reaches back 90d with offset, more than the 30d allowed here (prometheus.max_range).",
        ),
    ],
)
def test_user_promql_cannot_look_back_further_than_max_range(ask, promql, sentence):
    reply = ask("metrics.query", promql=promql)
    assert (reply.kind, reply.text) == ("error", sentence)


def test_promql_that_slips_past_the_rule_is_still_checked_by_the_executor(executor, config):
    def run(query):
        action = Action(
            executor="prometheus",
            intent="metrics.query",
            rule_id="custom",
            fields={"kind": "query", "query": query},
            params={"promql": query},
        )
        return executor.run(action, ExecutionContext(config=config)).text

    assert run("up\n# and then") == "PromQL must be one line without control characters."
    assert run("up" + " or up" * 200) == "That PromQL is 1202 characters; the limit is 1000."
    assert run("  ") == "The PromQL query is empty."


# ---------------------------------------------------------------------------------------------- errors


@pytest.mark.prometheus
def test_a_stopped_prometheus_is_reported_as_not_answering(tmp_path):
    need_lab_binaries()
    prom = start_prometheus(tmp_path, [], rules_yaml="groups: []\n")
    config = config_for(prom.url)
    ex = PrometheusExecutor(config)
    action = Engine(load_rules(), config).plan(Task(intent="alerts.list", params={"severity": "critical"})).action
    try:
        before = ex.run(action, ExecutionContext(config=config))
        prom.stop()
        after = ex.run(action, ExecutionContext(config=config))
    finally:
        prom.stop()
        ex.close()
    assert (before.kind, before.text) == ("info", "No critical alerts firing.")
    assert (after.kind, after.text) == ("error", f"Prometheus at {prom.url} is not answering; is it running?")


def test_a_query_longer_than_the_timeout_is_stopped_by_prometheus(prometheus):
    config = config_for(prometheus.url, timeout=0.000001)
    ex = PrometheusExecutor(config)
    try:
        action = Engine(load_rules(), config).plan(Task(intent="metrics.cpu", params={"host": "web"})).action
        reply = ex.run(action, ExecutionContext(config=config))
    finally:
        ex.close()
    assert reply.kind == "error"
    assert reply.text == (
        "The query ran longer than the 0.001ms allowed (prometheus.timeout) and Prometheus "
        "stopped it; try a shorter window or a simpler query."
    )


@pytest.mark.servers  # a listening socket that never answers
def test_a_prometheus_that_accepts_but_never_answers_times_out(tmp_path):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # the kernel accepts; nobody ever answers
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    config = config_for(url, timeout=0.3)
    ex = PrometheusExecutor(config)
    try:
        action = Engine(load_rules(), config).plan(Task(intent="targets.status", params={})).action
        started = time.monotonic()
        reply = ex.run(action, ExecutionContext(config=config))
        elapsed = time.monotonic() - started
    finally:
        ex.close()
        silent.close()
    assert reply.kind == "error"
    assert reply.text == (f"Prometheus at {url} did not answer within 300ms; try a shorter window or a simpler query.")
    assert elapsed < 60  # gave up on its own deadline: the server would never have answered


# ---------------------------------------------------------------------------------------------- alerts, targets


def test_alerts_list_shows_what_is_firing_most_severe_first(ask):
    reply = ask("alerts.list")
    table = reply.tables[0]
    assert table.columns == ["name", "severity", "state", "since", "summary"]
    rows = [(r[0], r[1], r[2]) for r in table.rows]
    assert sorted(rows[:2]) == [(f"TargetDown ({h})", "critical", "firing") for h in ("gpu-2", "web-2")]
    assert sorted(rows[2:6]) == [
        (f"HostMemoryAboveLabThreshold ({h})", "warning", "firing") for h in ("app.1", "appx1", "web-1", "web-2")
    ]
    assert rows[6:] == [("LabHeartbeat", "info", "firing"), ("SlowBurn", "warning", "pending")]  # pending last
    assert reply.text == "7 alerts firing, 1 pending (2 critical, 4 warning, 1 info)."


@pytest.mark.parametrize(
    "said, severity, text",
    [
        ("critical", "critical", "2 critical alerts firing."),
        ("warn", "warning", "4 warning alerts firing, 1 pending."),
        ("info", "info", "1 info alert firing."),
    ],
)
def test_alerts_can_be_filtered_by_severity(ask, said, severity, text):
    reply = ask("alerts.list", severity=said)
    rows = reply.tables[0].rows
    assert rows and {r[1] for r in rows} == {severity}
    assert reply.text == text


def test_targets_status_of_an_up_host(ask):
    reply = ask("targets.status", host="web-1")
    assert reply.text == "web-1 is up (1 target: node)."


def test_targets_status_names_the_down_target_and_why(ask):
    reply = ask("targets.status", host="web-2")
    assert reply.text == "web-2 is partly down: nginx is down (connection refused); node is up."
    health = {r[1]: r[3] for r in reply.tables[0].rows}
    assert health == {"nginx": "down", "node": "up"}


def test_targets_status_of_a_host_prometheus_does_not_watch(ask):
    reply = ask("targets.status", host="db-1")
    assert reply.text == 'db-1: no scrape target has host="db-1", so Prometheus does not watch it.'


def test_targets_status_without_a_host_summarises_every_target(ask):
    reply = ask("targets.status")
    assert reply.text.startswith("2 of 7 targets down: ")
    assert "web-2 nginx (connection refused)" in reply.text


# ---------------------------------------------------------------------------------------------- LLM deployments


def test_llm_status_of_a_healthy_deployment(ask):
    reply = ask("llm.status", deployment="llama-chat")
    row = reply.tables[0].rows[0]
    cells = dict(zip(reply.tables[0].columns, row, strict=True))
    assert cells["deployment"] == "llama-chat" and cells["up"] == "up"
    assert cells["running"] == "3" and cells["waiting"] == "1" and cells["GPU cache"] == "42%"
    assert cells["success"] == "90.9%"  # 10 stop : 1 abort
    assert cells["p95 latency"] == "1.50 s"  # histogram_quantile inside the 1s..2s bucket
    assert cells["req/s"].endswith("req/s") and cells["req/s"] != "0 req/s"
    assert reply.text.startswith("llama-chat on gpu-1 is up: ")


def test_llm_status_of_all_deployments_flags_the_down_one(ask):
    reply = ask("llm.status")
    assert reply.text.splitlines()[0] == "2 LLM deployments: 1 up, 1 down."
    assert "qwen-7b on gpu-2 is DOWN: its vllm target is failing scrapes." in reply.text
