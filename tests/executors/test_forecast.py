"""Forecasts: the robust trend fit on its own, then metrics.forecast end to end against a real Prometheus
whose history was backfilled with promtool (a disk filling linearly for three days, a flat one, growing
LLM traffic), so the expected answers are known in advance."""

from __future__ import annotations

import random
import re
import time
from datetime import UTC, datetime

import pytest

from opsbot.config import Config, Inventory
from opsbot.config.models import PrometheusConfig
from opsbot.core.action import ExecutionContext
from opsbot.core.durations import human_span
from opsbot.core.task import Task
from opsbot.executors import forecast as fc
from opsbot.executors.prometheus.executor import PrometheusExecutor
from opsbot.lab.prometheus import backfill, binaries_missing, start_prometheus
from opsbot.rules.engine import Engine
from opsbot.rules.loader import load_rules
from opsbot.testing import component_missing

DAY = 86400


def line(start: float, per_day: float, days: float, now: float, every: float = 600, noise: float = 0.0, seed: int = 1):
    rnd = random.Random(seed)
    ts = [now - days * DAY + k * every for k in range(int(days * DAY / every) + 1)]
    return ts, [start + per_day * (t - ts[0]) / DAY + rnd.uniform(-noise, noise) for t in ts]


# ---------------------------------------------------------------------------------------------- the fit


def test_a_linear_rise_crosses_the_threshold_when_the_arithmetic_says():
    now = 1_000_000_000.0
    ts, vs = line(40, 10, 3, now)  # 40% -> 70% in 3 days: 30% left at 10%/day
    o = fc.outlook(ts, vs, now, 7 * DAY, 100)
    assert o.crosses_in == pytest.approx(3 * DAY, rel=0.01)
    assert o.per_day == pytest.approx(10, rel=0.01) and o.last == pytest.approx(70)


def test_noise_and_spikes_do_not_tilt_the_trend():
    now = 1_000_000_000.0
    ts, vs = line(40, 10, 3, now, noise=3)
    for i in range(0, len(vs), 37):
        vs[i] = 99.0  # spikes an ordinary least-squares fit would follow
    o = fc.outlook(ts, vs, now, 7 * DAY, 100)
    assert o.crosses_in == pytest.approx(3 * DAY, rel=0.08)


def test_a_cleanup_starts_a_new_trend():
    now = 1_000_000_000.0
    ts1, vs1 = line(50, 15, 2, now - DAY)  # 50 -> 80 over two days, then someone frees space
    ts2, vs2 = line(30, 10, 1, now)  # 30 -> 40 over the last day
    o = fc.outlook(ts1 + ts2[1:], vs1 + vs2[1:], now, 30 * DAY, 100)
    assert o.per_day == pytest.approx(10, rel=0.02)
    assert o.crosses_in == pytest.approx(6 * DAY, rel=0.02)


@pytest.mark.parametrize("per_day", [0.0, -5.0])
def test_a_flat_or_falling_series_never_crosses(per_day):
    now = 1_000_000_000.0
    ts, vs = line(60, per_day, 2, now)
    o = fc.outlook(ts, vs, now, 7 * DAY, 100)
    assert o.crosses_at is None and not o.already


def test_a_series_already_past_the_threshold_says_so():
    now = 1_000_000_000.0
    ts, vs = line(95, 3, 2, now)
    assert fc.outlook(ts, vs, now, 7 * DAY, 100).already


def test_too_little_history_gives_no_forecast():
    now = 1_000_000_000.0
    assert fc.outlook([now - 20, now - 10, now], [1, 2, 3], now, DAY, 100) is None
    assert fc.outlook([now - 600, now], [1, 2], now, DAY, 100) is None


def test_spans_read_like_people_talk():
    assert human_span(9.2 * DAY) == "~9 days"
    assert human_span(5 * 3600) == "~5 hours"
    assert human_span(40 * 60) == "~40 minutes"


# ---------------------------------------------------------------------------------------------- end to end

INVENTORY = {
    "hosts": {
        "db-1": {"address": "127.0.0.1", "groups": ["db"]},
        "db-2": {"address": "127.0.0.1", "groups": ["db"]},
        "web-1": {"address": "127.0.0.1", "services": ["nginx"]},
        "web-3": {"address": "127.0.0.1"},
        "gpu-1": {"address": "127.0.0.1", "services": ["vllm"]},
    },
    "deployments": {"llama-chat": {"host": "gpu-1", "service": "vllm"}},
}


def history(now: int) -> str:
    """Three days at one sample a minute: db-1's disk 40% -> 70%, db-2's flat at 50%, web-1 serving a
    steady 5 req/s, llama-chat's traffic growing from 1 to 4 req/s."""
    out = []
    start = now - 3 * DAY
    a = 3 / (3 * DAY)  # req/s gained per second
    for t in range(start, now + 1, 60):
        x = t - start
        fs = 'fstype="ext4",mountpoint="/"'
        out.append(f'node_filesystem_size_bytes{{host="db-1",{fs}}} 100000000000 {t}')
        out.append(f'node_filesystem_avail_bytes{{host="db-1",{fs}}} {(60 - 30 * x / (3 * DAY)) * 1e9:.0f} {t}')
        out.append(f'node_filesystem_size_bytes{{host="db-2",{fs}}} 100000000000 {t}')
        out.append(f'node_filesystem_avail_bytes{{host="db-2",{fs}}} 50000000000 {t}')
        out.append(f'http_requests_total{{host="web-1",code="200"}} {5 * x} {t}')
        out.append(
            f'vllm:request_success_total{{model_name="llama-chat",finished_reason="stop"}} {x + a * x * x / 2:.3f} {t}'
        )
    return "\n".join(sorted(out, key=lambda s: s.split("{")[0] + s.split("}")[0])) + "\n# EOF\n"


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    missing = binaries_missing("prometheus", "promtool")
    if missing:
        reason = f"needs {', '.join(missing)} (Debian package prometheus)"
        component_missing(reason)
    work = tmp_path_factory.mktemp("prometheus-forecast")
    backfill(work, history(int(time.time())))
    prom = start_prometheus(work, [], rules_yaml="groups: []\n")
    yield prom
    prom.stop()


@pytest.fixture(scope="module")
def ask(prometheus):
    config = Config(inventory=Inventory(**INVENTORY), prometheus=PrometheusConfig(url=prometheus.url))
    engine, executor = Engine(load_rules(), config), PrometheusExecutor(config)

    def ask(**params):
        action = engine.plan(Task(intent="metrics.forecast", params=params)).action
        return executor.run(action, ExecutionContext(config=config))

    yield ask
    executor.close()


def test_a_disk_filling_linearly_is_forecast_full_in_three_days(ask):
    reply = ask(metric="disk", host="db-1")
    assert reply.kind == "result", reply.text
    m = re.fullmatch(
        r"disk on db-1 full in ~(\d+) days \(at (\d{4}-\d\d-\d\d \d\d:\d\d) UTC\); now (\d+)%\.", reply.text
    )
    assert m, reply.text
    assert int(m[1]) == 3 and int(m[3]) == 70
    at = datetime.strptime(m[2], "%Y-%m-%d %H:%M").replace(tzinfo=UTC).timestamp()
    assert abs(at - (time.time() + 3 * DAY)) < 3 * 3600
    assert reply.images[0].png[:8] == b"\x89PNG\r\n\x1a\n"
    row = reply.tables[0].rows[0]
    assert row[:3] == ["db-1", "70%", "+10%/day"]


def test_a_short_horizon_says_the_threshold_is_not_reached(ask):
    reply = ask(metric="disk", host="db-1", horizon="1d")
    assert reply.text.startswith("disk on db-1 is not expected to cross 100% in the next 1d; now 70%, trend +10%/day")


def test_a_flat_disk_is_not_expected_to_fill(ask):
    reply = ask(metric="disk", host="db-2")
    assert reply.text.startswith("disk on db-2 is not expected to cross 100% in the next 7d; now 50%")


def test_a_group_lists_the_host_that_fills_first_first(ask):
    reply = ask(metric="space", host="db")
    first, second = reply.text.splitlines()
    assert first.startswith("disk on db-1 full in ~3 days") and second.startswith("disk on db-2 is not expected")
    assert [r[0] for r in reply.tables[0].rows] == ["db-1", "db-2"]


def test_llm_traffic_is_forecast_per_deployment(ask):
    reply = ask(metric="requests", deployment="llama-chat")
    m = re.fullmatch(
        r"requests on llama-chat: now ([\d.]+) req/s, trend \+([\d.]+) req/s/day, "
        r"~([\d.]+) req/s expected in 7d\.",
        reply.text,
    )
    assert m, reply.text
    assert float(m[1]) == pytest.approx(4, abs=0.1)
    assert float(m[2]) == pytest.approx(1, abs=0.05)
    assert float(m[3]) == pytest.approx(11, abs=0.3)


def test_host_traffic_is_forecast_from_http_requests(ask):
    reply = ask(metric="requests", host="web-1")
    assert reply.text.startswith("requests on web-1: now 5 req/s, trend +0 req/s/day"), reply.text


def test_a_host_without_history_gets_a_sentence(ask):
    reply = ask(metric="disk", host="web-3")
    assert reply.kind == "info" and not reply.images
    assert reply.text == 'No disk data for web-3 in the last 7d — is node_exporter scraped with host="web-3"?'
